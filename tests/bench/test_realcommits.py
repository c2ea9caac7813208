"""The real-commit co-evolution dev set (bench/realcommits/cases.jsonl): valid, from the projects and
environments that projects.json declares, varied, and no held-out project."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import jsonschema

from repairbot.bench.repo_coevolution import parse_commit_case
from repairbot.workspace import is_test_path
from tests.support.held_out import HELD_OUT

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "bench" / "repo-case.schema.json").read_text(encoding="utf-8"))
HERE = ROOT / "bench" / "realcommits"
# Floors of what is landed (issue 15 asks for 60 cases from 10 libraries): a lost line fails here.
MIN_CASES, MIN_REPOS = 46, 15


def _cases(name: str = "cases.jsonl") -> list[dict]:
    return [json.loads(x) for x in (HERE / name).read_text(encoding="utf-8").splitlines() if x.strip()]


def test_realcommits_cases_are_valid_and_varied() -> None:
    lines = _cases()
    assert len(lines) >= MIN_CASES
    cases = []
    for n, raw in enumerate(lines, 1):
        jsonschema.validate(raw, SCHEMA)
        cases.append(parse_commit_case(raw, f"case {n}"))
    assert len({c.id for c in cases}) == len(cases) and len({c.commit for c in cases}) == len(cases)
    assert len({c.repo for c in cases}) >= MIN_REPOS
    for case in cases:
        assert case.commit != case.parent and case.test_cmd.startswith("python -m pytest ")
        # repairbot's runner takes words naming existing paths as the test selection: a deselected id is
        # one word with its option.
        assert "--deselect" not in shlex.split(case.test_cmd), case.id
        assert not any(is_test_path(p) for p in case.src_files), case.id
        assert not set(case.src_files) & set(case.test_files), case.id
    kinds = {k for c in cases for k in c.change_kinds.values()}
    assert {"rename", "signature", "return", "message", "exception"} <= kinds


def test_realcommits_projects_are_declared_and_not_held_out() -> None:
    spec = json.loads((HERE / "projects.json").read_text(encoding="utf-8"))
    projects = {p["repo"]: p for p in spec["projects"]}
    assert not {r.split("/")[1].lower() for r in projects} & HELD_OUT
    large = _cases("large-cases.jsonl")
    assert all(len(raw["obsolete_tests"]) > 50 for raw in large)
    assert all(len(raw["obsolete_tests"]) <= 50 for raw in _cases())
    for raw in [*_cases(), *large]:
        jsonschema.validate(raw, SCHEMA)
        # One virtualenv per project and environment commit: the install is the project's declared one.
        assert raw["repo"] in projects, raw["id"]
        assert raw["install"] == projects[raw["repo"]]["install"], raw["id"]
        assert raw["python"] == spec["python"], raw["id"]
