from __future__ import annotations

import json
from pathlib import Path

import pytest

from repairbot.bench.cases import make_repo, materialize_repo
from repairbot.bench.coevolution import load_coevolution_cases as load_cases
from repairbot.bench.coevolution import normalized_ast
from repairbot.coevolve.analyze import analyze
from repairbot.coevolve.classify import classify
from repairbot.coevolve.extract import extract_changes
from repairbot.coevolve.updaters import TestsGenerator
from repairbot.coevolve.updaters.edits import apply_edits
from repairbot.coevolve.updaters.exception import regex_escape
from repairbot.coevolve.updaters.rename import rename_edits
from repairbot.coevolve.updaters.signature import signature_edits
from repairbot.coevolve.updaters.value import format_like, observed_pair, probe_source
from repairbot.models import ChangeAnalysis, GenerationContext, Job, Snapshot, TestOutcome, TestRun
from tests.support.runs import coevolve, run_tests

CASES = Path(__file__).resolve().parents[2] / "bench" / "coevolution" / "cases.jsonl"


@pytest.mark.parametrize(
    "err, pair",
    [
        ("E       assert 5 == 4\nE        +  where 5 = f(2)", ("5", "4")),
        ("AssertionError: assert 'a == b' == 'x'", ("'a == b'", "'x'")),
        ("AssertionError: [1, 2] != [1, 3]", ("[1, 2]", "[1, 3]")),
        (
            "AssertionError: Lists differ: [1, 2] != [1, 3]\n\nFirst differing element 1:",
            ("[1, 2]", "[1, 3]"),
        ),
        ("E       assert 13.88 == 50.0 ± 5.0e-05", ("13.88", "50.0 ± 5.0e-05")),
        ('AssertionError: REPAIRBOT_OBSERVED "[1, 2, 3]"', ("[1, 2, 3]", "")),
    ],
)
def test_observed_pair(err: str, pair: tuple[str, str]) -> None:
    assert observed_pair(err) == pair


def test_observed_pair_refuses_truncated_reprs() -> None:
    assert observed_pair("E       assert [1, 2, ...] == [1, 2, 3]") is None
    assert observed_pair("E       assert <Obj at 0x1> == 3") is None


def test_format_like_keeps_the_quoting_style() -> None:
    assert format_like("it's", '"old"') == '"it\'s"'
    assert format_like("ab", '"old"') == '"ab"'
    assert format_like("ab", "'old'") == "'ab'"
    assert format_like("a\nb", '"""x\ny"""') == '"""a\nb"""'
    assert format_like(2.5, "3.0") == "2.5"
    assert regex_escape("x (1.0) -1") == r"x \(1\.0\) -1"


def _change(tmp_path: Path, before: str, after: str):  # type: ignore[no-untyped-def]
    rev = make_repo(tmp_path / "r", {"lib.py": before}, {"lib.py": after})
    return extract_changes(tmp_path / "r", rev)


def test_rename_edits_are_byte_exact_and_keep_crlf(tmp_path: Path) -> None:
    cs = _change(tmp_path, "def old(x):\n    return x\n", "def new(x):\n    return x\n")
    c = cs.of_kind("rename")[0]
    src = b"from lib import old  # keep me\r\n\r\ndef test_a():\r\n    assert old(1) == 1  # old comment\r\n"
    out = apply_edits(src, rename_edits(src, c))
    assert out == src.replace(b"import old ", b"import new ").replace(b"assert old(", b"assert new(")


def test_signature_edits(tmp_path: Path) -> None:
    cs = _change(
        tmp_path,
        "def f(a, b, width=1, verbose=False):\n    return a\n",
        "def f(a, b, size, max_width=1):\n    return a\n",
    )
    c = cs.of_kind("signature")[0]
    src = b"x = f(1, 2, width=3, verbose=True)\ny = f(1, 2)\n"
    out = apply_edits(src, signature_edits(src, c, {"size": ("10", True)}))
    assert out == b"x = f(1, 2, max_width=3, size=10)\ny = f(1, 2, size=10)\n"


def _ctx(root: Path, failing: list[TestOutcome], analysis: ChangeAnalysis | None) -> GenerationContext:
    tests = tuple(p.relative_to(root).as_posix() for p in (root / "tests").rglob("*.py"))
    return GenerationContext(
        job=Job(root=root),
        snapshot=Snapshot(root),
        locations=(),
        source_files=("lib.py",),
        test_files=tests,
        failing=tuple(failing),
        limit=10,
        changes=analysis,
    )


