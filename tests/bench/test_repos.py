"""Repository-form benchmark cases: the format, materialization from a real git mirror, and the scores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from repairbot.bench.repos import (
    RepoResult,
    changed_lines,
    env_key,
    error_cause,
    exact_match,
    find_mirror,
    localization_hits,
    parse_case,
    prepared,
    run_repo_case,
    scopes,
    summary_lines,
)
from repairbot.cli import main
from repairbot.errors import BadInput, EnvironmentProblem
from repairbot.models import Location

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "bench" / "repo-case.schema.json").read_text(encoding="utf-8"))
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

BUGGY = '''"""Small numeric helpers."""


def clamp(x, lo, hi):
    """x limited to [lo, hi]."""
    if x < lo:
        return lo
    if x > hi:
        return lo
    return x


def mean(values):
    return sum(values) / len(values)
'''
FIXED = BUGGY.replace("        return lo\n    return x", "        return hi\n    return x")
OLD_TESTS = "from calc.ops import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n"
NEW_TESTS = (
    OLD_TESTS
    + "\n\ndef test_clamp_high():\n    from calc.ops import clamp\n\n    assert clamp(9, 0, 5) == 5\n"
)


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@localhost", "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


def _install_cmd() -> str:
    """A network-free environment: a .pth file that puts this interpreter's site-packages (pytest, coverage)
    on the case virtualenv's path, as an editable install's .pth file would put a project."""
    dirs = [p for p in sys.path if p.endswith("site-packages")]
    code = ("import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()['purelib'], 'host.pth')"
            f".write_text({chr(10).join(dirs)!r})")  # fmt: skip
    return f"python -c {json.dumps(code)}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real git history (bug, fix with a test, a later commit), mirrored bare as owner+name."""
    base = tmp_path_factory.mktemp("proj")
    work = base / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    _commit(work, {"calc/__init__.py": "", "calc/ops.py": BUGGY, "tests/test_ops.py": OLD_TESTS}, "start")
    buggy = _commit(work, {"README.md": "calc\n"}, "readme")
    fix = _commit(work, {"calc/ops.py": FIXED, "tests/test_ops.py": NEW_TESTS}, "Fix clamp above the range")
    _commit(work, {"calc/ops.py": FIXED + "\n\ndef later():\n    return 1\n"}, "later work")
    mirrors = base / "mirrors"
    mirrors.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirrors / "acme+calc")], check=True)
    raw = {
        "id": "calc-clamp",
        "kind": "repair",
        "repo": "acme/calc",
        "fix_commit": fix,
        "buggy_commit": buggy,
        "src_files": ["calc/ops.py"],
        "test_files": ["tests/test_ops.py"],
        "failing_tests": ["tests/test_ops.py::test_clamp_high"],
        "test_cmd": "python -m pytest tests/test_ops.py",
        "install": [_install_cmd()],
        "python": PYTHON,
        "hunks": 1,
        "lines_changed": 2,
    }
    return {"raw": raw, "mirrors": mirrors, "cache": base / "cache", "work": work}


# ------------------------------------------------------------------------------------------------ format


