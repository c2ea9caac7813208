from __future__ import annotations

from pathlib import Path

import pytest

from repairbot.bench.cases import materialize_repo
from repairbot.bench.coevolution import load_coevolution_cases as load_cases
from repairbot.bench.coevolution import normalized_ast, score
from repairbot.errors import BadInput
from repairbot.models import Report
from tests.support.runs import coevolve

CASES = Path(__file__).resolve().parents[2] / "bench" / "coevolution" / "cases.jsonl"


def test_dev_set_shape() -> None:
    cases = load_cases(CASES)
    tests = [c for c in cases if c["expect"] == "test"]
    code = [c for c in cases if c["expect"] == "code"]
    assert len(tests) >= 24 and len(code) >= 8
    assert {c["style"] for c in tests} == {"pytest", "unittest"}
    for c in cases:
        # The base must differ from the tree, and fixed files must parse.
        assert {**c["files"], **c["tests"]} != c["base"], c["id"]  # type: ignore[dict-item]
        for src in c["fixed"].values():  # type: ignore[attr-defined]
            normalized_ast(src)


def test_normalized_ast_ignores_docstrings_quotes_and_import_order() -> None:
    a = "from m import b, a\nimport os\n\ndef t():\n    '''doc'''\n    assert f() == 'x'\n"
    b = 'import os\nfrom m import a, b\n\ndef t():\n    assert f() == "x"\n'
    assert normalized_ast(a) == normalized_ast(b)
    assert normalized_ast(a) != normalized_ast(b.replace('"x"', '"y"'))


def test_load_cases_rejects_bad_lines(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    p.write_text('{"id": "x"}\n')
    with pytest.raises(BadInput, match="lacks"):
        load_cases(p)
    p.write_text("not json\n")
    with pytest.raises(BadInput, match="not JSON"):
        load_cases(p)


def test_score_counts_correct_updates_and_false_updates(tmp_path: Path) -> None:
    cases = {c["id"]: c for c in load_cases(CASES)}
    sub = [cases[i] for i in ("return-string-pytest", "bug-comparison-unittest")]
    summary = score(sub, lambda root, base: coevolve(root, base))
    assert summary["obsolete_correct"] == 1 and summary["obsolete_total"] == 1
    assert summary["false_updates"] == 0 and summary["code_total"] == 1

    # A repair that edits the test of a code case is a false update.
    def edit_tests(root: Path, base: str) -> Report:
        for p in (root / "tests").glob("*.py"):
            p.write_text(p.read_text().replace("assertTrue", "assertFalse"))
        return Report("fixed", "test")

    bad = score(sub, edit_tests)
    assert bad["false_updates"] == 1 and bad["false_update_rate"] == 1.0
    assert bad["obsolete_correct"] == 0


def test_materialize_case_builds_base_and_tree(tmp_path: Path) -> None:
    case = next(c for c in load_cases(CASES) if c["id"] == "rename-function-pytest")
    rev = materialize_repo(case, tmp_path / "r")
    assert len(rev) == 40
    assert (tmp_path / "r/textkit/slug.py").read_text() == case["files"]["textkit/slug.py"]  # type: ignore[index]
