"""Co-evolution cases in repository form: the format, materialization from a real git mirror, the scores of
obsolete-test updates (developer's update, valid update, code revert), and `repairbot bench` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from repairbot.bench.repo_coevolution import (
    CommitResult,
    Outcomes,
    TestScore,
    assertion_forms,
    code_changed,
    keeps_assertions,
    materialized,
    parse_commit_case,
    run_commit_case,
    run_outcomes,
    score_tests,
    summary_lines,
    unit_of,
)
from repairbot.cli import main
from repairbot.errors import BadInput
from repairbot.models import Report
from tests.bench.test_repos import _commit, _git, _install_cmd

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "bench" / "repo-case.schema.json").read_text(encoding="utf-8"))
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

OLD_OPS = '''"""Sums."""


def total(values):
    return sum(values)


def describe(values):
    return f"total={total(values)}"
'''
NEW_OPS = '''"""Sums."""


def sum_of(values):
    return sum(values)


def describe(values):
    return f"sum: {sum_of(values)}"
'''
OLD_SUM_TESTS = """from calc.ops import total


def test_total():
    assert total([1, 2]) == 3


class TestEmpty:
    def test_empty(self):
        assert total([]) == 0
"""
NEW_SUM_TESTS = OLD_SUM_TESTS.replace("import total", "import sum_of").replace("total([", "sum_of([")
OLD_TEXT_TESTS = '''import pytest

from calc.ops import describe


@pytest.mark.parametrize("values", [[1, 2]])
def test_describe(values):
    """The text names the total."""
    assert describe(values) == "total=3"


def test_unchanged():
    assert describe([]).endswith("0")
'''
NEW_TEXT_TESTS = OLD_TEXT_TESTS.replace('"total=3"', '"sum: 3"')
SUM_IDS = ["tests/test_sum.py::TestEmpty::test_empty", "tests/test_sum.py::test_total"]
TEXT_ID = "tests/test_text.py::test_describe[values0]"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real git history: a commit renames total() and rewords describe(), and updates the tests."""
    base = tmp_path_factory.mktemp("coevo")
    work = base / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    old = {"calc/__init__.py": "", "calc/ops.py": OLD_OPS, "tests/test_sum.py": OLD_SUM_TESTS,
           "tests/test_text.py": OLD_TEXT_TESTS}  # fmt: skip
    new = {"calc/ops.py": NEW_OPS, "calc/extra.py": "X = 1\n", "tests/test_sum.py": NEW_SUM_TESTS,
           "tests/test_text.py": NEW_TEXT_TESTS}  # fmt: skip
    parent = _commit(work, old, "start")
    commit = _commit(work, new, "Rename total to sum_of, reword describe")
    mirrors = base / "mirrors"
    mirrors.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirrors / "acme+calc")], check=True)
    raw = {
        "id": "calc-rename",
        "kind": "coevolution",
        "repo": "acme/calc",
        "commit": commit,
        "parent": parent,
        "src_files": ["calc/extra.py", "calc/ops.py"],
        "test_files": ["tests/test_sum.py", "tests/test_text.py"],
        "obsolete_tests": [*SUM_IDS, TEXT_ID],
        "change_kinds": {SUM_IDS[0]: "rename", SUM_IDS[1]: "rename", TEXT_ID: "message"},
        "test_cmd": "python -m pytest tests/test_sum.py tests/test_text.py",
        "install": [_install_cmd()],
        "python": PYTHON,
        "notes": "Rename total to sum_of, reword describe",
    }
    return {"raw": raw, "mirrors": mirrors, "cache": base / "cache"}


# ------------------------------------------------------------------------------------------------ format