def test_schema_and_parser_accept_a_case(project: dict[str, Any]) -> None:
    jsonschema.validate(project["raw"], SCHEMA)
    case = parse_case(project["raw"])
    assert case.kind == "repair" and case.slug == "acme+calc" and case.src_files == ("calc/ops.py",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"repo": "no-slash"}, "owner/name"),
        ({"fix_commit": "HEAD~1"}, "commit id"),
        ({"src_files": ["../outside.py"]}, "relative POSIX path"),
        ({"src_files": []}, "src_files is empty"),
        ({"python": "3"}, "version like"),
        ({"kind": "coevolution"}, "kind"),
        ({"install": "pip install -e ."}, "list of non-empty strings"),
        ({"test_cmd": "python -m pytest 'unclosed"}, "cannot be parsed"),
        ({"hunks": -1}, "non-negative"),
        ({"surprise": 1}, "unknown field"),
    ],
)
def test_parser_and_schema_reject_the_same_bad_cases(
    project: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    raw = {**project["raw"], **change}
    with pytest.raises(BadInput, match=message):
        parse_case(raw)
    if change != {"test_cmd": "python -m pytest 'unclosed"}:  # shell syntax is beyond JSON Schema
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(raw, SCHEMA)


def test_missing_field_is_named(project: dict[str, Any]) -> None:
    raw = dict(project["raw"])
    del raw["failing_tests"]
    with pytest.raises(BadInput, match="lacks failing_tests"):
        parse_case(raw)


# ------------------------------------------------------------------------------------------------ materialize


def test_materializes_buggy_tree_with_the_fix_tests(project: dict[str, Any]) -> None:
    case = parse_case(project["raw"])
    with prepared(case, project["mirrors"], project["cache"]) as prep:
        assert (prep.tree / "calc" / "ops.py").read_text() == BUGGY
        assert (prep.tree / "tests" / "test_ops.py").read_text() == NEW_TESTS
        assert prep.reference == {"calc/ops.py": FIXED.encode()}
        assert prep.buggy == {"calc/ops.py": BUGGY.encode()}
        assert prep.test_cmd[0] == str(prep.venv / "bin" / "python")
        assert prep.tree == project["cache"] / "envs" / env_key(case) / "tree"
        (prep.tree / "stray.py").write_text("x = 1\n")  # left by an earlier run: must not survive
        run = subprocess.run(
            [*prep.test_cmd, "-q"], cwd=prep.tree, capture_output=True, text=True, check=False
        )
        assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    with prepared(case, project["mirrors"], project["cache"], fixed=True) as prep:
        assert (prep.tree / "calc" / "ops.py").read_text() == FIXED
        assert not (prep.tree / "stray.py").exists()
        run = subprocess.run(
            [*prep.test_cmd, "-q"], cwd=prep.tree, capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, run.stdout + run.stderr
        # The virtualenv was made once and reused.
        assert (prep.venv / ".repairbot-env.json").is_file()


def test_mirror_lookup_and_clone_fallback(project: dict[str, Any], tmp_path: Path) -> None:
    case = parse_case(project["raw"])
    assert find_mirror(case, project["mirrors"], tmp_path) == project["mirrors"] / "acme+calc"
    nested = tmp_path / "m" / "acme"
    nested.mkdir(parents=True)
    (nested / "calc").symlink_to(project["mirrors"] / "acme+calc")
    assert find_mirror(case, tmp_path / "m", tmp_path) == tmp_path / "m" / "acme" / "calc"
    with pytest.raises(EnvironmentProblem, match="no mirror of acme/calc"):
        find_mirror(case, tmp_path / "empty", tmp_path)
    # With a url and no mirror: one bare clone into the cache (here from a local path, as `git clone` takes).
    with_url = parse_case({**project["raw"], "url": str(project["work"])})
    cloned = find_mirror(with_url, None, tmp_path / "cache")
    assert cloned == tmp_path / "cache" / "mirrors" / "acme+calc.git"
    assert _git(cloned, "cat-file", "-t", case.fix_commit) == "commit"


def test_failed_install_is_an_environment_problem(project: dict[str, Any], tmp_path: Path) -> None:
    case = parse_case({**project["raw"], "install": ["python -c 'raise SystemExit(3)'"]})
    with pytest.raises(EnvironmentProblem, match="exited 3"), prepared(case, project["mirrors"], tmp_path):
        pass


# ------------------------------------------------------------------------------------------------ scoring


def test_changed_lines_and_scopes() -> None:
    assert changed_lines(BUGGY.encode(), FIXED.encode()) == {9}
    inserted = BUGGY.replace("    return x\n", "    x = float(x)\n    return x\n")
    assert changed_lines(BUGGY.encode(), inserted.encode()) == {9, 10}  # either side of the insertion
    scope = scopes(b"X = 1\n\nclass A:\n    y = 2\n\n    @staticmethod\n    def f():\n        return 3\n")
    assert [scope(n) for n in (1, 4, 6, 8)] == ["<module>", "A", "A.f", "A.f"]


def test_localization_hits_by_file_and_function() -> None:
    buggy = {"calc/ops.py": BUGGY.encode()}
    ref = {"calc/ops.py": FIXED.encode()}
    in_clamp = Location("calc/ops.py", 7, 0.9)
    in_mean = Location("calc/ops.py", 14, 0.9)
    elsewhere = Location("calc/other.py", 9, 0.9)
    assert localization_hits([in_clamp], buggy, ref) == (True, True)
    assert localization_hits([in_mean], buggy, ref) == (True, False)
    assert localization_hits([elsewhere], buggy, ref) == (False, False)
    assert localization_hits([elsewhere] * 5 + [in_clamp], buggy, ref) == (False, False)  # only the top 5


def test_exact_match_normalizes_docstrings(tmp_path: Path) -> None:
    (tmp_path / "calc").mkdir()
    target = tmp_path / "calc" / "ops.py"
    target.write_text(FIXED.replace('"""x limited to [lo, hi]."""', '"""Another docstring."""'))
    assert exact_match(tmp_path, {"calc/ops.py": FIXED.encode()})
    target.write_text(FIXED.replace("return hi", "return min(x, hi)"))
    assert not exact_match(tmp_path, {"calc/ops.py": FIXED.encode()})


def test_summary_lines_count_and_group_errors() -> None:
    def res(i: int, **kw: Any) -> RepoResult:
        base: dict[str, Any] = dict(id=f"c{i}", repo="a/b", plausible=False, exact=False, env_error=False,
                                    localized_file=False, localized_function=False, seconds=1.0,
                                    first_plausible_s=None, npc=None, validated=0, hunks=1)  # fmt: skip
        return RepoResult(**{**base, **kw})

    results = [
        res(
            1,
            plausible=True,
            exact=True,
            localized_file=True,
            localized_function=True,
            first_plausible_s=4.0,
            npc=3,
        ),
        res(2, plausible=True, localized_file=True, first_plausible_s=8.0, npc=5, hunks=2),
        res(
            3,
            env_error=True,
            error="no tests collected (/tmp/x/venv/bin/python -m pytest): ModuleNotFoundError",
        ),
        res(
            4,
            env_error=True,
            error="no tests collected (/tmp/y/venv/bin/python -m pytest): ModuleNotFoundError",
        ),
    ]
    lines = summary_lines(results, 12.0)
    assert lines[0] == (
        "summary: plausible 2/4, exact 1/4, env errors 2/4, localized file 2/4 function 1/4 (top 5), "
        "NPC median 4, median time to first plausible 6.0s, total 12s"
    )
    assert lines[1].startswith("by hunks: single 1/3 plausible (1 exact), multi 1/1 plausible")
    assert lines[2] == "env errors by cause: 2× no tests collected: ModuleNotFoundError"
    # Nothing here was assessed: the plausible ones count at no level.
    none = "confidence: high 0 (0 exact), medium 0 (0 exact), low 0 (0 exact); high but not exact: none"
    assert lines[3] == none
    rated = [
        res(5, plausible=True, exact=True, confidence="high"),
        res(6, plausible=True, confidence="high"),
        res(7, plausible=True, confidence="low"),
        res(8, confidence="low"),  # not plausible: not counted
    ]
    assert summary_lines(rated, 1.0)[-1] == (
        "confidence: high 2 (1 exact), medium 0 (0 exact), low 1 (0 exact); high but not exact: c6"
    )
    broken = [res(9, error="internal error: TypeError: boom"), res(10)]
    assert "internal errors (repairbot's bugs, see the log) 1/2: c9" in summary_lines(broken, 1.0)
    assert summary_lines(broken, 1.0)[0].startswith("summary: plausible 0/2, exact 0/2, env errors 0/2")
    assert error_cause("install command `pip install -e .` exited 1 (see /x/install.log)") == (
        "install command `pip install -e .` exited …"
    )
    assert error_cause(
        "test collection failed in tests/a_test.py: E   ModuleNotFoundError: No module named 'w'"
    ) == ("test collection failed: ModuleNotFoundError: No module named 'w'")


# ------------------------------------------------------------------------------------------------ end to end


def test_repair_scores_a_real_history(project: dict[str, Any]) -> None:
    case = parse_case(project["raw"])
    res = run_repo_case(case, budget=90, sandbox="local", mirrors=project["mirrors"], cache=project["cache"])
    assert res.error is None and not res.env_error
    assert res.plausible and res.exact, res
    assert res.localized_file and res.localized_function
    assert res.failing_found and res.first_plausible_s is not None and res.first_plausible_s <= res.seconds


def test_bench_cli_runs_repository_cases(
    project: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orphan = {**project["raw"], "id": "orphan", "repo": "acme/missing"}
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(project["raw"]) + "\n" + json.dumps(orphan) + "\n")
    mirrors, cache, out_json = str(project["mirrors"]), str(project["cache"]), str(tmp_path / "r.jsonl")
    code = main(["bench", str(cases), "--sandbox", "local", "--budget", "90", "--mirrors", mirrors,
                 "--cache", cache, "--json", out_json])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "summary: plausible 1/2, exact 1/2, env errors 1/2, localized file 1/2 function 1/2 (top 5)" in out
    assert "env errors by cause: 1× no mirror of acme/missing" in out
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["calc-clamp", "orphan"]


def test_bench_cli_bad_case_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"id": "x", "repo": "a/b", "fix_commit": "abc1234"}) + "\n")
    assert main(["bench", str(cases)]) == 2
    assert "lacks buggy_commit" in capsys.readouterr().err


def test_a_crash_on_one_case_is_its_row_and_the_others_still_run(capsys: pytest.CaptureFixture[str]) -> None:
    from dataclasses import dataclass

    from repairbot.bench.rows import run_rows

    @dataclass(frozen=True)
    class Row:
        id: str
        error: str | None = None

    def run(case: str) -> Row:
        if case == "b":
            raise TypeError("boom")
        return Row(case)

    rows = run_rows(["a", "b", "c"], run, jobs=1, row=lambda r: r.id, json_out=None,
                    failed=lambda case, message: Row(case, message))  # fmt: skip
    assert rows == [Row("a"), Row("b", "internal error: TypeError: boom"), Row("c")]
    with pytest.raises(TypeError, match="boom"):
        run_rows(["b"], run, jobs=1, row=lambda r: r.id, json_out=None)
