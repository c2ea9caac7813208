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


def test_slots_share_python_files_by_hard_link_and_copy_on_first_write(tmp_path: Path) -> None:
    user = write_project(tmp_path / "user", {"pkg/m.py": "x = 1\n", "pkg/n.py": "y = 2\n", "data.json": "{}"})
    ws = Workspace(user, tmp_path / "scratch", slots=2)
    base_m = ws.base / "pkg/m.py"
    assert base_m.stat().st_nlink == 3  # base and two slots: one inode, not three copies
    assert base_m.stat().st_ino != (user / "pkg/m.py").stat().st_ino  # never a link into the user's tree
    assert (ws.base / "data.json").stat().st_nlink == 1  # data a test might rewrite is copied
    assert not base_m.stat().st_mode & 0o222  # shared files are read-only
    slot = ws.slot(0, {"pkg/m.py": b"x = 2\n"})
    assert (slot / "pkg/m.py").read_bytes() == b"x = 2\n"
    assert (
        base_m.read_bytes() == b"x = 1\n" and (tmp_path / "scratch/slot1/pkg/m.py").read_bytes() == b"x = 1\n"
    )
    assert base_m.stat().st_nlink == 2  # the written file left the link
    slot = ws.slot(0, {})
    assert (slot / "pkg/m.py").read_bytes() == b"x = 1\n" and base_m.stat().st_nlink == 3  # linked again
    tree = ws.tree("probe", {"pkg/n.py": b"y = 3\n"})
    assert (tree / "pkg/m.py").stat().st_ino == base_m.stat().st_ino
    assert (ws.base / "pkg/n.py").read_bytes() == b"y = 2\n"
    assert (user / "pkg/m.py").read_bytes() == b"x = 1\n"


def test_a_write_through_a_shared_link_is_detected_and_undone(tmp_path: Path) -> None:
    user = write_project(tmp_path / "user", {"m.py": "x = 1\n"})
    ws = Workspace(user, tmp_path / "scratch", slots=1)
    slot = ws.slot(0, {})
    assert ws.check_base() == []
    (slot / "m.py").chmod(0o644)  # what a root test could do without even this
    with (slot / "m.py").open("w") as fh:  # rewritten in place, through the link
        fh.write("x = 'garbage'\n")
    assert (ws.base / "m.py").read_bytes() == b"x = 'garbage'\n"
    assert ws.check_base() == ["m.py"]
    assert (ws.base / "m.py").read_bytes() == b"x = 1\n" and (slot / "m.py").read_bytes() == b"x = 1\n"
    assert (slot / "m.py").stat().st_ino == (ws.base / "m.py").stat().st_ino
