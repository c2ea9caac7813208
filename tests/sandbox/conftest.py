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


MINI_PYTHON = "repairbot-test/python:{minor}-mini-2"
_SKIP_DIRS = {"test", "tests", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "site-packages"}
_SITE = ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "coverage", "pygments", "py.py")


@pytest.fixture(scope="session")
def mini_python_image(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small python:3.X-slim stand-in built from this host's interpreter (no registry is reachable here):
    /usr/local/bin/python, the standard library, pytest and coverage, libc. Built once, kept by tag."""
    import sys
    import tarfile

    import docker.errors

    ref = MINI_PYTHON.format(minor=f"{sys.version_info.major}.{sys.version_info.minor}")
    try:
        engine.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
    stdlib = Path(os.__file__).parent
    site = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    exe = Path(os.path.realpath(sys.executable))
    libs = [Path(p) for p in ("/lib64/ld-linux-x86-64.so.2",)]
    libdir = Path("/lib/x86_64-linux-gnu")
    libs += [libdir / n for n in ("libc.so.6", "libm.so.6", "libz.so.1", "libffi.so.8")]
    libpython = exe.parent.parent / "lib" / f"lib{ver}.so.1.0"
    tar_path = tmp_path_factory.mktemp("mini") / "root.tar"
    with tarfile.open(tar_path, "w") as tar:

        def add(src: Path, arc: str) -> None:
            tar.add(os.path.realpath(src), arcname=arc, recursive=False)

        for d in ("usr", "usr/local", "usr/local/bin", "usr/local/lib", "etc", "lib", "lib64", "tmp"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        add(exe, f"usr/local/bin/{ver}")
        link = tarfile.TarInfo("usr/local/bin/python")
        link.type, link.linkname = tarfile.SYMTYPE, ver
        tar.addfile(link)
        add(libpython, f"lib/lib{ver}.so.1.0")
        for lib in libs:
            if lib.exists():
                add(lib, str(lib).lstrip("/"))
        for root, dirs, files in os.walk(stdlib):
            rel = Path(root).relative_to(stdlib)
            top = rel == Path(".")
            dirs[:] = [d for d in dirs if not (top and d in _SKIP_DIRS) and not d.startswith("config-")]
            for name in files:
                add(Path(root) / name, f"usr/local/lib/{ver}/{rel / name}")
        for name in _SITE:
            src = site / name
            if src.exists():
                tar.add(src, arcname=f"usr/local/lib/{ver}/site-packages/{name}")
        for dist in site.glob("*.dist-info"):
            if dist.name.split("-")[0].lower() in _SITE:
                tar.add(dist, arcname=f"usr/local/lib/{ver}/site-packages/{dist.name}")
        passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size, info.mode = len(passwd), 0o644
        import io

        tar.addfile(info, io.BytesIO(passwd))
    repo, tag = ref.split(":")
    with open(tar_path, "rb") as fh:
        engine.api.import_image_from_data(fh.read(), repository=repo, tag=tag)
    return ref
