"""A large suite (issue 10, Scale): coverage only where it helps, the whole suite for plausible patches."""

from __future__ import annotations

from pathlib import Path

from repairbot.models import Job
from repairbot.pipeline import LARGE_SUITE_FILES, repair
from tests.support.projects import write_project


def test_a_large_suite_is_repaired_with_focused_coverage(tmp_path: Path) -> None:
    n = LARGE_SUITE_FILES + 5
    files: dict[str, str] = {"mods/__init__.py": ""}
    for i in range(n):
        files[f"mods/m{i}.py"] = (
            f"def f{i}(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s + {i}\n"
        )
        files[f"tests/test_m{i}.py"] = (
            f"from mods.m{i} import f{i}\n\n\ndef test_f{i}():\n    assert f{i}([1, 2]) == {3 + i}\n\n\n"
            f"def test_f{i}_empty():\n    assert f{i}([]) == {i}\n"
        )
    files["mods/m7.py"] = "def f7(xs):\n    s = 0\n    for x in xs:\n        s -= x\n    return s + 7\n"
    root = write_project(tmp_path / "p", files)
    report = repair(Job(root=root, sandbox="local", budget_s=180))
    assert report.status == "fixed", report.to_json()
    assert report.failing_tests == ("tests/test_m7.py::test_f7",)
    assert report.patches[0].suite_passed and report.patches[0].files == ("mods/m7.py",)
    assert report.localization[0].path == "mods/m7.py"
    assert any(note.startswith(f"large suite ({n} test files)") for note in report.notes), report.notes