def test_schema_and_parser_accept_a_case(project: dict[str, Any]) -> None:
    jsonschema.validate(project["raw"], SCHEMA)
    case = parse_commit_case(project["raw"])
    assert (
        case.kind == "coevolution" and case.env_at == case.parent and case.change_kinds[TEXT_ID] == "message"
    )
    one_kind = {**project["raw"], "change_kinds": "rename"}
    jsonschema.validate(one_kind, SCHEMA)
    assert set(parse_commit_case(one_kind).change_kinds.values()) == {"rename"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"commit": "HEAD"}, "commit id"),
        ({"obsolete_tests": []}, "obsolete_tests is empty"),
        ({"change_kinds": {SUM_IDS[0]: "rename"}}, "one for each obsolete test"),
        ({"change_kinds": "typo"}, "not one of"),
        ({"test_cmd": "python -m unittest"}, "must run pytest"),
        ({"obsolete_tests": ["tests/other.py::t"], "change_kinds": "rename"}, "in one of test_files"),
        ({"fix_commit": "abc1234"}, "unknown field"),
    ],
)
def test_parser_and_schema_reject_bad_cases(
    project: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    raw = {**project["raw"], **change}
    with pytest.raises(BadInput, match=message):
        parse_commit_case(raw)
    if "obsolete_tests" not in change and "change_kinds" not in change:  # cross-field checks are the parser's
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(raw, SCHEMA)


# ------------------------------------------------------------------------------------------------ materialize


def test_materializes_parent_with_the_commits_code_uncommitted(project: dict[str, Any]) -> None:
    case = parse_commit_case(project["raw"])
    with materialized(case, project["mirrors"], project["cache"]) as prep:
        tree = prep.tree
        assert _git(tree, "rev-parse", "HEAD") == case.parent
        assert (tree / "calc" / "ops.py").read_text() == NEW_OPS
        assert (tree / "tests" / "test_sum.py").read_text() == OLD_SUM_TESTS
        status = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=all"],
                                capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert sorted(status.splitlines()) == [" M calc/ops.py", "?? calc/extra.py"]
        assert prep.new_tests["tests/test_sum.py"] == NEW_SUM_TESTS.encode()
        assert prep.old_src["calc/extra.py"] is None
        assert code_changed(tree, case, prep) == []
        out = run_outcomes(prep.test_cmd, tree, prep.venv)
        assert out.of(SUM_IDS[0]) == "error" and out.of(SUM_IDS[1]) == "error"  # the module no longer imports
        assert out.of(TEXT_ID) == "failed" and out.of("tests/test_text.py::test_unchanged") == "passed"
        assert out.of("tests/test_text.py::test_missing") == "missing"


def test_a_changed_parameter_row_is_the_same_test() -> None:
    before = Outcomes(
        {"t.py::test_a[1-2]": "failed", "t.py::test_a[2-4]": "passed", "t.py::test_b": "passed"}
    )
    after = Outcomes({"t.py::test_a[1-3]": "passed", "t.py::test_a[2-4]": "passed", "t.py::test_b": "passed"})
    assert after.counterpart("t.py::test_a[1-2]", before) == "t.py::test_a[1-3]"
    assert after.counterpart("t.py::test_a[2-4]", before) == "t.py::test_a[2-4]"
    assert after.counterpart("t.py::test_b", before) == "t.py::test_b"
    fewer = Outcomes({"t.py::test_a[1-3]": "passed"})
    assert fewer.counterpart("t.py::test_a[1-2]", before) == "t.py::test_a[1-2]"  # rows added or removed
    assert fewer.of("t.py::test_a[1-2]") == "missing"


# ------------------------------------------------------------------------------------------------ test units


def test_unit_ignores_formatting_docstrings_and_unrelated_imports() -> None:
    nid = "tests/test_text.py::test_describe[values0]"
    reformatted = NEW_TEXT_TESTS.replace('    """The text names the total."""\n', "    # the text\n").replace(
        "import pytest\n", "import os\nimport pytest\n"
    )
    assert unit_of(reformatted.encode(), nid) == unit_of(NEW_TEXT_TESTS.encode(), nid) is not None
    assert unit_of(OLD_TEXT_TESTS.encode(), nid) != unit_of(NEW_TEXT_TESTS.encode(), nid)
    # An import the test uses is part of it; a method's class header is too.
    renamed_import = NEW_SUM_TESTS.replace(
        "from calc.ops import sum_of", "from calc import ops\nsum_of = ops.sum_of"
    )
    assert unit_of(renamed_import.encode(), SUM_IDS[0]) != unit_of(NEW_SUM_TESTS.encode(), SUM_IDS[0])
    assert unit_of(NEW_SUM_TESTS.encode(), "tests/test_sum.py::test_nothing") is None
    inherited = "class Base:\n    def test_a(self):\n        assert 1\n\n\nclass TestB(Base):\n    pass\n"
    assert unit_of(inherited.encode(), "t.py::TestB::test_a") is not None


def test_assertion_forms_must_all_be_kept() -> None:
    src = b"def test_a(self):\n    assert f(1) == 2\n    self.assertRaises(E, g)\n    m.assert_called_with()"
    forms = assertion_forms(src, "t.py::test_a")
    assert forms == ["assert cmp Eq", "assertRaises", "assert_called_with"]
    assert keeps_assertions(forms, ["assert cmp Eq", "assert cmp Eq", "assertRaises", "assert_called_with"])
    assert not keeps_assertions(forms, ["assert Call", "assertRaises", "assert_called_with"])
    assert not keeps_assertions(forms, ["assertRaises", "assert_called_with"])
    assert not keeps_assertions(forms, None)


# ------------------------------------------------------------------------------------------------ scoring


def _score(
    project: dict[str, Any], files: dict[str, str], report: Report | None = None
) -> dict[str, TestScore]:
    """Write `files` into the materialized tree, as a repair would have left it, and score it."""
    case = parse_commit_case(project["raw"])
    report = report or Report(status="fixed", kind="test", obsolete_tests=(*SUM_IDS, TEXT_ID))
    with materialized(case, project["mirrors"], project["cache"]) as prep:
        for rel, text in files.items():
            (prep.tree / rel).write_text(text, encoding="utf-8")
        reverted = report.kind == "code" or bool(code_changed(prep.tree, case, prep))
        return {t.nodeid: t for t in score_tests(case, prep, report, reverted)}


def test_developers_update_scores_as_developers(project: dict[str, Any]) -> None:
    spaced = NEW_SUM_TESTS.replace("assert sum_of([1, 2]) == 3", "assert sum_of([1,  2]) == 3  # three")
    scores = _score(project, {"tests/test_sum.py": spaced, "tests/test_text.py": NEW_TEXT_TESTS})
    assert all(t.developer and t.updated and t.passes and t.judged_obsolete for t in scores.values()), scores


def test_another_valid_update_and_the_invalid_ones(project: dict[str, Any]) -> None:
    # Valid: another spelling that checks the change (it fails on the parent's code like the developer's).
    other = NEW_TEXT_TESTS.replace('== "sum: 3"', '== "sum: " + str(3)')
    scores = _score(project, {"tests/test_sum.py": NEW_SUM_TESTS, "tests/test_text.py": other})
    assert scores[TEXT_ID].valid and not scores[TEXT_ID].developer and scores[TEXT_ID].updated
    assert scores[SUM_IDS[1]].developer
    # Passes on the parent's code too: it no longer checks what changed.
    loose = NEW_TEXT_TESTS.replace(
        'assert describe(values) == "sum: 3"', 'assert describe(values)[-1] == "3"'
    )
    scores = _score(project, {"tests/test_sum.py": NEW_SUM_TESTS, "tests/test_text.py": loose})
    assert not scores[TEXT_ID].updated and "parent's code too" in scores[TEXT_ID].why
    # Weakened: the comparison became a truth test.
    weak = NEW_TEXT_TESTS.replace('assert describe(values) == "sum: 3"', "assert describe(values)")
    scores = _score(project, {"tests/test_sum.py": NEW_SUM_TESTS, "tests/test_text.py": weak})
    assert not scores[TEXT_ID].updated and "assertion" in scores[TEXT_ID].why
    # Not updated, and not judged obsolete by the report.
    report = Report(status="fixed", kind="test", obsolete_tests=tuple(SUM_IDS))
    scores = _score(project, {"tests/test_sum.py": NEW_SUM_TESTS}, report)
    assert not scores[TEXT_ID].updated and scores[TEXT_ID].why == "not judged obsolete"
    assert not scores[TEXT_ID].judged_obsolete and scores[SUM_IDS[0]].updated


def test_changed_production_code_is_a_revert(project: dict[str, Any]) -> None:
    scores = _score(project, {"calc/ops.py": OLD_OPS})
    assert not any(t.updated or t.passes for t in scores.values())
    assert {t.why for t in scores.values()} == {"code reverted"}


def test_summary_line_and_table() -> None:
    def ts(nid: str, kind: str, **kw: Any) -> TestScore:
        base = dict(judged_obsolete=True, passes=False, developer=False, valid=False, why="no update")
        return TestScore(nid, kind, **{**base, **kw})

    results = [
        CommitResult("a", "o/a", (ts("t1", "rename", passes=True, developer=True, why=""),
                                  ts("t2", "message", passes=True, valid=True, why="")), False, False, 3.0),
        CommitResult("b", "o/b", (ts("t3", "rename", judged_obsolete=False, why="not judged obsolete"),),
                     False, False, 2.0),
        CommitResult("c", "o/c", (ts("t4", "return", why="code reverted"),), True, False, 2.0),
        CommitResult("d", "o/d", (ts("t5", "return", judged_obsolete=False, why="env: no tests collected"),),
                     False, True, 1.0),
    ]  # fmt: skip
    lines = summary_lines(results, 9.0)
    assert lines[0] == (
        "summary: obsolete tests updated correctly 2/5 (developer's update 1/5), not judged obsolete 2/5, "
        "cases fully updated 1/4, code reverted 1/4, env errors 1/4, total 9s"
    )
    assert lines[2].split() == ["rename", "2", "1", "1", "1"]
    assert lines[3].split() == ["return", "2", "1", "0", "0"]
    assert lines[4].split() == ["message", "1", "1", "1", "0"]
    assert lines[5] == "misses: not judged obsolete 1; code reverted 1; env 1"


# ------------------------------------------------------------------------------------------------ end to end


def test_repair_and_bench_cli_on_a_real_history(
    project: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    renames = {**project["raw"], "test_cmd": "python -m pytest tests/test_sum.py", "obsolete_tests": SUM_IDS,
               "change_kinds": "rename"}  # fmt: skip
    case = parse_commit_case(renames)
    res = run_commit_case(
        case, budget=120, sandbox="local", mirrors=project["mirrors"], cache=project["cache"]
    )
    assert not res.env_error and not res.code_reverted and res.fully_updated, res
    assert all(t.judged_obsolete and t.passes for t in res.tests), res
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(renames) + "\n")
    out_json = tmp_path / "rows.jsonl"
    mirrors, cache = str(project["mirrors"]), str(project["cache"])
    code = main(["bench", str(cases), "--sandbox", "local", "--budget", "120", "--mirrors", mirrors,
                 "--cache", cache, "--json", str(out_json)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (
        "summary: obsolete tests updated correctly 2/2" in out and "code reverted 0/1, env errors 0/1" in out
    )
    row = json.loads(out_json.read_text())
    assert row["id"] == "calc-rename" and len(row["tests"]) == 2


def test_bench_rejects_a_file_mixing_kinds(project: dict[str, Any], tmp_path: Path) -> None:
    repair = {"id": "bug", "repo": "acme/calc", "fix_commit": "abc1234", "buggy_commit": "abc1235",
              "src_files": ["calc/ops.py"], "test_files": ["tests/test_sum.py"], "failing_tests": ["t"],
              "test_cmd": "python -m pytest", "install": ["true"], "python": PYTHON}  # fmt: skip
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(project["raw"]) + "\n" + json.dumps(repair) + "\n")
    assert main(["bench", str(cases), "--mirrors", str(project["mirrors"])]) == 2
