"""Checkout, work trees for candidates, edits and diffs.

The user's tree is read once into a private copy (`base`); every candidate runs in one of a few slot trees
made from it, where only the files the candidate changes are rewritten and restored afterwards. The user's
tree is written only by `apply_to_user_tree`, which `--apply` calls with the chosen patch.

Slots and the other trees of a job (baseline, probes) do not duplicate a large project: their Python files
are hard links to the base copy's (never to the user's tree), made read-only, and a file is copied on first
write: a candidate's file replaces the link (unlink, then write) instead of writing through it. Other files
(data a test might rewrite in place) are real copies. As root, read-only bits do not stop a test that
rewrites a Python file of its tree in place; `check_base` tells when that happened.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from repairbot.errors import BadInput
from repairbot.models import Edit
from repairbot.parsing.tree import detect_encoding
from repairbot.paths import (
    inside,
    link_stays_inside,
    parents_inside,
    read_inside,
    remove_inside,
    write_inside,
)

_SKIP_DIRS = {
    ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox",
    "node_modules", ".eggs", "build", "dist", ".venv", "venv", "env", ".benchmarks",
}  # fmt: skip
# Credential files a checkout may carry (`.git`, where a checkout's token lives, is skipped above): never
# copied into a work tree, so never inside a container.
CREDENTIAL_FILES = {".netrc", "_netrc", ".pypirc", ".git-credentials", ".npmrc", ".dockercfg", ".env"}
MAX_FILE_BYTES = 1_000_000  # larger Python files are left alone (generated code, vendored data)


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    source: tuple[str, ...]  # Python files a code repair may edit
    tests: tuple[str, ...]  # test files and conftest.py
    skipped: tuple[str, ...]  # too large or undecodable: never edited


def is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    parts = path.split("/")[:-1]
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(p in ("tests", "test", "testing") for p in parts)
    )


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _SKIP_DIRS
            and not d.endswith(".egg-info")
            and not (Path(dirpath, d, "pyvenv.cfg").exists())
        )
        for name in sorted(filenames):
            if not is_credential(name):
                yield Path(dirpath, name)


def is_credential(name: str) -> bool:
    return name in CREDENTIAL_FILES or name.startswith(".env.")


def discover(root: Path) -> ProjectFiles:
    source, tests, skipped = [], [], []
    for path in _walk(root):
        if path.suffix != ".py" or path.is_symlink():
            continue
        rel = path.relative_to(root).as_posix()
        if path.stat().st_size > MAX_FILE_BYTES or not _decodable(path.read_bytes()):
            skipped.append(rel)
        elif is_test_path(rel):
            tests.append(rel)
        else:
            source.append(rel)
    return ProjectFiles(tuple(source), tuple(tests), tuple(skipped))


def encoding_of(data: bytes) -> str:
    """PEP 263 (a BOM or a coding cookie on one of the first two lines, else UTF-8): the parser's reading."""
    return detect_encoding(data)


def _decodable(data: bytes) -> bool:
    try:
        data.decode(encoding_of(data))
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def apply_edits(original: bytes, edits: Iterable[Edit]) -> bytes:
    """Apply non-overlapping byte-range edits; everything outside them stays byte-identical."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    out: list[bytes] = []
    pos = 0
    for e in ordered:
        if e.start < pos or e.end < e.start or e.end > len(original):
            raise ValueError(f"overlapping or out-of-range edit at bytes {e.start}-{e.end}")
        out.append(original[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(original[pos:])
    return b"".join(out)


class Workspace:
    """A private copy of the project and `slots` work trees for candidates, under `scratch`."""

    def __init__(self, root: Path, scratch: Path, slots: int) -> None:
        self.root = root
        self.scratch = scratch
        self.base = scratch / "base"
        _copy_tree(root, self.base)
        self._shared = _share(self.base)  # rel -> (size, mtime_ns) of the hard-linked, read-only files
        self._lock = threading.Lock()
        self._slots = [scratch / f"slot{i}" for i in range(slots)]
        self._dirty: list[dict[str, bytes | None]] = [{} for _ in range(slots)]
        for slot in self._slots:
            _link_tree(self.base, slot)

    @property
    def slots(self) -> int:
        return len(self._slots)

    def slot(self, index: int, files: Mapping[str, bytes]) -> Path:
        """Slot `index` with exactly `files` changed relative to the base copy."""
        slot = self._slots[index]
        dirty = self._dirty[index]
        for rel in list(dirty):
            if rel not in files:
                _restore(self.base, slot, rel)
                del dirty[rel]
        for rel, data in files.items():
            # Candidate paths come from patches and test node ids (which a test can forge): checked, and
            # written as a new file, never through a hard link the other trees share.
            write_inside(slot, rel, data)
            dirty[rel] = data
        return slot

    def tree(self, name: str, files: Mapping[str, bytes]) -> Path:
        """A separate full copy with `files` changed (for runs that must not disturb the slots)."""
        path = self.scratch / name
        if path.exists():
            shutil.rmtree(path)
        _link_tree(self.base, path)
        for rel, data in files.items():
            write_inside(path, rel, data)
        return path

    def check_base(self) -> list[str]:
        """Shared files that something wrote through a hard link (a test rewriting its tree in place, as
        root): they are restored from the user's tree and relinked in the slots, and named."""
        changed = []
        with self._lock:
            for rel, (size, mtime) in self._shared.items():
                try:
                    st = (self.base / rel).stat()
                except OSError:
                    continue
                if (st.st_size, st.st_mtime_ns) == (size, mtime):
                    continue
                changed.append(rel)
                write_inside(self.base, rel, read_inside(self.root, rel))
                st = (self.base / rel).stat()
                (self.base / rel).chmod(st.st_mode & ~0o222)
                self._shared[rel] = (st.st_size, st.st_mtime_ns)
                for slot, dirty in zip(self._slots, self._dirty, strict=True):
                    if rel not in dirty:
                        _restore(self.base, slot, rel)
        return changed


