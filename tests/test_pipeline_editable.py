"""Whole repairs of a `src/`-layout project installed in editable mode in its own virtualenv (issue 10): the
candidates, the baseline and the tree at `--base` each import their own copy, never the user's tree."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repairbot.models import Job
from repairbot.pipeline import repair
from tests.sandbox.conftest import engine  # noqa: F401 (the Docker engine fixture)
from tests.support.projects import write_project
from tests.support.venvs import PYTEST, make_venv, pip_install_editable, shared_tmp

pytestmark = pytest.mark.slow

PYPROJECT = """[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "units"
version = "0.1"

[tool.setuptools.packages.find]
where = ["src"]
"""
TEST = "from units.convert import to_cm\n\n\ndef test_inches():\n    assert to_cm(2) == 5.08\n"


@pytest.fixture(scope="module")
def venv() -> Iterator[Path]:
    tmp = shared_tmp("repairbot-pipeline-editable-")
    yield make_venv(tmp / "venv", (*PYTEST, "setuptools", "coverage"))
    shutil.rmtree(tmp, ignore_errors=True)


def _git(root: Path, *args: str) -> str:
    ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
    return subprocess.run(["git", "-C", str(root), *ident, *args], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts}  # fmt: skip


def _project(venv: Path, code: str) -> Path:
    root = shared_tmp("repairbot-user-") / "units"
    write_project(root, {"pyproject.toml": PYPROJECT, "src/units/__init__.py": "",
                         "src/units/convert.py": code, "tests/test_convert.py": TEST})  # fmt: skip
    for other in venv.parent.parent.glob("lib/python3*/site-packages/__editable__*"):
        other.unlink()  # one project installed at a time
    pip_install_editable(venv, root)
    return root


@pytest.mark.parametrize("sandbox", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_a_src_layout_editable_install_is_repaired_in_its_copy(
    venv: Path, sandbox: str, request: Any
) -> None:
    if sandbox == "docker":
        request.getfixturevalue("engine")
    root = _project(venv, "def to_cm(inches):\n    return inches + 2.54\n")
    before = _hashes(root)
    job = Job(root=root, test_cmd=(str(venv), "-m", "pytest"), sandbox=sandbox, budget_s=120, image="offline",
              job_id=f"editable-{sandbox}")  # fmt: skip
    report = repair(job)
    assert report.status == "fixed", report.to_json()
    assert report.patches[0].files == ("src/units/convert.py",)
    assert report.localization and report.localization[0].path == "src/units/convert.py"
    assert _hashes(root) == before


def test_the_tree_at_base_imports_the_base_code_not_the_editable_install(venv: Path) -> None:
    """With --base, a test that passed at the base is judged on the base's code: the intended change of an
    expected value makes it obsolete (before the fix the base run imported the new code through the
    editable install, so the test 'failed at the base' too and was never judged obsolete)."""
    root = _project(venv, "def to_cm(inches):\n    return inches * 2.54\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    (root / "src/units/convert.py").write_text("def to_cm(inches):\n    return round(inches * 2.54, 1)\n")
    job = Job(root=root, base="HEAD", test_cmd=(str(venv), "-m", "pytest"), sandbox="local", budget_s=120)
    report = repair(job)
    assert any("1 of 1 failing test(s) judged obsolete" in n for n in report.notes), report.to_json()
    assert report.status == "fixed" and report.kind == "test", report.to_json()
    assert "+    assert to_cm(2) == 5.1" in report.patches[0].diff
