from __future__ import annotations

import pytest

from repairbot.coevolve.guards import (
    BaseCheckPlan,
    base_check_plan,
    check_base_run,
    check_not_weakened,
    coverage_not_dropped,
)
from repairbot.models import ChangeSet, Classification, DefChange, TestOutcome, TestRun
from repairbot.parsing.definitions import definitions

ORIGINAL = b"""import pytest
import unittest
from lib import f


def test_value():
    assert f(2) == 4


def test_raises():
    with pytest.raises(ValueError, match="bad"):
        f(-1)


class T(unittest.TestCase):
    def test_eq(self):
        self.assertEqual(f(3), 6)
"""


def test_a_faithful_update_passes() -> None:
    updated = ORIGINAL.replace(b"== 4", b"== 5").replace(b"ValueError", b"TypeError")
    assert check_not_weakened(ORIGINAL, updated) is None


@pytest.mark.parametrize(
    "old, new, reason",
    [
        (b"def test_value():\n    assert f(2) == 4\n", b"", "deletes test test_value"),
        (b"    assert f(2) == 4\n", b"    f(2)\n", "removes an assertion"),
        (b"assert f(2) == 4", b"assert f(2) == f(2)", "tautology"),
        (b"assert f(2) == 4", b"assert True", "tautology"),
        (b"self.assertEqual(f(3), 6)", b"self.assertEqual(f(3), f(3))", "tautology"),
        (b"pytest.raises(ValueError,", b"pytest.raises(Exception,", "catch-all"),
        (
            b'with pytest.raises(ValueError, match="bad"):\n        f(-1)',
            b"try:\n        f(-1)\n    except:\n        pass\n    assert 1 == 1",
            "catch-all|assertion|tautology",
        ),
        (b', match="bad"', b"", "drops a match= pattern"),
        (b"def test_value():", b"@pytest.mark.skip\ndef test_value():", "skip"),
        (b"assert f(2) == 4", b"assert f(2) == (4", "does not parse"),
    ],
)
def test_weakening_is_refused(old: bytes, new: bytes, reason: str) -> None:
    assert old in ORIGINAL
    got = check_not_weakened(ORIGINAL, ORIGINAL.replace(old, new))
    assert got is not None
    assert any(r in got for r in reason.split("|")), got


def _cls(reason: str) -> Classification:
    return Classification("tests/test_x.py::test_value", "obsolete", "why", None, reason)


def test_base_check_plan_only_for_behavioural_updates() -> None:
    files = {"tests/test_x.py": b"..."}
    assert base_check_plan({"tests/test_x.py::test_value": _cls("rename")}, files) is None
    plan = base_check_plan({"tests/test_x.py::test_value": _cls("value")}, files)
    assert plan == BaseCheckPlan(files=files, nodeids=("tests/test_x.py::test_value",))
    assert base_check_plan({"tests/test_y.py::test_value": _cls("value")}, files) is None


def test_check_base_run() -> None:
    plan = BaseCheckPlan(files={}, nodeids=("t.py::a",))
    failed = TestRun(outcomes=(TestOutcome("t.py::a", "failed"),))
    passed = TestRun(outcomes=(TestOutcome("t.py::a", "passed"),))
    assert check_base_run(plan, failed) is None
    reason = check_base_run(plan, passed)
    assert reason is not None and "passes on the base revision" in reason


def test_coverage_not_dropped() -> None:
    src = b"def f(x):\n    if x:\n        return 1\n    return 2\n"
    d = definitions(src, "lib.py")["f"]
    cs = ChangeSet(
        base="HEAD",
        changes=(DefChange("return", "lib.f", "lib.f", "lib.py", "lib.py", 1, "", d, d),),
        changed_lines={"lib.py": {3, 4}},
    )
    before = TestRun(coverage={"t.py::a": frozenset({("lib.py", 1), ("lib.py", 2), ("lib.py", 3)})})
    same = TestRun(coverage={"t.py::a": frozenset({("lib.py", 3), ("lib.py", 4)})})
    less = TestRun(coverage={"t.py::a": frozenset({("lib.py", 4)})})
    assert coverage_not_dropped(cs, before, same, ["t.py::a"]) is None
    reason = coverage_not_dropped(cs, before, less, ["t.py::a"])
    assert reason is not None and "lib.py:3" in reason
    # No coverage measured: nothing to say.
    assert coverage_not_dropped(cs, TestRun(), less, ["t.py::a"]) is None
