"""Benchmark cases (DESIGN §6): read from JSON Lines, written out as the folder or git repository a repair
runs on."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from repairbot.errors import BadInput
from repairbot.paths import write_inside

Case = dict[str, Any]

REQUIRED = ("id", "files", "tests")
# A co-evolution case also carries the base revision's files, what is expected to change and its reference.
COEVOLUTION_REQUIRED = ("id", "base", "files", "tests", "expect", "fixed")

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "repairbot",
    "GIT_AUTHOR_EMAIL": "repairbot@localhost",
    "GIT_COMMITTER_NAME": "repairbot",
    "GIT_COMMITTER_EMAIL": "repairbot@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def load_cases(path: Path, required: tuple[str, ...] = REQUIRED) -> list[Case]:
    """The cases of a JSON Lines benchmark file; a bad line is a BadInput naming it."""
    if not path.is_file():
        raise BadInput(f"{path}: no such benchmark file")
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}:{n}: not JSON ({exc.msg})") from None
        missing = [k for k in required if k not in case]
        if missing:
            raise BadInput(f"{path}:{n}: case lacks {', '.join(missing)}")
        cases.append(case)
    if not cases:
        raise BadInput(f"{path}: no cases")
    return cases


def is_coevolution(case: Case) -> bool:
    """A case with a base revision: its tests may be obsolete rather than its code wrong."""
    return "base" in case


def materialize(case: Case, dest: Path) -> None:
    """The case's buggy files and tests, written into `dest`."""
    _write(dest, {**case["files"], **case["tests"]})


def materialize_repo(case: Case, dest: Path) -> str:
    """A git repository for a co-evolution case: its base committed, the tree holding files + tests.
    Returns the base commit id."""
    return make_repo(dest, case["base"], {**case["files"], **case["tests"]})


def make_repo(
    root: Path,
    base: Mapping[str, str | bytes],
    tree: Mapping[str, str | bytes],
    *,
    commit_tree: bool = False,
    message: str = "change",
) -> str:
    """A git repository at `root` whose first commit holds `base`; then the files become `tree` (files of
    `base` missing from `tree` are deleted). With `commit_tree` the change is committed too. Returns the
    base commit id."""
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    _write(root, base)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    rev = _git(root, "rev-parse", "HEAD")
    for rel in base:
        if rel not in tree:
            (root / rel).unlink()
    _write(root, tree)
    if commit_tree:
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", message)
    return rev


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV}
    proc = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, env=env, check=True, timeout=60
    )
    return proc.stdout.decode().strip()


def _write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        # Bytes as given: CRLF lines stay CRLF. The path is the case file's: checked under the tree.
        write_inside(root, rel, content.encode("utf-8") if isinstance(content, str) else content)
