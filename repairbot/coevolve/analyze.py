"""What changed on purpose since a base revision, and which failing tests that made obsolete."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from repairbot.coevolve.classify import classify
from repairbot.coevolve.extract import default_base, extract_changes, materialize
from repairbot.errors import RepairbotError
from repairbot.models import ChangeAnalysis, TestRun


def analyze(
    root: Path,
    base: str | None,
    run: TestRun,
    tests: Mapping[str, bytes],
    base_dir: Path,
    run_at_base: Callable[[Path], TestRun],
    say: Callable[[str], None],
) -> tuple[ChangeAnalysis, str] | None:
    """The change analysis of the git repository `root` and a note for the report, or None.

    `base` None: the last commit (or the uncommitted edits) is presumed intended, and only when the failing
    tests of `run` passed before it; a problem with the history then means no analysis rather than an error.
    `tests`: the test files' sources; `run_at_base(tree)` runs the suite on the base revision, materialized
    into `base_dir`.
    """
    presumed = base is None
    if base is None:
        base = default_base(root)
        if base is None:
            return None
    try:
        changes = extract_changes(root, base)
    except RepairbotError:
        if presumed:
            return None
        raise
    say(f"running the tests at {base} (the changes since are intended)")
    base_tree = materialize(root, base, base_dir)
    passed_at_base = frozenset(run_at_base(base_tree).passing)
    failing = tuple(o for o in run.outcomes if not o.ok)
    if presumed and not any(o.nodeid in passed_at_base for o in failing):
        return None  # the tests did not pass before the last commit either: nothing says it was intended
    classes = classify(changes, failing, passed_at_base, tests, coverage=run.coverage)
    analysis = ChangeAnalysis(changes, classes, passed_at_base, run, base_tree)
    what = base
    if presumed:
        what = "the last commit" if base == "HEAD~1" else "the uncommitted changes"
    note = (
        f"changes since {base} treated as intended ({what}); {len(analysis.obsolete)} of "
        f"{len(failing)} failing test(s) judged obsolete"
    )
    return analysis, note
