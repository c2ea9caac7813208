"""Real virtualenvs for tests, made in seconds: `python -m venv --without-pip`, and the distributions a test
asks for copied from this interpreter's installation into a folder on the virtualenv's path (no index, no
download). Copies, not links: the Docker sandbox mounts the virtualenv, not this interpreter's site-packages.
The virtualenvs live in a world-readable temporary folder, since the sandbox user must read them.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PYTEST = ("pytest", "pluggy", "iniconfig", "packaging")


def shared_tmp(prefix: str) -> Path:
    """A temporary folder every user can read (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def _top_levels(dist: importlib.metadata.Distribution) -> list[str]:
    names: list[str] = []
    for f in dist.files or ():
        top = f.parts[0]
        if top == ".." or top.endswith(".pth") or top in names:
            continue
        if top.endswith(".dist-info") or f.suffix == ".py" or len(f.parts) > 1:
            names.append(top)
    return names


def _closure(names: tuple[str, ...]) -> list[importlib.metadata.Distribution]:
    """The distributions and everything they require (markers evaluated, extras left out)."""
    from packaging.requirements import Requirement

    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        dist = importlib.metadata.distribution(name)
        found[key] = dist
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(found.values())


def make_venv(path: Path, distributions: tuple[str, ...] = PYTEST) -> Path:
    """A virtualenv at `path` with `distributions` and their requirements (nothing else); returns its
    python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    (purelib,) = path.glob("lib/python3*/site-packages")
    deps = path / "deps"
    deps.mkdir()
    for dist in _closure(distributions):
        for top in _top_levels(dist):
            src = Path(str(dist.locate_file(top)))
            if src.is_dir():
                shutil.copytree(src, deps / top, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.exists():
                shutil.copy2(src, deps / top)
    (purelib / "_test_deps.pth").write_text(f"{deps}\n")
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)
    return path / "bin" / "python"


def pip_install_editable(python: Path, project: Path, mode: str | None = None) -> None:
    """`pip install -e project` into the virtualenv of `python` (its setuptools builds; nothing downloaded).
    `mode`: None (setuptools' default), "compat" or "strict"."""
    args = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
            "--no-build-isolation", "-q", "-e", str(project)]  # fmt: skip
    if mode:
        args += ["--config-settings", f"editable_mode={mode}"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_CONSTRAINT")}
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for root, dirs, files in os.walk(project):  # the link tree of strict mode, readable by the sandbox user
        for name in (*dirs, *files):
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)
    for p in python.parent.parent.glob("lib/python3*/site-packages/*"):
        if p.is_file():
            p.chmod(0o644)