_LINKED = (".py", ".pyi")  # shared by hard link: tests read them, they do not rewrite them


def _share(base: Path) -> dict[str, tuple[int, int]]:
    """Make the base copy's Python files read-only (they are shared by hard link); their size and mtime."""
    shared: dict[str, tuple[int, int]] = {}
    for path in _walk(base):
        if path.suffix in _LINKED and path.is_file() and not path.is_symlink():
            st = path.stat()
            path.chmod(st.st_mode & ~0o222)
            shared[path.relative_to(base).as_posix()] = (st.st_size, st.st_mtime_ns)
    return shared


def _link_tree(src: Path, dst: Path) -> None:
    """A tree whose Python files are hard links to `src`'s (one inode per file for all trees of a job) and
    whose other files are copies. Falls back to copies where links cannot be made (another file system)."""
    _copy_tree(src, dst, link=True)


def _restore(base: Path, slot: Path, rel: str) -> None:
    """Put `rel` back in `slot` as it is in `base` (a hard link or copy, a link kept by `_copy_tree`, or
    nothing)."""
    src = inside(base, rel)
    remove_inside(slot, rel)
    if src.is_symlink():
        os.symlink(os.readlink(src), parents_inside(slot, rel))
    elif src.is_file():
        _place(src, parents_inside(slot, rel), link=True)


def _place(src: Path, dst: Path, *, link: bool) -> None:
    if link and src.suffix in _LINKED:
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)


def _copy_tree(src: Path, dst: Path, *, link: bool = False) -> None:
    """A copy of `src` (`link`: Python files hard-linked, see `_link_tree`). Never used with `link` on the
    user's tree: a test writing a file must not reach it."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in _walk(src):
        rel = path.relative_to(src)
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            # Keep links that stay inside the tree; absolute ones, or `../..` ones leading out, could make
            # a later write (or a local test's read) land anywhere.
            if link_stays_inside(path, src):
                os.symlink(os.readlink(path), target)
            continue
        if path.is_file():
            _place(path, target, link=link)


def copy_project(src: Path, dst: Path) -> None:
    """A plain copy of the project without what never enters a container (version control, credential
    files, virtualenvs, caches)."""
    _copy_tree(src, dst)


def apply_to_user_tree(root: Path, files: Mapping[str, bytes]) -> None:
    """Write the patched files into the user's tree, each atomically, keeping their modes. The paths are
    checked to stay in the tree (a checkout's directory symlink must not carry a write outside)."""
    for rel, data in files.items():
        target = parents_inside(root, rel)
        mode = target.stat().st_mode if target.exists() and not target.is_symlink() else 0o644
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".repairbot")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, mode & 0o7777)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def check_project(root: Path) -> ProjectFiles:
    """Validate PATH for `repair` and `localize`; BadInput with a one-line reason otherwise."""
    if not root.exists():
        raise BadInput(f"{root}: no such directory")
    if not root.is_dir():
        raise BadInput(f"{root}: not a directory")
    files = discover(root)
    if not files.source and not files.tests:
        if files.skipped:
            raise BadInput(
                f"{root}: no Python file repairbot can read "
                f"({len(files.skipped)} skipped: larger than 1 MB or not valid in their declared encoding)"
            )
        raise BadInput(f"{root}: no Python files found")
    if not files.source:
        raise BadInput(f"{root}: only test files found; nothing to repair")
    return files
