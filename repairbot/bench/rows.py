"""Cases run `jobs` at a time, each result printed as a row as it comes and written as a JSON line."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C")
R = TypeVar("R", bound="DataclassInstance")
log = logging.getLogger(__name__)


INTERNAL = "internal error:"  # a row's error when repairbot itself failed (a bug), not the case's environment


def run_rows(
    cases: Sequence[C],
    run: Callable[[C], R],
    *,
    jobs: int,
    row: Callable[[R], str],
    json_out: Path | None,
    failed: Callable[[C, str], R] | None = None,
) -> list[R]:
    """Run the cases `jobs` at a time; print each result's row as it comes and append it to `json_out`.

    `failed(case, message)`: the row of a case on which repairbot itself raised (a bug): that case says so and
    the others still run. Without it, the exception ends the run."""

    def guarded(case: C) -> R:
        try:
            return run(case)
        except Exception as err:
            if failed is None:
                raise
            log.exception("internal error on a bench case")
            return failed(case, f"{INTERNAL} {type(err).__name__}: {err}")

    results: list[R] = []
    out = json_out.open("w", encoding="utf-8") if json_out else None
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for res in pool.map(guarded, cases):
                results.append(res)
                print(row(res), flush=True)
                if out:
                    out.write(json.dumps(asdict(res)) + "\n")
                    out.flush()
    finally:
        if out:
            out.close()
    return results


class Assessed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def plausible(self) -> bool: ...
    @property
    def exact(self) -> bool: ...
    @property
    def confidence(self) -> str | None: ...


def confidence_line(results: Sequence[Assessed]) -> str:
    """How the assessment rated the chosen patches, and the high ones that are not the reference fix (each
    one is either a correct alternative or a wrong claim at high confidence: inspect them)."""
    plausible = [r for r in results if r.plausible]
    levels = {level: [r for r in plausible if r.confidence == level] for level in ("high", "medium", "low")}
    high_exact = sum(r.exact for r in levels["high"])
    odd = [r.id for r in levels["high"] if not r.exact]
    return (
        f"confidence: high {len(levels['high'])} ({high_exact} exact), medium {len(levels['medium'])} "
        f"({sum(r.exact for r in levels['medium'])} exact), low {len(levels['low'])} "
        f"({sum(r.exact for r in levels['low'])} exact); high but not exact: {', '.join(odd) or 'none'}"
    )
