"""Staged validation against the real fork-server runner: verdicts, and the limits candidates run under."""

from __future__ import annotations

from pathlib import Path

import pytest

from repairbot.models import Candidate, Edit, RunSpec, Snapshot, TestRun
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.runs import parse_test_cmd
from repairbot.validate import Baseline, Gate, Validator
from repairbot.workspace import Workspace
from tests.support.projects import write_project

# The correct code is slow for big inputs; the bug fails fast, so the baseline knows only fast tests.
SLOW_FIX = {
    "scale.py": "import time\n\n\ndef double_positive(x):\n    if x < 0:\n        if x > 50:\n"
    "            time.sleep(0.8)\n        return 2 * x\n    return x\n",
    "test_scale.py": "from scale import double_positive\n\n\n"
    "def test_zero():\n    assert double_positive(0) == 0\n\n\n"
    "def test_small():\n    assert double_positive(3) == 6\n\n\n"
    "def test_big():\n    assert double_positive(100) == 200\n",
}


class _Counting:
    """The real sandbox, counting the runs it is asked for."""

    def __init__(self, sandbox: LocalSandbox) -> None:
        self.sandbox = sandbox
        self.specs: list[RunSpec] = []

    def run(self, spec: RunSpec) -> TestRun:
        self.specs.append(spec)
        return self.sandbox.run(spec)


def _flip(root: Path, old: bytes, new: bytes) -> Candidate:
    data = (root / "scale.py").read_bytes()
    start = data.index(old)
    return Candidate((Edit("scale.py", start, start + len(old), new),), "rules", "comparison-operator", 1.0)


@pytest.fixture
def setup(tmp_path: Path):
    root = write_project(tmp_path / "p", SLOW_FIX)
    with LocalSandbox(tmp_path / "scratch", parse_test_cmd(None), parallel=1) as sb:
        run = sb.run(RunSpec(root, timeout_s=60))
        assert sorted(run.failing) == ["test_scale.py::test_big", "test_scale.py::test_small"]
        workspace = Workspace(root, tmp_path / "ws", 1)
        yield root, sb, workspace, run


def test_a_slow_correct_fix_gets_the_jobs_patience(setup) -> None:
    root, sb, workspace, run = setup
    baseline = Baseline(run, ("test_scale.py",), 0.25, 20.0, patient_per_test_s=10.0, patient_suite_s=60.0)
    counting = _Counting(sb)
    cand = _flip(root, b"x < 0", b"x > 0")
    verdict = Validator(counting, workspace, baseline, Gate()).validate_one(Snapshot(root), cand)  # type: ignore[arg-type]
    assert verdict.status == "plausible", verdict
    assert [s.per_test_timeout_s for s in counting.specs] == [0.25, 10.0]


def test_without_patience_the_slow_fix_is_only_partial(setup) -> None:
    root, sb, workspace, run = setup
    baseline = Baseline(run, ("test_scale.py",), 0.25, 20.0)
    verdict = Validator(sb, workspace, baseline, Gate()).validate_one(
        Snapshot(root), _flip(root, b"x < 0", b"x > 0")
    )
    assert verdict.status == "partial" and verdict.fixed == ("test_scale.py::test_small",), verdict


def test_a_candidate_that_fixes_nothing_gets_no_second_run(setup) -> None:
    root, sb, workspace, run = setup
    baseline = Baseline(run, ("test_scale.py",), 0.25, 20.0, patient_per_test_s=10.0, patient_suite_s=60.0)
    # Both failing tests now hang: no failing test passes, so nothing earns the long limit.
    cand = _flip(root, b"return 2 * x", b"while True:\n            pass")
    counting = _Counting(sb)
    verdict = Validator(counting, workspace, baseline, Gate()).validate_one(Snapshot(root), cand)  # type: ignore[arg-type]
    assert verdict.status in ("timeout", "failed"), verdict
    assert [s.per_test_timeout_s for s in counting.specs] == [0.25]


def test_second_runs_take_at_most_a_share_of_the_validation_time(setup) -> None:
    root, sb, workspace, run = setup
    baseline = Baseline(run, ("test_scale.py",), 0.25, 20.0, patient_per_test_s=10.0, patient_suite_s=60.0)
    counting = _Counting(sb)
    validator = Validator(counting, workspace, baseline, Gate())  # type: ignore[arg-type]
    first = validator.validate_one(Snapshot(root), _flip(root, b"x < 0", b"x > 0"))
    assert first.status == "plausible" and len(counting.specs) == 2
    # At once another slow fix: the first second run took most of the time so far, so this one gets none.
    second = validator.validate_one(Snapshot(root), _flip(root, b"x < 0", b"x >= 0"))
    assert second.status == "partial", second
    assert [s.per_test_timeout_s for s in counting.specs[2:]] == [0.25]
