"""From evidence to a confidence: high only when every check passed; low on an anti-pattern or a new crash."""

from __future__ import annotations

from repairbot.assess.antipatterns import Finding
from repairbot.assess.behaviour import Call, ProbeResult
from repairbot.assess.changes import all_changes
from repairbot.assess.judge import Evidence, assessment, disagreements
from repairbot.models import Exploration

CHANGES = tuple(
    all_changes({"lib.py": b"def f(x):\n    return x\n"}, {"lib.py": b"def f(x):\n    return x + 1\n"})
)
SEARCHED = Exploration(validated_after_first=25)
FAILING = "test_lib.py::test_bug"


def _call(source: str, given: str, orig: str, patched: str, test: str = "", status: str = "return") -> Call:
    return Call(
        "lib.py::f", source, test, given, f"id-{given}",
        {"status": "return", "value": orig}, {"status": status, "value": patched},
        f"{status}:{patched}", orig == patched and status == "return", False,
    )  # fmt: skip


def _evidence(*calls: Call, findings: tuple[Finding, ...] = ()) -> Evidence:
    return Evidence("code", CHANGES, findings, ProbeResult(True, calls, ("lib.py::f",)), "")


def _is_failing(test: str) -> bool:
    return test == FAILING


GOOD = (
    _call("observed", "1", "1", "2", FAILING),
    _call("observed", "0", "0", "0", "test_lib.py::test_zero"),
    _call("generated", "5", "5", "6"),
)


def test_every_check_passing_is_high() -> None:
    a = assessment(_evidence(*GOOD), [], SEARCHED, 0, _is_failing)
    assert a.confidence == "high", a.reasons
    assert [c.status for c in a.checks] == ["ok"] * 5


def test_an_anti_pattern_is_low() -> None:
    finding = Finding("constant-return", "lib.py::f", "`return x` became `return 2`")
    a = assessment(_evidence(*GOOD, findings=(finding,)), [], SEARCHED, 0, _is_failing)
    assert a.confidence == "low" and a.anti_patterns == ("constant-return",)
    assert "replaces a computed return value with a constant in `f`" in a.reasons[0]


def test_a_new_exception_on_a_generated_input_is_low() -> None:
    crash = _call("generated", "-1", "-1", "IndexError", status="raise")
    a = assessment(_evidence(*GOOD, crash), [], SEARCHED, 0, _is_failing)
    assert a.confidence == "low"
    assert any("f(-1)" in e and "raises IndexError" in e for c in a.checks for e in c.examples)


def test_an_exception_the_failing_tests_demand_is_no_crash() -> None:
    demanded = _call("observed", "-3", "-3", "ValueError", FAILING, status="raise")
    same_kind = _call("generated", "-1", "-1", "ValueError", status="raise")
    a = assessment(_evidence(demanded, *GOOD[1:], same_kind), [], SEARCHED, 0, _is_failing)
    assert a.confidence == "high", a.reasons


def test_doubts_are_medium() -> None:
    moved = _call("observed", "0", "0", "9", "test_lib.py::test_zero")
    only_tests = (GOOD[0], _call("generated", "1", "1", "2"))
    for calls, exploration in (
        ((GOOD[0], moved, GOOD[2]), SEARCHED),  # a passing test's call behaves differently
        (GOOD, Exploration(validated_after_first=2, cut_by_budget=True)),  # alternatives not searched
        ((GOOD[1], GOOD[2]), SEARCHED),  # the failing tests never reach the changed code
        (only_tests, SEARCHED),  # the change shows only on the failing test's own input
    ):
        a = assessment(_evidence(*calls), [], exploration, 0, _is_failing)
        assert a.confidence == "medium", (calls, a.reasons)


def test_no_probe_is_medium_at_best() -> None:
    ev = Evidence("code", CHANGES, (), None, "the test command is not pytest")
    a = assessment(ev, [], SEARCHED, 0, _is_failing)
    assert a.confidence == "medium" and "not run: the test command is not pytest" in a.reasons[0]


def test_disagreeing_patches_show_the_input_and_are_medium() -> None:
    other = (_call("observed", "1", "1", "2", FAILING), _call("generated", "5", "5", "7"))
    found = disagreements([_evidence(*GOOD), _evidence(*other)])
    assert [(d.other, d.input, d.this, d.that) for d in found[0]] == [(1, "5", "returns 6", "returns 7")]
    a = assessment(_evidence(*GOOD), found[0], SEARCHED, 1, _is_failing)
    assert a.confidence == "medium" and a.disagreements == tuple(found[0])
    assert "`f(5)`: this patch returns 6, the other returns 7" in a.checks[-1].examples


def test_a_test_update_keeps_co_evolutions_judgement() -> None:
    ev = Evidence("test", (), (), None, "")
    assert assessment(ev, [], Exploration(), 0, _is_failing).confidence == "high"
