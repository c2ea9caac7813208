"""Per-test coverage only where it helps, on large suites (README, "Scale").

Coverage with per-test contexts slows a suite several times over, and the spectrum only needs the tests that
run the code under suspicion. So a large suite's baseline runs without coverage (plain pytest speed); then
the failing tests run again with coverage (they also show who is flaky), which names the suspicious source
files; then a focused set of test files runs with coverage: the failing tests' own files, the files named
after a suspicious module (`test_<module>.py`), and the other test files of the failing tests' folders, at
most `limit` files in that order.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable


def focus_files(
    failing: Iterable[str], suspicious: Iterable[str], test_files: Iterable[str], limit: int
) -> tuple[str, ...]:
    tests = [t for t in test_files if posixpath.basename(t) != "conftest.py"]
    own = sorted({n.split("::", 1)[0] for n in failing} & set(tests))
    stems = {_singular(posixpath.splitext(posixpath.basename(s))[0]) for s in suspicious}
    stems.discard("__init__")
    named = sorted(t for t in tests if _stem_of_test(t) in stems)
    folders = {posixpath.dirname(t) for t in own}
    near = sorted(t for t in tests if posixpath.dirname(t) in folders)
    picked: list[str] = []
    for group in (own, named, near):
        for t in group:
            if t not in picked and len(picked) < max(limit, len(own)):
                picked.append(t)
    return tuple(picked)


def _stem_of_test(path: str) -> str:
    stem = posixpath.splitext(posixpath.basename(path))[0]
    if stem.startswith("test_"):
        stem = stem[5:]
    elif stem.endswith("_test"):
        stem = stem[:-5]
    return _singular(stem)


def _singular(stem: str) -> str:
    return stem.rstrip("s") or stem
