"""The tree under repair is what the tests import, in both sandboxes, for every layout and editable install.

Each case is a tiny project installed with a real `pip install -e` into a real virtualenv: setuptools' default
mode (an import hook for flat layouts, a path entry for `src/`), `editable_mode=compat` (a path entry) and
`editable_mode=strict` (a link tree of the user's files). The runs happen in copies of the project (the base
copy and a slot, as a repair makes them): the fixed copy must pass, the base copy must fail, every test (and a
subprocess it starts) must import from its own copy, and the user's tree must stay as it was.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repairbot.models import RunSpec
from repairbot.sandbox.docker import DockerSandbox
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.runs import parse_test_cmd
from repairbot.workspace import Workspace
from tests.support.projects import write_project
from tests.support.venvs import PYTEST, make_venv, pip_install_editable, shared_tmp

pytestmark = pytest.mark.slow

_WHERE = """
import os, subprocess, sys


def inside(path):
    return os.path.realpath(path).startswith(os.path.realpath(os.getcwd()) + os.sep)


def test_imports_come_from_the_tree_under_test():
    for name in {modules}:
        module = __import__(name, fromlist=["_"])
        assert inside(module.__file__), (name, module.__file__, os.getcwd())


def test_a_subprocess_imports_the_same_tree():
    for name in {modules}:
        code = f"import {{name}}; print({{name}}.__file__)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert inside(out.strip()), (name, out)
"""


_SETUPTOOLS = '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n'


def _project(pyproject: str, files: dict[str, str], modules: list[str], call: str) -> dict[str, str]:
    return {
        "pyproject.toml": _SETUPTOOLS + '[project]\nname = "layoutdemo"\nversion = "0.1"\n\n' + pyproject,
        **files,
        "tests/test_where.py": _WHERE.format(modules=modules),
        "tests/test_behaviour.py": f"def test_double():\n    {call}\n",
    }


BUGGY = "def double(x):\n    return x + x + 1\n"
FIXED = "def double(x):\n    return x + x\n"

_CALL = "from {0} import double\n    assert double(2) == 4"
LAYOUTS: dict[str, tuple[dict[str, str], str]] = {
    # name: (files, the buggy file)
    "flat": (
        _project(
            '[tool.setuptools]\npackages = ["calc"]\n',
            {"calc/__init__.py": BUGGY},
            ["calc"],
            _CALL.format("calc"),
        ),
        "calc/__init__.py",
    ),
    "src": (
        _project(
            '[tool.setuptools.packages.find]\nwhere = ["src"]\n',
            {"src/calc/__init__.py": "from calc.core import double\n", "src/calc/core.py": BUGGY},
            ["calc", "calc.core"],
            _CALL.format("calc"),
        ),
        "src/calc/core.py",
    ),
    "namespace": (
        _project(
            '[tool.setuptools.packages.find]\nwhere = ["src"]\nnamespaces = true\n',
            {"src/acme/calc/__init__.py": BUGGY, "src/acme/util/__init__.py": "X = 1\n"},
            ["acme.calc", "acme.util"],
            _CALL.format("acme.calc"),
        ),
        "src/acme/calc/__init__.py",
    ),
    "several": (
        _project(
            '[tool.setuptools]\npackages = ["alpha", "beta"]\npy-modules = ["gamma"]\n',
            {
                "alpha/__init__.py": "from beta.core import double\n",
                "beta/__init__.py": "",
                "beta/core.py": BUGGY,
                "gamma.py": "from alpha import double\n",
            },
            ["alpha", "beta.core", "gamma"],
            _CALL.format("gamma"),
        ),
        "beta/core.py",
    ),
}
# setuptools' default mode where it differs from compat (an import hook), and the strict link tree.
CASES = [
    ("flat", None), ("flat", "compat"),
    ("src", None), ("src", "strict"),
    ("namespace", None), ("namespace", "compat"),
    ("several", None), ("several", "compat"),
]  # fmt: skip


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "build" not in p.parts}  # fmt: skip


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1] or 'default'}")
def installed(request: pytest.FixtureRequest) -> Iterator[tuple[Path, Path, str]]:
    """(the user's project, the virtualenv's python, the buggy file) for one layout and install mode."""
    layout, mode = request.param
    files, buggy = LAYOUTS[layout]
    tmp = shared_tmp("repairbot-editable-")
    project = write_project(tmp / "proj", files)
    python = make_venv(tmp / "venv", (*PYTEST, "setuptools"))
    pip_install_editable(python, project, mode)
    # The install really points at the user's tree: from outside it, the project imports from there.
    probe = subprocess.run([str(python), "-c", "import gamma as m" if layout == "several" else
                            "import acme.calc as m" if layout == "namespace" else "import calc as m",
                            ], cwd="/", capture_output=True, text=True, check=False)  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    yield project, python, buggy
    shutil.rmtree(tmp, ignore_errors=True)


def _check(sandbox_factory: Any, project: Path, python: Path, buggy: str) -> None:
    before = _hashes(project)
    scratch = shared_tmp("repairbot-editable-scratch-")
    try:
        command = parse_test_cmd(f"{python} -m pytest")
        with sandbox_factory(scratch, command) as sb:
            ws = Workspace(project, scratch, 1)
            base = sb.run(RunSpec(ws.base, timeout_s=120))
            outcomes = {o.nodeid: o for o in base.outcomes}
            assert outcomes["tests/test_behaviour.py::test_double"].outcome == "failed", base.output[-2000:]
            for nodeid in ("tests/test_where.py::test_imports_come_from_the_tree_under_test",
                           "tests/test_where.py::test_a_subprocess_imports_the_same_tree"):  # fmt: skip
                assert outcomes[nodeid].outcome == "passed", outcomes[nodeid].longrepr[-2000:]
            slot = ws.slot(0, {buggy: FIXED.encode()})
            fixed = sb.run(RunSpec(slot, timeout_s=120))
            assert fixed.outcomes and all(o.outcome == "passed" for o in fixed.outcomes), fixed.output[-3000:]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert _hashes(project) == before


def test_local_sandbox_imports_the_copy(installed: tuple[Path, Path, str]) -> None:
    project, python, buggy = installed
    _check(lambda scratch, cmd: LocalSandbox(scratch, cmd, 1, project=project), project, python, buggy)


@pytest.mark.docker
def test_docker_sandbox_imports_the_copy(
    installed: tuple[Path, Path, str], engine: Any, job_labels: list[str]
) -> None:
    project, python, buggy = installed
    job = f"editable-{len(job_labels)}-{project.parent.name}"
    job_labels.append(job)
    _check(lambda scratch, cmd: DockerSandbox(scratch, cmd, 1, image="offline", job_id=job, project=project),
           project, python, buggy)  # fmt: skip


def test_installs_of_each_kind_were_made(installed: tuple[Path, Path, str]) -> None:
    """The cases cover what they claim: an import hook, a plain path entry, a link tree."""
    project, python, _ = installed
    (site,) = python.parent.parent.glob("lib/python3*/site-packages")
    finders = list(site.glob("__editable___*_finder.py"))
    link_trees = list(project.glob("build/__editable__.*"))
    pth = "".join(p.read_text() for p in site.glob("__editable__*.pth"))
    assert finders or link_trees or str(project) in pth, pth
    if link_trees:
        assert str(link_trees[0]) in pth
    assert sys.version_info >= (3, 8)
