"""repairbot brings its own instruments: a project virtualenv without coverage (the common case), without
pytest (a unittest suite), or with a coverage too old for per-test contexts still gets per-test coverage, the
report says so, and nothing is installed into the virtualenv."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repairbot.models import Job, RunSpec
from repairbot.pipeline import repair
from repairbot.sandbox.docker import DockerSandbox
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.instruments import needed, probe
from repairbot.testing.runs import parse_test_cmd
from tests.sandbox.conftest import engine  # noqa: F401 (the Docker engine fixture)
from tests.support.projects import OFF_BY_ONE, write_project
from tests.support.venvs import PYTEST, make_venv, shared_tmp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tmp() -> Iterator[Path]:
    path = shared_tmp("repairbot-instruments-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def no_coverage(tmp: Path) -> Path:
    return make_venv(tmp / "no-coverage", PYTEST)


@pytest.fixture(scope="module")
def no_pytest(tmp: Path) -> Path:
    return make_venv(tmp / "no-pytest", ())


@pytest.fixture(scope="module")
def old_coverage(tmp: Path) -> Path:
    """pytest, and a coverage 4.5 as it is installed: no dynamic contexts (switch_context) in its API."""
    python = make_venv(tmp / "old-coverage", PYTEST)
    deps = python.parent.parent / "deps"
    write_project(deps, {
        "coverage/__init__.py": "__version__ = '4.5.4'\n\n\nclass Coverage:\n"
        "    def __init__(self, *a, **k):\n        pass\n\n    def start(self):\n        pass\n",
        "coverage-4.5.4.dist-info/METADATA": "Metadata-Version: 2.1\nName: coverage\nVersion: 4.5.4\n",
        "coverage-4.5.4.dist-info/RECORD": "coverage/__init__.py,,\n",
    })  # fmt: skip
    return python


def _tree_hash(venv_python: Path) -> str:
    root = venv_python.parent.parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_the_probe_tells_what_is_missing(no_coverage: Path, no_pytest: Path, old_coverage: Path) -> None:
    assert needed(probe(str(no_coverage))) == {"coverage": "missing"}
    assert needed(probe(str(no_pytest))) == {"pytest": "missing", "coverage": "missing"}
    assert needed(probe(str(old_coverage))) == {"coverage": "incompatible"}


def _per_test_coverage(sb: Any, tmp: Path, name: str) -> None:
    root = write_project(tmp / name, OFF_BY_ONE)
    run = sb.run(RunSpec(root, coverage=True))
    assert {o.nodeid: o.outcome for o in run.outcomes}["test_calc.py::test_total"] == "failed", run.output
    assert ("calc.py", 4) in run.coverage["test_calc.py::test_total"]
    assert ("calc.py", 4) not in run.coverage["test_calc.py::test_total_empty"]


@pytest.mark.parametrize("venv", ["no_coverage", "no_pytest", "old_coverage"])
def test_local_runs_get_repairbot_s_own_instruments(venv: str, tmp: Path, request: Any) -> None:
    python: Path = request.getfixturevalue(venv)
    before = _tree_hash(python)
    with LocalSandbox(tmp / f"scratch-{venv}", parse_test_cmd(f"{python} -m pytest"), 1) as sb:
        _per_test_coverage(sb, tmp, f"local-{venv}")
        notes = " ".join(sb.notes)
    assert "repairbot supplied its own (coverage" in notes, notes
    assert ("repairbot supplied its own (pytest" in notes) == (venv == "no_pytest"), notes
    assert _tree_hash(python) == before  # nothing installed into the user's environment


@pytest.mark.docker
def test_docker_runs_get_repairbot_s_own_coverage(no_coverage: Path, request: Any) -> None:
    request.getfixturevalue("engine")
    scratch = shared_tmp("repairbot-instruments-scratch-")
    try:
        command = parse_test_cmd(f"{no_coverage} -m pytest")
        with DockerSandbox(scratch, command, 1, image="offline", job_id="instruments") as sb:
            _per_test_coverage(sb, scratch, "docker-project")
            assert any("repairbot supplied its own (coverage" in n for n in sb.notes), sb.notes
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_a_repair_without_coverage_in_the_venv_is_localized_and_says_so(no_coverage: Path, tmp: Path) -> None:
    root = write_project(tmp / "repair-no-coverage", OFF_BY_ONE)
    report = repair(Job(root=root, test_cmd=(str(no_coverage), "-m", "pytest"), sandbox="local", budget_s=90))
    assert report.status == "fixed", report.to_json()
    assert any("repairbot supplied its own (coverage" in n for n in report.notes), report.notes
    assert report.localization[0].path == "calc.py"
