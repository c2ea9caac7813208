"""Runtime evidence of failures, recorded by repairbot's pytest plugin in a real run (models.Observation)."""

from __future__ import annotations

import pytest

from repairbot.models import RunSpec, TestOutcome, TestRun
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.evidence import observations
from repairbot.testing.runs import parse_test_cmd
from tests.support.projects import write_project

LIB = '''\
import enum
from collections import namedtuple

Pair = namedtuple("Pair", "low high")


class Mode(enum.Enum):
    FAST = 1
    SAFE = 2


class BadValue(ValueError):
    pass


def triple(x):
    return x * 3


def bounds():
    return Pair(1, 2)


def mode():
    return Mode.SAFE


def check(x):
    raise BadValue(f"bad value {x!r} (must be positive)")


def report(logger, x):
    logger.info("value %s from %s", x, "triple", extra={"n": x})
    logger.debug(triple, x)


def tripled(x):
    """
    >>> tripled(2)
    5
    """
    return x * 3
'''

TESTS = """\
import unittest
from unittest import mock

import pytest

import lib


def test_compare():
    expected = 4
    assert lib.triple(2) == expected


def test_named_tuple():
    assert lib.bounds() == (1, 3)


def test_enum():
    assert lib.mode() is lib.Mode.FAST


def test_raises_match():
    with pytest.raises(lib.BadValue, match="bad value 3$"):
        lib.check(3)


def test_mock_call():
    logger = mock.Mock()
    lib.report(logger, 2)
    logger.info.assert_called_once_with("value %s", 2)


def test_mock_function():
    logger = mock.Mock()
    lib.report(logger, 2)
    logger.debug.assert_called_once_with(lib.tripled, 2)


def test_other_exception():
    {}["missing"]


class TestCase(unittest.TestCase):
    def test_equal(self):
        self.assertEqual(lib.triple(2), 5)

    def test_regex(self):
        with self.assertRaisesRegex(lib.BadValue, "bad value 3$"):
            lib.check(3)
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> TestRun:
    tmp = tmp_path_factory.mktemp("evidence")
    ini = "[pytest]\naddopts = --doctest-modules\n"
    root = write_project(tmp / "p", {"lib.py": LIB, "test_lib.py": TESTS, "pytest.ini": ini})
    with LocalSandbox(tmp / "scratch", parse_test_cmd(None), parallel=1) as sb:
        return sb.run(RunSpec(root, timeout_s=120.0))


def _only(run: TestRun, nodeid: str, kind: str):  # type: ignore[no-untyped-def]
    outcome = run.outcome(nodeid)
    assert isinstance(outcome, TestOutcome) and not outcome.ok, nodeid
    found = outcome.observed(kind)
    assert len(found) == 1, outcome.observations
    return found[0]


def test_a_failing_comparison_records_both_values_and_the_names(run: TestRun) -> None:
    o = _only(run, "test_lib.py::test_compare", "compare")
    assert (o.path, o.line, o.op) == ("test_lib.py", 11, "==")
    assert o.values["left"].source == "6" and o.values["right"].source == "4"
    names = _only(run, "test_lib.py::test_compare", "names")
    assert names.values["expected"].source == "4"


def test_values_that_are_not_literals_keep_their_type_and_an_importable_name(run: TestRun) -> None:
    left = _only(run, "test_lib.py::test_named_tuple", "compare").values["left"]
    assert left.type == "lib.Pair" and left.source is None and left.plain == "(1, 2)"
    assert left.repr == "Pair(low=1, high=2)"
    o = _only(run, "test_lib.py::test_enum", "compare")
    assert o.op == "is" and o.values["left"].ref == "lib:Mode.SAFE" and o.values["left"].source is None


def test_an_exception_that_does_not_match_records_its_message_and_the_pattern(run: TestRun) -> None:
    for nodeid in ("test_lib.py::test_raises_match", "test_lib.py::TestCase::test_regex"):
        o = _only(run, nodeid, "raises")
        assert o.op == "BadValue" and o.pattern == "bad value 3$", nodeid
        assert o.values["actual"].type == "lib.BadValue"
        assert o.values["message"].source == "'bad value 3 (must be positive)'"


def test_a_mock_check_records_the_expected_and_the_actual_calls(run: TestRun) -> None:
    o = _only(run, "test_lib.py::test_mock_call", "mock")
    assert o.op == "assert_called_once_with" and o.line == 30
    assert [a.source for a in o.expected[0].args] == ["'value %s'", "2"]
    (actual,) = o.calls
    assert [a.source for a in actual.args] == ["'value %s from %s'", "2", "'triple'"]
    assert actual.kwargs["extra"].source == "{'n': 2}"
    (debug,) = _only(run, "test_lib.py::test_mock_function", "mock").calls
    assert debug.args[0].ref == "lib:triple" and "lib.triple" in debug.args[0].names


def test_a_unittest_assert_method_records_its_arguments(run: TestRun) -> None:
    o = _only(run, "test_lib.py::TestCase::test_equal", "assert_method")
    assert (o.op, o.line) == ("assertEqual", 45)
    assert o.values["first"].source == "6" and o.values["second"].source == "5"


def test_a_doctest_records_what_it_wanted_and_what_it_got(run: TestRun) -> None:
    o = _only(run, "lib.py::lib.tripled", "doctest")
    assert o.path == "lib.py" and o.op == "tripled(2)" and o.line == 39
    assert o.values["want"].source == "'5\\n'" and o.values["got"].source == "'6\\n'"


def test_any_other_exception_is_recorded_with_its_type(run: TestRun) -> None:
    o = _only(run, "test_lib.py::test_other_exception", "exception")
    assert o.op == "builtins.KeyError" and o.values["message"].source == "\"'missing'\""


def test_malformed_evidence_is_dropped_not_an_error() -> None:
    good = {"kind": "compare", "line": "x", "values": {"left": {"repr": "1", "type": "builtins.int"}}}
    read = observations([good, {"kind": 3}, "junk", {"kind": "mock", "calls": [{"args": [{"bad": 1}]}]}])
    assert [o.kind for o in read] == ["compare", "mock"]
    assert read[0].line == 0 and read[0].values["left"].repr == "1" and read[1].calls == ()
    assert observations(None) == () and observations({"kind": "compare"}) == ()
