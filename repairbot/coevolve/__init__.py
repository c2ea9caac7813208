"""Change awareness for test co-evolution: what changed since a base revision, and which failing tests are
obsolete (they check behaviour changed on purpose) rather than regressions.

Pipeline call sequence (see each function's docstring):
    base = job.base or default_base(root)                        # None: no co-evolution
    changes = extract_changes(root, base)                        # once per job
    materialize(root, base, scratch / "base"); run the suite there → passed_at_base (node ids)
    classes = classify(changes, failing, passed_at_base, test_sources, coverage=run.coverage)
    ctx.extras.update(changes=changes, classifications=classes, passed_at_base=passed_at_base,
                      run_tests=<hook>)                           # read by the "tests" generator
    for each validated test candidate: check_not_weakened(original, updated) → reject when not None;
      plan = base_check_plan(classes, updated_files) → run plan.nodeids on the base tree with plan.files
      overlaid → check_base_run(plan, run) → reject when not None;
      coverage_not_dropped(changes, before_run, after_run, nodeids) → reject when not None.
"""

from __future__ import annotations

from repairbot.coevolve.classify import classify
from repairbot.coevolve.extract import default_base, extract_changes, materialize
from repairbot.coevolve.guards import (
    BaseCheckPlan,
    base_check_plan,
    check_base_run,
    check_not_weakened,
    coverage_not_dropped,
)
from repairbot.coevolve.records import ChangeSet, Classification, DefChange, SignatureDiff

__all__ = [
    "BaseCheckPlan",
    "ChangeSet",
    "Classification",
    "DefChange",
    "SignatureDiff",
    "base_check_plan",
    "check_base_run",
    "check_not_weakened",
    "classify",
    "coverage_not_dropped",
    "default_base",
    "extract_changes",
    "materialize",
]
