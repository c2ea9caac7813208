"""The orchestrator with an intended change: obsolete tests are updated, real bugs get code fixes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repairbot.models import Job
from repairbot.pipeline import repair
from tests.support.projects import write_project


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def _repo(root: Path, before: dict[str, str], after: dict[str, str]) -> str:
    write_project(root, before)
    _git(root, "init", "-q")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    base = _git(root, "rev-parse", "HEAD").strip()
    write_project(root, after)
    return base


TEST = "from units import to_cm\n\n\ndef test_inches():\n    assert to_cm(2) == 5.08\n"


def test_a_renamed_function_updates_its_test(tmp_path: Path) -> None:
    root = tmp_path / "p"
    base = _repo(root, {"units.py": "def to_cm(inches):\n    return inches * 2.54\n", "test_units.py": TEST},
                 {"units.py": "def inches_to_cm(inches):\n    return inches * 2.54\n"})  # fmt: skip
    report = repair(Job(root=root, base=base, sandbox="local", budget_s=120))
    assert report.status == "fixed" and report.kind == "test", report.to_json()
    patch = report.patches[0]
    assert patch.files == ("test_units.py",) and patch.generator == "tests" and patch.evidence
    assert (
        "+from units import inches_to_cm" in patch.diff
        and "+    assert inches_to_cm(2) == 5.08" in patch.diff
    )
    assert any("judged obsolete" in note for note in report.notes)
    # The test module no longer imports; its test passed at the base: the change broke it.
    assert report.base == base and report.newly_failing == report.failing_tests == ("test_units.py",)


def test_a_bug_in_the_change_is_fixed_in_the_code_not_the_test(tmp_path: Path) -> None:
    root = tmp_path / "p"
    base = _repo(root, {"units.py": "def to_cm(inches):\n    return inches * 2.54\n", "test_units.py": TEST},
                 {"units.py": "def to_cm(inches):\n    return inches + 2.54\n"})  # fmt: skip
    report = repair(Job(root=root, base=base, sandbox="local", budget_s=120))
    assert report.status == "fixed" and report.kind == "code", report.to_json()
    assert all(p.kind == "code" and "test_units.py" not in p.files for p in report.patches)
    assert "+    return inches * 2.54" in report.patches[0].diff
