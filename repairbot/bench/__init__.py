"""The engine side of `repairbot bench` (DESIGN §6): benchmark cases, how they are materialized, repaired and
scored. Benchmark data lives in the repository's `bench/`; measurement scripts in `benchmarks/`."""

from __future__ import annotations

from repairbot.bench.run import run_bench

__all__ = ["run_bench"]
