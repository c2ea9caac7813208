"""The assessment stage in the pipeline and in a real sandbox: confidence in the report, anti-patterns ranked
last, plausible patches that disagree shown with the input they disagree on."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from repairbot import assess, report
from repairbot.errors import EnvironmentProblem
from repairbot.models import AssessmentRequest, Exploration, Job, Patch, PlausibleFix, RunSpec, TestRun
from repairbot.pipeline import repair
from repairbot.sandbox import open_sandbox
from repairbot.testing.runs import parse_test_cmd
from repairbot.workspace import Workspace
from tests.support.projects import write_project

WITHIN = {
    "lib.py": "def within(x, hi):\n    return x < hi\n",
    "test_lib.py": "from lib import within\n\n\ndef test_edge():\n    assert within(3, 3)\n\n\n"
    "def test_inside():\n    assert within(1, 3)\n\n\ndef test_outside():\n    assert not within(5, 3)\n",
}


def _sandbox_or_skip(name: str) -> None:
    if name != "docker":
        return
    try:
        from repairbot.sandbox.docker import connect_engine

        connect_engine()
    except EnvironmentProblem as exc:
        if os.environ.get("REPAIRBOT_REQUIRE_DOCKER"):
            pytest.fail(f"CI requires the Docker engine: {exc}")
        pytest.skip(f"no Docker engine: {exc}")


@pytest.mark.parametrize("sandbox", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_a_well_tested_fix_is_rated_high(tmp_path: Path, sandbox: str) -> None:
    _sandbox_or_skip(sandbox)
    root = write_project(tmp_path / "p", WITHIN)
    rep = repair(Job(root=root, sandbox=sandbox, budget_s=240, generators=("rules",)))
    assert rep.status == "fixed" and "+    return x <= hi" in rep.patches[0].diff
    best = rep.patches[0]
    assert best.confidence == "high", best.assessment
    assert best.assessment is not None
    checks = {c.name: c for c in best.assessment.checks}
    assert set(checks) == {
        "anti-patterns",
        "failing tests",
        "passing tests",
        "generated inputs",
        "alternatives",
    }
    assert "`within(3, 3)`: original returns False, patched returns True" in checks["failing tests"].examples
    data = rep.to_json()
    assessed = data["patches"][0]["assessment"]  # type: ignore[index]
    assert data["confidence"] == "high" and assessed["confidence"] == "high"


VISIT = {
    "graph.py": "def visit(node, seen):\n    if node in seen:\n        seen.append(node)\n"
    "    return seen\n\n\ndef size(seen):\n    return len(seen)\n",
    # Weak tests: they never visit a node twice.
    "test_graph.py": "from graph import size, visit\n\n\n"
    "def test_first_visit():\n    assert visit(7, []) == [7]\n\n\n"
    "def test_size():\n    assert size([7]) == 1\n",
}


def _fix(root: Path, new_line: str, description: str) -> PlausibleFix:
    old = (root / "graph.py").read_bytes()
    new = old.replace(b"    if node in seen:\n", new_line.encode())
    return PlausibleFix(
        Patch("", "rules", None, ("graph.py",), True, 0.5, description=description), {"graph.py": new}
    )


def test_the_stage_ranks_anti_patterns_last_and_shows_disagreements(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", VISIT)
    fixes = (
        _fix(root, "    if True:\n", "condition to True"),
        _fix(root, "    if node not in seen:\n", "negated"),
        _fix(root, "    if node not in seen or node == 7:\n", "negated, and a special case"),
    )
    scratch = Path(tempfile.mkdtemp(prefix="repairbot-assess-", dir=tmp_path))
    command = parse_test_cmd(None)
    with open_sandbox("local", scratch, command, parallel=1) as sandbox:
        workspace = Workspace(root, scratch, 1)

        def run(label: str, files: Mapping[str, bytes], tests: Sequence[str]) -> tuple[TestRun, Path]:
            tree = workspace.tree(label, files)
            return sandbox.run(RunSpec(tree, tests=tuple(tests), timeout_s=120, per_test_timeout_s=60)), tree

        baseline = sandbox.run(RunSpec(workspace.tree("baseline", {}), coverage=True, timeout_s=120))
        assert baseline.failing == ("test_graph.py::test_first_visit",)
        request = AssessmentRequest(
            workspace.base, fixes, baseline, ("test_graph.py",), Exploration(30, True), run
        )
        judged = assess.assess(request)

    constant, negated, special = judged
    assert constant.confidence == "low" and constant.anti_patterns == ("constant-condition",)
    assert special.confidence == "low" and special.anti_patterns == ("special-cases-test-input",)
    # The clean patch is not high: the others behave differently, and the tests do not decide.
    assert negated.confidence == "medium" and not negated.anti_patterns
    inputs = {(d.other, d.input) for d in negated.disagreements}
    assert {other for other, _ in inputs} == {0, 2}, negated.disagreements
    assert all(given.startswith("7, [") for other, given in inputs if other == 2)  # only where node is 7
    ranked = report.rank_assessed(
        [(replace_assessment(f.patch, a), dict(f.files)) for f, a in zip(fixes, judged, strict=True)]
    )
    assert [p.description for p, _ in ranked] == [
        "negated",
        "condition to True",
        "negated, and a special case",
    ]


def replace_assessment(patch: Patch, a: object) -> Patch:
    from dataclasses import replace

    return replace(patch, assessment=a)  # type: ignore[arg-type]
