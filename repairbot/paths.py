"""Paths that come from outside (patch headers, test node ids, payloads, a repository's own symlinks) resolved
under their root before anything is written there.

A relative path is accepted only if it names a place inside `root` once every symlink on the way is followed:
`../x`, an absolute path, a NUL byte, or a directory symlink that leads out of the tree is refused with
`UnsafePath`. A symlink in the last component is replaced by the file, never written through, so a
repository's `lib.py -> ../../../home/user/.bashrc` cannot turn an edit of `lib.py` into a write elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from repairbot.errors import BadInput


class UnsafePath(BadInput):
    """A path derived from untrusted input would lead outside its root."""


def _clean(rel: str) -> PurePosixPath:
    if not rel or "\0" in rel or "\\" in rel:
        raise UnsafePath(f"refusing the path {rel!r}: empty, or a NUL byte or backslash in it")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts == (".",):
        raise UnsafePath(f"refusing the path {rel!r}: absolute or outside its root")
    return pure


def _within(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def inside(root: Path, rel: str) -> Path:
    """`root / rel` after checking that its directory, symlinks followed, lies under `root`. The last
    component itself may be a symlink (the caller replaces it, `write_inside`, or reads it with
    `read_inside`)."""
    pure = _clean(rel)
    real_root = root.resolve()
    target = real_root.joinpath(*pure.parts)
    if not _within(target.parent.resolve(), real_root):
        raise UnsafePath(f"refusing the path {rel!r}: a symlink on the way leads outside {root}")
    return target


def parents_inside(root: Path, rel: str) -> Path:
    """`inside(root, rel)` with its missing directories created, each checked as it is made."""
    target = inside(root, rel)
    real_root = root.resolve()
    parent = target.parent
    missing = []
    while not parent.exists() and not parent.is_symlink():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir()
        if not _within(directory.resolve(), real_root):  # a race with code creating links meanwhile
            raise UnsafePath(f"refusing the path {rel!r}: {directory} leads outside {root}")
    return target


def write_inside(root: Path, rel: str, data: bytes) -> Path:
    """Write `data` as a new file at `rel` under `root`: missing directories are created (each one checked),
    and whatever is there (a symlink, or a file hard-linked into other trees) is replaced, never written
    through; the open never follows a link."""
    target = parents_inside(root, rel)
    if target.is_symlink() or target.exists():
        target.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return target


def read_inside(root: Path, rel: str) -> bytes:
    """The bytes at `rel` under `root`, refusing a path (or a final symlink) that resolves outside; an unsafe
    path reads as a missing file (FileNotFoundError), which callers already handle."""
    try:
        target = inside(root, rel)
    except UnsafePath as err:
        raise FileNotFoundError(str(err)) from None
    if not _within(target.resolve(), root.resolve()):
        raise FileNotFoundError(f"refusing the path {rel!r}: it is a symlink leading outside {root}")
    return target.read_bytes()


def remove_inside(root: Path, rel: str) -> None:
    """Remove `rel` under `root` (a symlink is removed, not its target); missing is fine."""
    target = inside(root, rel)
    if target.is_symlink() or target.exists():
        target.unlink()


def link_stays_inside(link: Path, root: Path) -> bool:
    """Whether the symlink `link` (somewhere under `root`) resolves to a place under `root`."""
    target = os.readlink(link)
    if os.path.isabs(target):
        return False
    resolved = Path(os.path.normpath(link.parent / target))
    return _within(resolved.resolve(), root.resolve())
