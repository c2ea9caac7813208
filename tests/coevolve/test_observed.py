"""Updates driven by the runtime evidence of the failing run (updaters/observed.py), on the shapes real suites
have: several assertions in one test, unittest assert* methods, mocks, match= patterns, assertRaisesRegex,
parametrized rows, enums and named tuples. Each case is a small project whose production code changed on
purpose since its base commit; the pipeline (test updates only) must update the tests as a developer would."""

from __future__ import annotations

from pathlib import Path

from repairbot.bench.cases import make_repo
from repairbot.coevolve.updaters.observed import soft_probe_source
from tests.support.runs import coevolve, run_tests

LIB_BEFORE = '''\
import enum
from collections import namedtuple

Span = namedtuple("Span", "start end")


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


class ConfigError(ValueError):
    pass


def scale(x):
    """Scale a reading (the factor is the calibrated one)."""
    return x * 2


def describe(name):
    """How a reading is shown."""
    return f"{name}: ok"


def span(n):
    """The span of n readings."""
    return (0, n)


def level(x):
    """The alarm level of a reading."""
    return Level.HIGH if x > 10 else Level.LOW


def load(key):
    """Read a configuration key."""
    raise ConfigError(f"unknown key {key}")


def record(logger, x):
    """Log a reading."""
    logger.info("reading %s", x)


def summary(n):
    """What a run did."""
    return f"{n} items processed\\nDone"
'''

LIB_AFTER = '''\
import enum
from collections import namedtuple

Span = namedtuple("Span", "start end")


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


class ConfigError(ValueError):
    pass


def scale(x):
    """Scale a reading (the factor is the new calibration)."""
    return x * 3


def describe(name):
    """How a reading is shown: with its unit."""
    return f"{name} (cm): ok"


def span(n):
    """The span of n readings, as a Span."""
    return Span(1, n + 1)


def level(x):
    """The alarm level of a reading (the threshold is lower now)."""
    return Level.HIGH if x > 5 else Level.LOW


def load(key):
    """Read a configuration key; the error names the file."""
    raise ConfigError(f"unknown key {key!r} in setup.cfg")


def record(logger, x):
    """Log a reading, with its unit."""
    logger.info("reading %s %s", x, "cm", extra={"unit": "cm"})


def summary(n):
    """What a run did, in a sentence."""
    return f"{n} items were processed\\nDone"
'''

TESTS = """\
import unittest
from unittest import mock

import pytest

import lib


def test_several_assertions():
    assert lib.scale(1) == 2
    assert lib.scale(2) == 4
    assert lib.describe("t") == "t: ok"


@pytest.mark.parametrize("x, expected", [(0, 0), (5, 10), (-1, -2)])
def test_rows(x, expected):
    assert lib.scale(x) == expected


def test_named_tuple_and_enum():
    assert lib.span(3) == (0, 3)
    assert lib.level(7) is lib.Level.LOW


def test_match():
    with pytest.raises(lib.ConfigError, match="^unknown key a$"):
        lib.load("a")


def test_mock_call():
    logger = mock.Mock()
    lib.record(logger, 4)
    logger.info.assert_called_once_with("reading %s", 4)


class TestReadings(unittest.TestCase):
    def test_equal(self):
        self.assertEqual(lib.scale(3), 6)
        self.assertEqual("x: ok", lib.describe("x"))

    def test_regex(self):
        with self.assertRaisesRegex(lib.ConfigError, "unknown key b"):
            lib.load("b")


@pytest.fixture
def shown():
    return "y: ok"


def test_fixture(shown):
    assert lib.describe("y") == shown


def check_scaled(x):
    assert lib.scale(x) == 20


def test_helper_once():
    check_scaled(10)


def test_helper_twice():
    check_scaled(10)


def test_part_of_the_output():
    assert "3 items processed" in lib.summary(3)
"""

