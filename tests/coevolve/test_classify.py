from __future__ import annotations

from pathlib import Path

from repairbot.bench.cases import make_repo
from repairbot.coevolve.classify import classify
from repairbot.coevolve.extract import extract_changes
from repairbot.models import ChangeSet, TestOutcome
from repairbot.parsing import split_nodeid
from tests.support.runs import run_tests

LIB = "def area(w, h):\n    return w * h\n\n\ndef greet(name):\n    return 'Hello, ' + name\n"
TEST = (
    "from lib import area, greet\n\n\n"
    "def test_area():\n    assert area(2, 3) == 6\n\n\n"
    "def test_greet():\n    assert greet('Ann') == 'Hello, Ann'\n"
)


def changes_for(tmp_path: Path, lib_after: str, lib_before: str = LIB) -> tuple[Path, ChangeSet]:
    root = tmp_path / "r"
    rev = make_repo(
        root,
        {"lib.py": lib_before, "tests/test_lib.py": TEST},
        {"lib.py": lib_after, "tests/test_lib.py": TEST},
    )
    return root, extract_changes(root, rev)


def one(cs: ChangeSet, outcome: TestOutcome, passed: set[str] | None = None) -> tuple[str, str, str]:
    res = classify(
        cs,
        [outcome],
        passed if passed is not None else {outcome.nodeid},
        {"tests/test_lib.py": TEST.encode()},
    )
    c = res[outcome.nodeid]
    return c.kind, c.reason, c.evidence


def fail(nodeid: str, message: str, frames: tuple[tuple[str, int], ...] = ()) -> TestOutcome:
    return TestOutcome(nodeid, "failed", message, message, frames or (("tests/test_lib.py", 5),))


def test_rename_is_obsolete_at_collection(tmp_path: Path) -> None:
    _, cs = changes_for(tmp_path, LIB.replace("def area", "def surface"))
    o = TestOutcome(
        "tests/test_lib.py",
        "error",
        "ImportError: cannot import name 'area' from 'lib'",
        "E   ImportError: cannot import name 'area' from 'lib'",
    )
    kind, reason, evidence = one(cs, o, {"tests/test_lib.py::test_area"})
    assert (kind, reason) == ("obsolete", "rename")
    assert "lib.area" in evidence and "lib.surface" in evidence


def test_missed_rename_inside_the_library_is_a_regression(tmp_path: Path) -> None:
    _, cs = changes_for(tmp_path, LIB.replace("def area", "def surface"))
    o = fail(
        "tests/test_lib.py::test_area",
        "NameError: name 'area' is not defined",
        (("tests/test_lib.py", 5), ("lib.py", 7)),
    )
    assert one(cs, o)[0] == "regression"


def test_old_signature_is_obsolete_but_not_inside_the_library(tmp_path: Path) -> None:
    _, cs = changes_for(tmp_path, LIB.replace("def area(w, h)", "def area(w, h, unit)"))
    msg = "TypeError: area() missing 1 required positional argument: 'unit'"
    assert one(cs, fail("tests/test_lib.py::test_area", msg))[:2] == ("obsolete", "signature")
    inside = fail("tests/test_lib.py::test_area", msg, (("tests/test_lib.py", 5), ("lib.py", 2)))
    assert one(cs, inside)[0] == "regression"


def test_value_change_with_new_literal_is_obsolete(tmp_path: Path) -> None:
    _, cs = changes_for(tmp_path, LIB.replace("'Hello, ' + name", "f'Hello, {name}!'"))
    o = fail("tests/test_lib.py::test_greet", "AssertionError: assert 'Hello, Ann!' == 'Hello, Ann'")
    assert one(cs, o)[:2] == ("obsolete", "value")


def test_mutation_like_change_is_a_regression(tmp_path: Path) -> None:
    _, cs = changes_for(tmp_path, LIB.replace("w * h", "w + h"))
    o = fail("tests/test_lib.py::test_area", "AssertionError: assert 5 == 6")
    kind, _, evidence = one(cs, o)
    assert kind == "regression" and "like a bug" in evidence


def test_mutation_with_docstring_change_is_intended(tmp_path: Path) -> None:
    after = LIB.replace(
        "def area(w, h):\n", "def area(w, h):\n    '''Half-perimeter, not area.'''\n"
    ).replace("w * h", "w + h")
    before = LIB.replace("def area(w, h):\n", "def area(w, h):\n    '''Area.'''\n")
    _, cs = changes_for(tmp_path, after, before)
    assert one(cs, fail("tests/test_lib.py::test_area", "AssertionError: assert 5 == 6"))[:2] == (
        "obsolete",
        "value",
    )


