"""Checkout, work trees for candidates, edits and diffs.

The user's tree is read once into a private copy (`base`); every candidate runs in one of a few slot copies
of it, where only the files the candidate changes are rewritten and restored afterwards. The user's tree is
written only by `apply_to_user_tree`, which `--apply` calls with the chosen patch.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from repairbot.errors import BadInput
from repairbot.models import Edit

_SKIP_DIRS = {
    ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox",
    "node_modules", ".eggs", "build", "dist", ".venv", "venv", "env", ".benchmarks",
}  # fmt: skip
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
            yield Path(dirpath, name)


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


_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def encoding_of(data: bytes) -> str:
    """PEP 263: a coding cookie on one of the first two lines, else UTF-8."""
    for line in data.splitlines()[:2]:
        m = _CODING.match(line)
        if m:
            return m.group(1).decode("ascii")
    return "utf-8"


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
        self._slots = [scratch / f"slot{i}" for i in range(slots)]
        self._dirty: list[dict[str, bytes | None]] = [{} for _ in range(slots)]
        for slot in self._slots:
            _copy_tree(self.base, slot)

    @property
    def slots(self) -> int:
        return len(self._slots)

    def slot(self, index: int, files: Mapping[str, bytes]) -> Path:
        """Slot `index` with exactly `files` changed relative to the base copy."""
        slot = self._slots[index]
        dirty = self._dirty[index]
        for rel in list(dirty):
            if rel not in files:
                _restore(self.base / rel, slot / rel)
                del dirty[rel]
        for rel, data in files.items():
            target = slot / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            dirty[rel] = data
        return slot

    def tree(self, name: str, files: Mapping[str, bytes]) -> Path:
        """A separate full copy with `files` changed (for runs that must not disturb the slots)."""
        path = self.scratch / name
        if path.exists():
            shutil.rmtree(path)
        _copy_tree(self.base, path)
        for rel, data in files.items():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_bytes(data)
        return path


def _restore(src: Path, dst: Path) -> None:
    if src.exists():
        shutil.copy2(src, dst)
    elif dst.exists():
        dst.unlink()


def _copy_tree(src: Path, dst: Path) -> None:
    """A real copy (never hard links into the user's tree: a test writing a file must not reach it)."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in _walk(src):
        rel = path.relative_to(src)
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            link = os.readlink(path)
            if not os.path.isabs(link):  # keep relative links; absolute ones could point at anything
                os.symlink(link, target)
            continue
        if path.is_file():
            shutil.copy2(path, target)


def apply_to_user_tree(root: Path, files: Mapping[str, bytes]) -> None:
    """Write the patched files into the user's tree, each atomically, keeping their modes."""
    for rel, data in files.items():
        target = root / rel
        mode = target.stat().st_mode if target.exists() else 0o644
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