FIXED = (
    TESTS.replace("lib.scale(1) == 2", "lib.scale(1) == 3")
    .replace("lib.scale(2) == 4", "lib.scale(2) == 6")
    .replace('lib.describe("t") == "t: ok"', 'lib.describe("t") == "t (cm): ok"')
    .replace("(5, 10), (-1, -2)", "(5, 15), (-1, -3)")
    .replace("lib.span(3) == (0, 3)", "lib.span(3) == (1, 4)")
    .replace("lib.Level.LOW", "lib.Level.HIGH")
    .replace('match="^unknown key a$"', "match=r\"^unknown key 'a' in setup\\.cfg$\"")
    .replace('("reading %s", 4)', """("reading %s %s", 4, "cm", extra={'unit': 'cm'})""")
    .replace("lib.scale(3), 6", "lib.scale(3), 9")
    .replace('"x: ok", lib', '"x (cm): ok", lib')
    .replace('return "y: ok"', 'return "y (cm): ok"')
    .replace("lib.scale(x) == 20", "lib.scale(x) == 30")
    .replace('"3 items processed"', '"3 items were processed"')
    .replace('"unknown key b"', "r\"unknown key 'b' in setup\\.cfg\"")
)


def test_every_failing_assertion_is_observed_in_one_probe_run(tmp_path: Path) -> None:
    root = tmp_path / "r"
    base = {"lib.py": LIB_BEFORE, "tests/test_lib.py": TESTS}
    make_repo(root, base, {**base, "lib.py": LIB_AFTER})
    src = TESTS.encode()
    nodeids = ["tests/test_lib.py::test_several_assertions", "tests/test_lib.py::TestReadings::test_equal"]
    probe = soft_probe_source(src, nodeids)
    assert probe is not None and probe.count(b"\n") == src.count(b"\n")  # no line moves
    assert probe.count(b"soft()") == 5  # the assertions of these two tests only
    run = run_tests(root, nodeids, {"tests/test_lib.py": probe})
    lines = {n: sorted(o.line for o in run.outcome(n).observations) for n in nodeids}  # type: ignore[union-attr]
    assert lines == {nodeids[0]: [10, 11, 12], nodeids[1]: [38, 39]}
    assert all(not run.outcome(n).ok for n in nodeids)  # type: ignore[union-attr]


def test_obsolete_tests_of_every_shape_are_updated_from_what_the_new_code_did(tmp_path: Path) -> None:
    root = tmp_path / "r"
    base = {"lib.py": LIB_BEFORE, "tests/test_lib.py": TESTS}
    rev = make_repo(root, base, {**base, "lib.py": LIB_AFTER})
    report = coevolve(root, rev, budget_s=240)
    assert report.status == "fixed" and report.kind == "test", report.to_json()
    assert (root / "tests/test_lib.py").read_text() == FIXED
    assert (root / "lib.py").read_text() == LIB_AFTER  # the intended change stays


def test_a_wrong_change_is_not_written_into_the_tests(tmp_path: Path) -> None:
    """The change looks like a bug (an operator swapped, no sign of intent): the tests stay as they are."""
    root = tmp_path / "r"
    before = "def scale(x):\n    return x * 2\n"
    test = "import lib\n\n\ndef test_scale():\n    assert lib.scale(2) == 4\n    assert lib.scale(3) == 6\n"
    base = {"lib.py": before, "tests/test_lib.py": test}
    rev = make_repo(root, base, {**base, "lib.py": before.replace("*", "+")})
    report = coevolve(root, rev)
    assert report.status != "fixed" or report.kind != "test", report.to_json()
    assert (root / "tests/test_lib.py").read_text() == test


def _edit_at(src: str, nodeid: str, line: int, pair: tuple[str, str]) -> str | None:
    from repairbot.coevolve.updaters.edits import apply_edits
    from repairbot.coevolve.updaters.value import value_edit
    from repairbot.models import TestOutcome

    o = TestOutcome(nodeid, "failed", frames=(("tests/t.py", line),))
    rep, _ = value_edit(src.encode(), o, "tests/t.py", set(), pair=pair)
    return apply_edits(src.encode(), [rep]).decode() if rep is not None else None


def test_the_expected_value_is_updated_where_the_test_defines_it() -> None:
    module = 'EXPECTED = {"a": 1}\n\n\ndef test_a():\n    assert load() == EXPECTED\n'
    assert _edit_at(module, "tests/t.py::test_a", 5, ("{'a': 2}", "{'a': 1}")) == module.replace(
        '{"a": 1}', "{'a': 2}"
    )
    setup = (
        "class T(unittest.TestCase):\n    def setUp(self):\n        self.width = 80\n\n"
        "    def test_w(self):\n        self.assertEqual(size(), self.width)\n"
    )
    assert _edit_at(setup, "tests/t.py::T::test_w", 6, ("100", "80")) == setup.replace("= 80", "= 100")
    # A name the test file does not bind to a literal (imported from the library) is left alone.
    imported = "from lib import DEFAULT\n\n\ndef test_d():\n    assert load() == DEFAULT\n"
    assert _edit_at(imported, "tests/t.py::test_d", 5, ("2", "1")) is None


