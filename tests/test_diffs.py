"""The one diff module: built with difflib, read with unidiff (strictly, or repairing a model's diff)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from unidiff.errors import UnidiffParseError

from repairbot import diffs


def test_built_diffs_read_back_and_apply_with_git(tmp_path: Path) -> None:
    old, new = b"a = 1\nb = 2\nc = 3\n", b"a = 1\nb = 20\nc = 3\nd = 4\n"
    diff = diffs.unified_diff("pkg/m.py", old, new) + diffs.unified_diff("pkg/new.py", None, b"x = 1\n")
    assert diffs.stats(diff) == (2, 3, 1)
    assert diffs.paths(diff) == ["pkg/m.py", "pkg/new.py"]
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/m.py").write_bytes(old)
    subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=diff.encode(), check=True)
    assert (tmp_path / "pkg/m.py").read_bytes() == new
    assert (tmp_path / "pkg/new.py").read_bytes() == b"x = 1\n"


def test_changed_lines_of_git_diff_u0(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True,
                              check=True).stdout  # fmt: skip

    git("init", "-q")
    (tmp_path / "m.py").write_text("a\nb\nc\nd\ne\n")
    git("add", "m.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    (tmp_path / "m.py").write_text("a\nB\nc\ne\nf\ng\n")  # line 2 changed, d removed, f and g added
    assert diffs.changed_lines(git("diff", "-U0", "--no-color", "HEAD")) == {"m.py": {2, 3, 5, 6}}


def test_target_ranges_of_a_github_file_patch() -> None:
    patch = "@@ -1,2 +1,3 @@\n a\n+b\n c\n@@ -10,2 +11,0 @@\n-x\n-y\n@@ -20 +19 @@\n-p\n+q\n"
    assert diffs.target_ranges(patch) == [(1, 3), (19, 19)]
    assert diffs.target_ranges("") == []


def test_a_models_sloppy_diff_is_repaired_before_reading() -> None:
    # Wrong counts in the header, a context line without its space, no `---` line.
    sloppy = (
        "+++ b/calc.py\n@@ -6,9 +6,9 @@ def total(xs):\n"
        "    s = 0\n-    for i in range(len(xs) - 1):\n+    for i in range(len(xs)):\n"
    )
    with pytest.raises(UnidiffParseError):
        diffs.parse(sloppy)
    (patched,) = diffs.parse_lenient(sloppy)
    (hunk,) = patched
    assert hunk.source_start == 6
    assert diffs.old_and_new(hunk) == (
        ["   s = 0", "    for i in range(len(xs) - 1):"],
        ["   s = 0", "    for i in range(len(xs)):"],
    )
