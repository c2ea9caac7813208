from __future__ import annotations

from pathlib import Path

import pytest

from repairbot.diffs import unified_diff
from repairbot.errors import BadInput
from repairbot.models import Edit
from repairbot.workspace import (
    Workspace,
    apply_edits,
    apply_to_user_tree,
    check_project,
    discover,
)
from tests.support.projects import write_project


def test_apply_edits_is_byte_exact_outside_the_edit() -> None:
    src = b"a = 1\r\nb = a < 2  # keep\r\n"
    start = src.index(b"<")
    out = apply_edits(src, [Edit("m.py", start, start + 1, b"<=")])
    assert out == b"a = 1\r\nb = a <= 2  # keep\r\n"
    with pytest.raises(ValueError):
        apply_edits(src, [Edit("m.py", 0, 3, b""), Edit("m.py", 2, 4, b"")])


def test_discover_splits_sources_and_tests_and_skips_junk(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "pkg/m.py": "x = 1\n", "tests/test_m.py": "", "conftest.py": "", ".venv/lib/x.py": "",
        "big.py": "#" * 1_100_000, "latin.py": b"# -*- coding: latin-1 -*-\ns = '\xe9'\n",
        "broken.py": b"s = '\xff'\n",
    })  # fmt: skip
    files = discover(tmp_path)
    assert files.source == ("latin.py", "pkg/m.py")
    assert set(files.tests) == {"conftest.py", "tests/test_m.py"}
    assert set(files.skipped) == {"big.py", "broken.py"}


def test_check_project_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such directory"):
        check_project(tmp_path / "missing")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(BadInput, match="not a directory"):
        check_project(tmp_path / "f.txt")
    with pytest.raises(BadInput, match="no Python files"):
        check_project(tmp_path)


def test_slots_change_only_what_the_candidate_changes(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"a.py": "A\n", "b.py": "B\n"})
    ws = Workspace(root, tmp_path / "scratch", slots=1)
    slot = ws.slot(0, {"a.py": b"A2\n"})
    assert (slot / "a.py").read_bytes() == b"A2\n"
    slot = ws.slot(0, {"b.py": b"B2\n"})
    assert (slot / "a.py").read_bytes() == b"A\n" and (slot / "b.py").read_bytes() == b"B2\n"
    assert (root / "a.py").read_bytes() == b"A\n" and (root / "b.py").read_bytes() == b"B\n"


def test_apply_to_user_tree_and_diff_keep_line_endings(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"m.py": "x = 1\r\ny = 2\n"})
    (root / "m.py").chmod(0o755)
    apply_to_user_tree(root, {"m.py": b"x = 1\r\ny = 3\n"})
    assert (root / "m.py").read_bytes() == b"x = 1\r\ny = 3\n"
    assert (root / "m.py").stat().st_mode & 0o777 == 0o755
    diff = unified_diff("m.py", b"x = 1\r\ny = 2\n", b"x = 1\r\ny = 3\n")
    assert diff.startswith("--- a/m.py\n+++ b/m.py\n") and "-y = 2\n+y = 3\n" in diff and " x = 1\r\n" in diff
    assert unified_diff("m.py", b"a", b"b").endswith("+b\n\\ No newline at end of file\n")