def test_a_literal_with_an_ellipsis_in_it_is_a_literal_when_the_run_recorded_it_whole() -> None:
    old = "- Target: {'a': {'b'... (len=4)\n- Spec: 'a'\n- Spec: Coalesce('x', 'y') and the rest of it"
    src = f"def test_a():\n    assert show() == {old!r}\n"
    new = old.replace("Coalesce", "First")
    fixed = f"def test_a():\n    assert show() == {new!r}\n"
    assert _edit_at(src, "tests/t.py::test_a", 2, (repr(new), repr(old))) == fixed


def test_a_result_that_became_an_iterator_is_materialized_and_the_expected_value_kept(tmp_path: Path) -> None:
    """Not a change of behaviour: the updated test passes on the old code too, and is still accepted."""
    root = tmp_path / "r"
    before = 'def names():\n    """The names, as a list."""\n    return ["a", "b"]\n'
    after = 'def names():\n    """The names, one at a time."""\n    yield "a"\n    yield "b"\n'
    test = 'import unittest\n\nimport lib\n\n\ndef test_names():\n    assert lib.names() == ["a", "b"]\n\n\n'
    test += "class T(unittest.TestCase):\n    def test_names(self):\n"
    test += '        self.assertEqual(lib.names(), ["a", "b"])\n'
    base = {"lib.py": before, "tests/test_lib.py": test}
    rev = make_repo(root, base, {**base, "lib.py": after})
    report = coevolve(root, rev)
    assert report.status == "fixed" and report.kind == "test", report.to_json()
    fixed = test.replace("lib.names() ==", "list(lib.names()) ==").replace(
        "(lib.names(),", "(list(lib.names()),"
    )
    assert (root / "tests/test_lib.py").read_text() == fixed


def test_a_rename_that_obsoletes_several_test_files_updates_them_together(tmp_path: Path) -> None:
    """Each file alone still leaves the other failing to import; the update of both is one candidate. The
    message that names the renamed class is explained by the rename itself."""
    root = tmp_path / "r"
    lib = 'class {0}(ValueError):\n    """Bad input."""\n\n\ndef check(x):\n    raise {0}(x)\n'
    first = (
        "import pytest\n\nfrom lib import OldError, check\n\n\ndef test_check():\n"
        "    with pytest.raises(OldError) as info:\n        check(1)\n"
        '    assert repr(info.value) == "OldError(1)"\n'
    )
    second = "from lib import OldError\n\n\ndef test_kind():\n    assert issubclass(OldError, ValueError)\n"
    base = {"lib.py": lib.format("OldError"), "tests/test_a.py": first, "tests/test_b.py": second}
    rev = make_repo(root, base, {**base, "lib.py": lib.format("NewError")})
    report = coevolve(root, rev)
    assert report.status == "fixed" and report.kind == "test", report.to_json()
    assert (root / "tests/test_a.py").read_text() == first.replace("OldError", "NewError")
    assert (root / "tests/test_b.py").read_text() == second.replace("OldError", "NewError")


def test_text_explained_by_a_rename() -> None:
    from repairbot.coevolve.updaters import renamed_text
    from repairbot.models import ChangeSet, DefChange, Observation, Value

    rename = DefChange(
        "rename", "pkg.errors.OldError", "pkg.errors.NewError", "pkg/errors.py", "pkg/errors.py", 1, ""
    )
    changes = ChangeSet(base="HEAD~1", changes=(rename,))

    def compared(left: str, right: str) -> tuple[Observation, ...]:
        values = {
            "left": Value(repr(left), "builtins.str", repr(left)),
            "right": Value(repr(right), "str", repr(right)),
        }
        return (Observation("compare", "t.py", 3, "==", values),)

    assert renamed_text(
        compared("pkg.errors.NewError: bad (NewError)", "pkg.errors.OldError: bad (OldError)"), changes
    )
    assert not renamed_text(compared("pkg.errors.NewError: bad", "pkg.errors.OldError: worse"), changes)
    assert not renamed_text(compared("NewErrors", "OldErrors"), changes)  # whole names only
    assert not renamed_text((), changes)
