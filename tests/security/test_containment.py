"""Containment (issue 11, item 6): every write derived from a patch path, a test node id or a payload stays
under its root, symlinks in a repository never lead a write outside the work tree, and the local sandbox
passes an allow-list environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from repairbot.errors import BadInput
from repairbot.models import RunSpec, Snapshot
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.runs import parse_test_cmd
from repairbot.workspace import Workspace, apply_to_user_tree
from tests.security.malicious import STOLEN_VARIABLE, MaliciousRepo, malicious_repository


@pytest.fixture
def repo(tmp_path: Path) -> MaliciousRepo:
    return malicious_repository(tmp_path)


def test_a_candidate_path_with_dotdot_is_refused(repo: MaliciousRepo, tmp_path: Path) -> None:
    ws = Workspace(repo.root, tmp_path / "scratch", 1)
    escaped = tmp_path / "escaped.py"
    with pytest.raises(BadInput):
        ws.slot(0, {"../../escaped.py": b"pwned = True\n"})
    with pytest.raises(BadInput):
        ws.tree("probe", {"../../escaped.py": b"pwned = True\n"})
    with pytest.raises(BadInput):
        ws.slot(0, {str(escaped): b"pwned = True\n"})  # absolute
    assert not escaped.exists()


def test_a_symlink_in_the_repository_never_carries_a_candidate_write_outside(
    repo: MaliciousRepo, tmp_path: Path
) -> None:
    before = repo.victim_state()
    ws = Workspace(repo.root, tmp_path / "scratch", 1)
    slot = ws.slot(0, {"escape.py": b"pwned = 1\n", "absolute.py": b"pwned = 2\n"})
    assert (slot / "escape.py").read_bytes() == b"pwned = 1\n"
    ws.slot(0, {})  # and back: restoring the base must not write through a link either
    ws.tree("probe", {"escape.py": b"pwned = 3\n"})
    assert repo.victim_state() == before


def test_a_directory_symlink_cannot_carry_an_applied_patch_outside(repo: MaliciousRepo) -> None:
    """`--apply` (and the Action) write into a checkout the contributor controls."""
    before = repo.victim_state()
    with pytest.raises(BadInput):
        apply_to_user_tree(repo.root, {"outside/injected.py": b"pwned = True\n"})
    with pytest.raises(BadInput):
        apply_to_user_tree(repo.root, {"../victim/injected.py": b"pwned = True\n"})
    assert repo.victim_state() == before


def test_an_applied_patch_replaces_a_file_symlink_instead_of_writing_through_it(repo: MaliciousRepo) -> None:
    before = repo.victim_state()
    apply_to_user_tree(repo.root, {"escape.py": b"fixed = True\n"})
    assert not (repo.root / "escape.py").is_symlink()
    assert (repo.root / "escape.py").read_bytes() == b"fixed = True\n"
    assert repo.victim_state() == before


def test_a_forged_node_id_path_reads_nothing_outside_the_tree(repo: MaliciousRepo) -> None:
    """Node ids come back from the sandbox, where test code can forge them; generators read those paths."""
    snap = Snapshot(repo.root)
    with pytest.raises(OSError):
        snap.read("../victim/escape-target.py")
    with pytest.raises(OSError):
        snap.read("outside/keep.txt")
    with pytest.raises(OSError):
        snap.read("escape.py")  # a link whose target is outside
    assert snap.read("lib.py").startswith(b"def within")


def test_the_local_sandbox_passes_only_allow_listed_variables(
    repo: MaliciousRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STOLEN_VARIABLE, "postgresql://repairbot:hunter2@db.internal/runs")
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.example/1")
    with LocalSandbox(tmp_path / "scratch", parse_test_cmd(None), parallel=1) as sandbox:
        run = sandbox.run(RunSpec(repo.root, tests=("test_steal_env.py",), timeout_s=60))
    outcome = run.outcome("test_steal_env.py::test_steal_env")
    assert outcome is not None, run.output
    assert outcome.outcome == "failed", "a host variable that is not allow-listed reached the test"
    assert os.environ[STOLEN_VARIABLE].startswith("postgresql://")  # it was there to steal
