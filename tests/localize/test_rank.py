"""Ochiai + traceback + change evidence on a small fixture."""

from __future__ import annotations

from pathlib import Path

from repairbot.localize import Evidence, localize
from repairbot.models import TestOutcome, TestRun


def _run() -> TestRun:
    outcomes = (
        TestOutcome("t.py::test_a", "failed", frames=(("t.py", 3), ("m.py", 4))),
        TestOutcome("t.py::test_b", "passed"),
        TestOutcome("t.py::test_c", "passed"),
    )
    coverage = {
        "t.py::test_a": frozenset({("m.py", 2), ("m.py", 3), ("m.py", 4), ("t.py", 3)}),
        "t.py::test_b": frozenset({("m.py", 2), ("m.py", 3), ("m.py", 6)}),
        "t.py::test_c": frozenset({("m.py", 2), ("m.py", 6)}),
    }
    return TestRun(outcomes, coverage)


def test_ochiai_ranks_the_line_only_failing_tests_run_first() -> None:
    locs = localize(Evidence(_run(), frozenset({"m.py"})))
    assert [(loc.path, loc.line) for loc in locs][:3] == [("m.py", 4), ("m.py", 3), ("m.py", 2)]
    assert locs[0].score == 1.0 and "spectrum" in locs[0].sources and "traceback" in locs[0].sources
    assert all(loc.path == "m.py" for loc in locs)  # test files never hold the fault
    assert ("m.py", 6) not in [(loc.path, loc.line) for loc in locs]  # only passing tests run it


def test_changed_lines_break_ties() -> None:
    run = TestRun((TestOutcome("t.py::test_a", "failed"),),
                  {"t.py::test_a": frozenset({("m.py", 2), ("m.py", 3)})})  # fmt: skip
    plain = localize(Evidence(run, frozenset({"m.py"})))
    assert plain[0].line == 2  # a tie: earlier line first
    changed = localize(Evidence(run, frozenset({"m.py"}), changed_lines={"m.py": frozenset({3})}))
    assert changed[0].line == 3 and "change" in changed[0].sources


def test_statements_merge_their_lines(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(x):\n    return (x +\n            1)\n")
    run = TestRun((TestOutcome("t.py::test_a", "failed"),),
                  {"t.py::test_a": frozenset({("m.py", 2), ("m.py", 3)})})  # fmt: skip
    assert [loc.line for loc in localize(Evidence(run, frozenset({"m.py"})))] == [2, 3]
    locs = localize(Evidence(run, frozenset({"m.py"}), root=tmp_path))
    assert [(loc.line) for loc in locs] == [2]


def test_a_guarding_condition_and_a_record_init(tmp_path: Path) -> None:
    src = (
        "class P:\n    def __init__(self, x):\n        self.x = x\n\n\n"
        "def f(xs):\n    for x in xs:\n        if x:\n            g(x)\n"
    )
    (tmp_path / "m.py").write_text(src)
    covered = frozenset({("m.py", 3), ("m.py", 7), ("m.py", 8), ("m.py", 9)})
    run = TestRun((TestOutcome("t.py::test_a", "failed", frames=(("m.py", 9),)),), {"t.py::test_a": covered})
    locs = {loc.line: loc for loc in localize(Evidence(run, frozenset({"m.py"}), root=tmp_path))}
    assert "control" in locs[8].sources  # the `if` that let execution reach the failing frame
    assert locs[3].score < locs[7].score  # a statement that only stores an argument computes nothing