def _analysis(root: Path, rev: str) -> ChangeAnalysis:
    """The change analysis of `root` since `rev` as the pipeline makes it (through the local sandbox)."""
    tests = {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "tests").rglob("*.py")}
    found = analyze(root, rev, run_tests(root), tests, root.parent / "at-base", run_tests, lambda _m: None)
    assert found is not None
    return found[0]


def _changed_lib(root: Path, test: str, before: str, after: str) -> tuple[list[TestOutcome], ChangeAnalysis]:
    """A repository whose lib.py changed from `before` to `after` since its base: the failing tests and the
    change analysis."""
    base = {"lib.py": before, "tests/test_lib.py": test}
    rev = make_repo(root, base, {**base, "lib.py": after})
    return [o for o in run_tests(root).outcomes if not o.ok], _analysis(root, rev)


def test_generator_updates_a_value_and_the_updated_test_passes(tmp_path: Path) -> None:
    root = tmp_path / "r"
    test = 'from lib import greet\n\n\ndef test_greet():\n    assert greet("Ann") == "Hello, Ann"\n'
    before, after = "def greet(n):\n    return 'Hello, ' + n\n", "def greet(n):\n    return f'Hello, {n}!'\n"
    failing, analysis = _changed_lib(root, test, before, after)
    cands = list(TestsGenerator().generate(_ctx(root, failing, analysis)))
    assert len(cands) == 1 and cands[0].kind == "test" and cands[0].generator == "tests"
    assert "obsolete" in cands[0].evidence or "asserts an old value" in cands[0].evidence
    edit = cands[0].edits[0]
    new = apply_edits((root / edit.path).read_bytes(), cands[0].edits)
    assert new == test.replace('"Hello, Ann"', '"Hello, Ann!"').encode()
    (root / edit.path).write_bytes(new)
    assert not [o for o in run_tests(root).outcomes if not o.ok]


def test_generator_leaves_regressions_alone(tmp_path: Path) -> None:
    root = tmp_path / "r"
    test = "from lib import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    failing, analysis = _changed_lib(
        root, test, "def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a - b\n"
    )
    assert failing
    assert list(TestsGenerator().generate(_ctx(root, failing, analysis))) == []
    # Without a change analysis the generator has nothing to go on.
    assert list(TestsGenerator().generate(_ctx(root, failing, None))) == []


def test_probe_reports_the_actual_value_through_the_run_tests_hook(tmp_path: Path) -> None:
    root = tmp_path / "r"
    test = "from lib import big\n\n\ndef test_big():\n    assert big() == list(range(3))\n"
    base = {"lib.py": "def big():\n    return list(range(3))\n", "tests/test_lib.py": test}
    rev = make_repo(root, base, {**base, "lib.py": "def big():\n    return list(range(40))\n"})
    failing = [o for o in run_tests(root).outcomes if not o.ok]
    probe = probe_source(test.encode(), failing[0], "tests/test_lib.py")
    assert probe is not None and b"REPAIRBOT_OBSERVED" in probe
    (root / "tests/test_lib.py").write_bytes(probe)
    res = run_tests(root).outcomes[0]
    obs = observed_pair(res.message + "\n" + res.longrepr)
    assert obs is not None and json.loads(json.dumps(obs[0])) == repr(list(range(40)))
    _ = rev, classify


KINDS = [
    "move-function-unittest",
    "sig-add-required-unittest",
    "sig-reorder-pytest",
    "return-parametrize-pytest",
    "exception-type-pytest",
    "rename-and-value-pytest",
]
# rename-and-value-pytest: the rename only uncovers the changed value; the generator probes the renamed test
# and joins the value's update to the same candidate (test_generator_rounds_rename_then_value: two rounds).


@pytest.mark.parametrize("case_id", KINDS)
def test_update_kinds_end_to_end(case_id: str, tmp_path: Path) -> None:
    """Each update kind on a dev-set case: the pipeline (test updates only) edits the test as expected."""
    case = next(c for c in load_cases(CASES) if c["id"] == case_id)
    root = tmp_path / "r"
    rev = materialize_repo(case, root)
    report = coevolve(root, rev)
    assert report.status == "fixed" and report.kind == "test", report.notes
    for path, expected in case["fixed"].items():  # type: ignore[attr-defined]
        assert normalized_ast((root / path).read_bytes()) == normalized_ast(expected)