def test_did_not_pass_at_base_is_a_regression(tmp_path: Path) -> None:
    _, cs = changes_for(tmp_path, LIB.replace("def area", "def surface"))
    o = TestOutcome("tests/test_lib.py::test_area", "failed", "NameError: name 'area' is not defined")
    assert one(cs, o, passed=set())[0] == "regression"


def test_unrelated_failure_is_a_regression(tmp_path: Path) -> None:
    _, cs = changes_for(tmp_path, LIB.replace("'Hello, ' + name", "f'Hello, {name}!'"))
    o = fail("tests/test_lib.py::test_area", "ZeroDivisionError: division by zero")
    assert one(cs, o)[0] == "regression"


RAISES_TEST = (
    "import pytest\nfrom lib import check\n\n\n"
    "def test_neg():\n    with pytest.raises(ValueError):\n        check(-1)\n"
)
EXC_LIB = "def check(x):\n    if x < 0:\n        raise ValueError('must be positive')\n    return x\n"


def _exc_case(tmp_path: Path, after: str, test: str) -> tuple[str, str]:
    root = tmp_path / "e"
    files = {"lib.py": EXC_LIB, "tests/test_e.py": test}
    rev = make_repo(root, files, {**files, "lib.py": after})
    cs = extract_changes(root, rev)
    run = run_tests(root)
    failing = [o for o in run.outcomes if not o.ok]
    assert failing, run.output
    res = classify(cs, failing, {o.nodeid for o in failing}, {"tests/test_e.py": test.encode()})
    c = res[failing[0].nodeid]
    return c.kind, c.reason


def test_exception_type_change_is_obsolete(tmp_path: Path) -> None:
    test = RAISES_TEST
    assert _exc_case(tmp_path, EXC_LIB.replace("ValueError", "TypeError"), test) == ("obsolete", "exception")


def test_exception_message_change_is_obsolete(tmp_path: Path) -> None:
    test = (
        "import pytest\nfrom lib import check\n\n\n"
        "def test_neg():\n    with pytest.raises(ValueError, match='positive'):\n        check(-1)\n"
    )
    assert _exc_case(tmp_path, EXC_LIB.replace("must be positive", "x < 0"), test) == ("obsolete", "message")


def test_lost_check_is_a_regression(tmp_path: Path) -> None:
    test = RAISES_TEST
    after = "def check(x):\n    return x\n"
    assert _exc_case(tmp_path, after, test)[0] == "regression"


def test_split_nodeid() -> None:
    assert split_nodeid("tests/t.py::C::test_a[1-2]") == ("tests/t.py", ("C", "test_a"))


DEEP_LIB = (
    "def _cell(v):\n    return str(v)\n\n\n"
    "def _row(vs):\n    return ' | '.join(_cell(v) for v in vs)\n\n\n"
    "def render(rows):\n    return '\\n'.join(_row(r) for r in rows)\n"
)
DEEP_TEST = "from lib import render\n\n\ndef test_render():\n    assert render([[1.5]]) == '1.5'\n"


def _deep(tmp_path: Path, after: str) -> tuple[ChangeSet, TestOutcome]:
    root = tmp_path / "d"
    files = {"lib.py": DEEP_LIB, "tests/test_lib.py": DEEP_TEST}
    rev = make_repo(root, files, {**files, "lib.py": after})
    o = TestOutcome(
        "tests/test_lib.py::test_render",
        "failed",
        "AssertionError: assert '1.50' == '1.5'",
        "",
        (("tests/test_lib.py", 5),),
    )
    return extract_changes(root, rev), o


def test_value_change_two_calls_away_is_reached(tmp_path: Path) -> None:
    cs, o = _deep(tmp_path, DEEP_LIB.replace("return str(v)", "return f'{v:.2f}'"))
    res = classify(cs, [o], {o.nodeid}, {"tests/test_lib.py": DEEP_TEST.encode()})
    assert res[o.nodeid].kind == "obsolete" and "lib._cell" in res[o.nodeid].evidence


def test_coverage_proves_reach_when_names_do_not(tmp_path: Path) -> None:
    cs, o = _deep(tmp_path, DEEP_LIB.replace("return str(v)", "return f'{v:.2f}'"))
    hidden = TestOutcome(o.nodeid, o.outcome, o.message, o.longrepr, o.frames)
    other_test = DEEP_TEST.replace("from lib import render", "import lib as api").replace(
        "render(", "api.run("
    )
    src = {"tests/test_lib.py": other_test.encode()}
    assert classify(cs, [hidden], {o.nodeid}, src)[o.nodeid].kind == "regression"
    cov = {o.nodeid: frozenset({("lib.py", 2)})}
    assert classify(cs, [hidden], {o.nodeid}, src, cov)[o.nodeid].kind == "obsolete"
