"""Where the user's tree is, for the runner that makes every run import the tree under test instead.

A project installed in editable mode in its test interpreter points at the user's tree: a path entry (a
`.pth` line, `setup.py develop`, setuptools' compat mode or a `src/` layout), a setuptools import hook
(`__editable___*_finder.py`, the default for flat layouts) or a strict-mode link tree (`build/__editable__.*`,
links to the user's files). Tests run in copies of that tree (slots, the baseline, the tree at `--base`), so
the fork server's child rewrites each of these to the copy it runs in (server.py, `_redirect_imports`). This
module computes, on the host, what the child cannot see from inside a container: the user's tree under each
name it has, the test interpreter's path entries into it (inside a container, site.py drops `.pth` lines
whose folder is absent, and the user's tree is never mounted), and where each link tree's entries really
come from.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_LINK_TREE_GLOB = "build/__editable__.*"  # setuptools' strict editable mode (its default build dir)
_SKIP = {".git", ".hg", ".tox", ".nox", ".venv", "venv", "node_modules", "build", "dist", "__pycache__"}
_MAX_WALK = 20000  # files looked at to match hard links: a link tree's first file is usually found at once


def origin_info(
    project: Path | None, sys_path: Iterable[str] = (), aliases: Iterable[str] = ()
) -> dict[str, Any] | None:
    """{"origins": [the user's tree, as given and resolved], "entries": [the test interpreter's path entries
    into it (`sys_path`: its sys.path as probed on the host)], "links": {link tree: [source roots]}}.
    `aliases`: other paths of the same tree where the interpreter was set up (a dependency image installs
    the project editable from a copy at a fixed path, see repairbot/sandbox/install.py)."""
    if project is None:
        return None
    given = os.path.normpath(os.path.abspath(project))
    named = {given, os.path.realpath(given), *(os.path.normpath(a) for a in aliases)}
    origins = sorted(named, key=len, reverse=True)
    entries = [e for e in sys_path if any(e == o or e.startswith(o + os.sep) for o in origins)]
    links: dict[str, list[str]] = {}
    for tree in sorted(Path(given).glob(_LINK_TREE_GLOB)):
        if tree.is_dir():
            roots = _link_roots(tree, Path(given))
            if roots:
                links[str(tree)] = roots
                links[os.path.realpath(tree)] = roots
    return {"origins": origins, "entries": entries, "links": links}


def _link_roots(tree: Path, project: Path) -> list[str]:
    """The source roots a link tree's top-level entries come from (symlinked or hard-linked files)."""
    roots: list[str] = []
    inodes: dict[tuple[int, int], str] | None = None
    for entry in sorted(tree.iterdir()):
        sample = _first_file(entry)
        if sample is None:
            continue
        rel = sample.relative_to(tree)
        if sample.is_symlink():
            source = os.path.realpath(sample)
        else:
            if inodes is None:
                inodes = _inodes(project)
            st = sample.stat()
            found = inodes.get((st.st_dev, st.st_ino))
            if found is None:
                continue
            source = found
        suffix = os.sep + str(rel)
        if source.endswith(suffix):
            root = source[: -len(suffix)]
            if root not in roots:
                roots.append(root)
    return roots


def _first_file(entry: Path) -> Path | None:
    if entry.is_file():
        return entry
    for dirpath, dirnames, filenames in os.walk(entry):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".py"):
                return Path(dirpath, name)
    return None


def _inodes(project: Path) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    seen = 0
    for dirpath, dirnames, filenames in os.walk(project):
        dirnames[:] = [d for d in dirnames if d not in _SKIP and not d.endswith(".egg-info")]
        for name in filenames:
            seen += 1
            if seen > _MAX_WALK:
                return found
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                continue
            if st.st_nlink > 1:
                found[(st.st_dev, st.st_ino)] = os.path.realpath(path)
    return found