def _value(src: str, nodeid: str, line: int, err: str, changed: set[str]) -> bytes | None:
    from repairbot.coevolve.updaters.value import value_edit

    o = TestOutcome(nodeid, "failed", err.splitlines()[0], err, (("tests/t.py", line),))
    rep, _ = value_edit(src.encode(), o, "tests/t.py", changed)
    return apply_edits(src.encode(), [rep]) if rep is not None else None


def test_value_edit_approx_multiline_and_local_expected() -> None:
    src = "import pytest\n\ndef test_a():\n    assert speed(1) == pytest.approx(50.0, rel=1e-3)\n"
    out = _value(src, "tests/t.py::test_a", 4, "E       assert 13.5 == 50.0 ± 5.0e-02", {"speed"})
    assert out == src.replace("approx(50.0", "approx(13.5").encode()
    src = 'def test_b():\n    assert banner("x") == """-\nx\n-"""\n'
    out = _value(
        src, "tests/t.py::test_b", 2, "E       AssertionError: assert '=\\nx\\n=' == '-\\nx\\n-'", {"banner"}
    )
    assert out == src.replace('"""-\nx\n-"""', '"""=\nx\n="""').encode()
    src = (
        "class T:\n    def test_c(self):\n        r = parse('1')\n"
        "        expected = ['1']\n        self.assertEqual(r, expected)\n"
    )
    out = _value(src, "tests/t.py::T::test_c", 5, "AssertionError: [1] != ['1']", {"parse"})
    assert out == src.replace("expected = ['1']", "expected = [1]").encode()


def test_value_edit_only_where_the_value_depends_on_the_change() -> None:
    src = "def test_a():\n    assert unrelated(1) == 2\n"
    assert _value(src, "tests/t.py::test_a", 2, "E       assert 3 == 2", {"speed"}) is None
    # Not an equality assertion: nothing to update.
    src = "def test_a():\n    assert speed(1) > 2\n"
    assert _value(src, "tests/t.py::test_a", 2, "E       assert 1 > 2", {"speed"}) is None


def test_message_and_exception_edits() -> None:
    from repairbot.coevolve.updaters.exception import exception_edits, message_edits
    from repairbot.parsing import find_test

    src = (
        b"def test_a(self):\n    with self.assertRaisesRegex(ValueError, 'invalid port'):\n        check(7)\n"
    )
    fn = find_test(src, "tests/t.py::test_a")
    assert fn is not None
    err = 'AssertionError: "invalid port" does not match "port 7 out of range (1-65535)"'
    out = apply_edits(src, message_edits(src, fn, err))
    assert b"r'port 7 out of range \\(1-65535\\)'" in out
    out = apply_edits(src, exception_edits(src, fn, {"ValueError"}, "PortError"))
    assert b"assertRaisesRegex(PortError, 'invalid port')" in out


def test_exception_import_from_where_the_code_gets_it(tmp_path: Path) -> None:
    from repairbot.coevolve.updaters.exception import import_for

    root = tmp_path / "r"
    svc = "from acc.errors import Taken\n\n\ndef register(n):\n    raise Taken(n)\n"
    base = {"acc/__init__.py": "", "acc/service.py": svc.replace("Taken(n)", "ValueError(n)")}
    rev = make_repo(
        root, base, {**base, "acc/service.py": svc, "acc/errors.py": "class Taken(Exception):\n    pass\n"}
    )
    cs = extract_changes(root, rev)
    change = cs.of_kind("raise")[0]
    src = b"import pytest\nfrom acc.service import register\n\n\ndef test_a():\n    pass\n"
    out = apply_edits(src, import_for(src, "Taken", change, Snapshot(root)))
    assert out == src.replace(b"register\n", b"register\nfrom acc.errors import Taken\n", 1)
    assert import_for(src, "KeyError", change, Snapshot(root)) == []


