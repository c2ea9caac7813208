"""Test co-evolution: the changes since a base revision are intended, so a failing test may be obsolete (it
checks behaviour changed on purpose) rather than a regression; obsolete tests are updated, never weakened.

Entry point: `analyze(...)` → a ChangeAnalysis (what changed, each failing test's classification), once per
job. The analysis travels to the "tests" generator (`TestsGenerator`, updaters by kind in `updaters/`) in the
GenerationContext; `weakening` and `review_update` guard every update before and after it is validated.
"""

from __future__ import annotations

from repairbot.coevolve.analyze import analyze
from repairbot.coevolve.guards import review_update, weakening
from repairbot.coevolve.updaters import TestsGenerator

__all__ = ["TestsGenerator", "analyze", "review_update", "weakening"]
