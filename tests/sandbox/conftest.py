"""Fixtures for the sandbox tests: a real Docker engine (skipped when absent, unless CI requires it)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repairbot.errors import EnvironmentProblem
from repairbot.sandbox.docker import connect_engine


@pytest.fixture(scope="session")
def engine() -> Any:
    try:
        return connect_engine()
    except EnvironmentProblem as exc:
        if os.environ.get("REPAIRBOT_REQUIRE_DOCKER"):
            pytest.fail(f"CI requires the Docker engine: {exc}")
        pytest.skip(f"no Docker engine: {exc}")


def write_tree(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def job_labels(engine: Any) -> Iterator[list[str]]:
    """Job ids a test used; any container left with one of them fails the test."""
    used: list[str] = []
    yield used
    for job in used:
        left = engine.api.containers(all=True, filters={"label": f"repairbot.job={job}"})
        for c in left:
            engine.api.remove_container(c["Id"], force=True)
        assert not left, f"containers outlived job {job}"


# Image mode's base images: `repairbot-test/python:{python}-slim` (the template given as --image).
PYTHON_TEMPLATE = "repairbot-test/python:{python}-slim"
# A real python:3.11-slim where a registry was reachable; else the Debian bookworm stand-in (Python 3.11, pip)
# that scripts/local-base-image.sh builds with debootstrap (.ci/run makes one of them).
_BASES = ("python:3.11-slim", "repairbot-local/bookworm-python:3.11")


def _have(engine: Any, ref: str) -> bool:
    import docker.errors

    try:
        engine.images.get(ref)
        return True
    except docker.errors.ImageNotFound:
        return False


def _other_python(minor: str) -> Path | None:
    """The prefix of a CPython 3.X installation on this host (pyenv's, or on PATH), to layer into an image."""
    import glob
    import shutil
    import subprocess

    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{minor}.*/bin/python{minor}")))
    which = shutil.which(f"python{minor}")
    for exe in [*candidates, *([which] if which else [])]:
        proc = subprocess.run([exe, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True)
        prefix = Path(proc.stdout.strip())
        if proc.returncode == 0 and (prefix / "lib" / f"python{minor}" / "os.py").is_file():
            return prefix
    return None


def _layer_python(engine: Any, base: str, prefix: Path, minor: str, ref: str, work: Path) -> None:
    """`base` with the CPython installation at `prefix` copied to /usr/local (its `python`, `python3` first on
    PATH), committed as `ref`: a python:3.X-slim stand-in for another minor version."""
    import tarfile

    skip = {f"lib/python{minor}/test", f"lib/python{minor}/idlelib", f"lib/python{minor}/tkinter"}

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        rel = info.name.split("/", 1)[1] if "/" in info.name else ""
        if any(rel == s or rel.startswith(s + "/") for s in skip) or "__pycache__" in rel:
            return None
        if rel.startswith(f"lib/python{minor}/site-packages/") and rel.endswith(".pth"):
            return None  # this host's own path hooks
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    tar_path = work / "python.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name in ("bin", "lib", "include"):
            if (prefix / name).exists():
                tar.add(prefix / name, arcname=f"local/{name}", filter=keep)
    container = engine.containers.create(base, ["/sbin/ldconfig"], network_mode="none", user="root")
    try:
        with open(tar_path, "rb") as fh:
            container.put_archive("/usr", fh)
        container.start()
        assert container.wait(timeout=120)["StatusCode"] == 0  # libpython in the loader's cache
        repo, tag = ref.split(":")
        container.commit(repository=repo, tag=tag, conf={"Cmd": ["python3"]})
    finally:
        container.remove(force=True)


@pytest.fixture(scope="session")
def python_images(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """PYTHON_TEMPLATE with 3.11 (a base above) and 3.12 (this host's 3.12 layered onto it) present; built
    once, kept by tag."""
    ref311 = PYTHON_TEMPLATE.format(python="3.11")
    if not _have(engine, ref311):
        base = next((b for b in _BASES if _have(engine, b)), None)
        if base is None:
            message = f"no Python base image: none of {', '.join(_BASES)} (see scripts/local-base-image.sh)"
            if os.environ.get("REPAIRBOT_REQUIRE_DOCKER"):
                pytest.fail(message)
            pytest.skip(message)
        engine.images.get(base).tag(*ref311.split(":"))
    ref312 = PYTHON_TEMPLATE.format(python="3.12")
    if not _have(engine, ref312):
        prefix = _other_python("3.12")
        if prefix is None:
            pytest.skip("no CPython 3.12 on this host to build a 3.12 image from")
        _layer_python(engine, ref311, prefix, "3.12", ref312, tmp_path_factory.mktemp("py312"))
    return PYTHON_TEMPLATE