@pytest.mark.parametrize(
    "table, nodeid",
    [
        ("[(1, 2), (2, 4)]", "tests/t.py::test_p[2-4]"),
        ('[(1, 2), (2, 4)], ids=["one", "two"]', "tests/t.py::test_p[two]"),
        ('[(1, 2), pytest.param(2, 4, id="two")]', "tests/t.py::test_p[two]"),
    ],
)
def test_value_edit_in_parametrize_rows(table: str, nodeid: str) -> None:
    src = (
        "import pytest\n\n\n"
        f'@pytest.mark.parametrize("x, expected", {table})\n'
        "def test_p(x, expected):\n    assert double(x) == expected\n"
    )
    out = _value(src, nodeid, 6, "E       assert 5 == 4", {"double"})
    assert out is not None
    assert out.decode().count("4") == src.count("4") - 1 and "2, 5" in out.decode()


def test_generator_rounds_rename_then_value(tmp_path: Path) -> None:
    """Round 1 fixes the import of a renamed function; round 2 (on the partial fix) the changed value."""
    case = next(c for c in load_cases(CASES) if c["id"] == "rename-and-value-pytest")
    root = tmp_path / "r"
    rev = materialize_repo(case, root)
    cs = extract_changes(root, rev)
    failing = [o for o in run_tests(root).outcomes if not o.ok]
    # No classification yet: the generator classifies each round's failures itself.
    analysis = ChangeAnalysis(cs, {}, frozenset({"tests/test_length.py::test_ten"}), TestRun(), root)
    snapshot = Snapshot(root)
    for _ in range(2):
        ctx = GenerationContext(
            job=Job(root=root), snapshot=snapshot, locations=(), source_files=(),
            test_files=("tests/test_length.py",), failing=tuple(failing), limit=5, changes=analysis,
        )  # fmt: skip
        cands = list(TestsGenerator().generate(ctx))
        assert len(cands) == 1
        path = cands[0].edits[0].path
        snapshot = snapshot.with_files({path: apply_edits(snapshot.read(path), cands[0].edits)})
        failing = [o for o in run_tests(root, files=dict(snapshot.changed)).outcomes if not o.ok]
    assert failing == []
    expected = case["fixed"]["tests/test_length.py"]  # type: ignore[index]
    assert normalized_ast(snapshot.read("tests/test_length.py")) == normalized_ast(expected)


def test_rename_edits_update_mock_patch_targets(tmp_path: Path) -> None:
    rev = make_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/a.py": "def fetch():\n    return 1\n"},
                    {"pkg/__init__.py": "", "pkg/a.py": "def download():\n    return 1\n"})  # fmt: skip
    c = extract_changes(tmp_path / "r", rev).of_kind("rename")[0]
    src = b'from unittest import mock\n\n\n@mock.patch("pkg.a.fetch")\ndef test_x(m):\n    assert "fetch"\n'
    out = apply_edits(src, rename_edits(src, c))
    assert out == src.replace(b'"pkg.a.fetch"', b'"pkg.a.download"')


def test_one_candidate_per_file_plus_per_test_alternatives(tmp_path: Path) -> None:
    from repairbot.coevolve.updaters import update_candidates
    from repairbot.models import ChangeSet, Classification

    root = tmp_path / "r"
    (root / "tests").mkdir(parents=True)
    src = "def test_a():\n    assert f(1) == 1\n\n\ndef test_b():\n    assert f(2) == 2\n"
    (root / "tests/t.py").write_text(src)
    outs = [
        TestOutcome("tests/t.py::test_a", "failed", "assert 2 == 1", "", (("tests/t.py", 2),)),
        TestOutcome("tests/t.py::test_b", "failed", "assert 3 == 2", "", (("tests/t.py", 6),)),
    ]
    classes = {o.nodeid: Classification(o.nodeid, "obsolete", "f changed", None, "value") for o in outs}
    # A change record is needed to say which change a test trips over; a synthetic one is enough here.
    cs = _change(tmp_path / "c", "def f(x):\n    return x\n", "def f(x):\n    return x + 1\n")
    classes = {
        n: Classification(n, "obsolete", c.evidence, cs.changes[0], "value") for n, c in classes.items()
    }
    cands = update_candidates(Snapshot(root), ChangeSet("HEAD"), outs, classes, ["tests/t.py"])
    assert len(cands) == 3
    both = apply_edits(src.encode(), cands[0].edits).decode()
    assert "f(1) == 2" in both and "f(2) == 3" in both
    assert cands[1].score < cands[0].score
    assert apply_edits(src.encode(), cands[1].edits).decode().count("== 2") == 2  # only test_a updated
