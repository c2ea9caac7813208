"""The orchestrator end to end (local sandbox): the self-debugging loop and the masked-LM path."""

from __future__ import annotations

from pathlib import Path

import pytest

from repairbot.models import Job
from repairbot.pipeline import repair
from tests.support.projects import write_project

TWO_BUGS = {
    "shapes.py": (
        "def area(w, h):\n    return w + h\n\n\n"
        "def describe(w, h):\n    kind = 'square' if w == h else 'rectangle'\n    size = f'{w}x{h}'\n"
        "    return f'{kind} {size}'\n\n\n"
        "def perimeter(w, h):\n    return 2 * (w - h)\n"
    ),
    "test_shapes.py": (
        "from shapes import area, describe, perimeter\n\n\n"
        "def test_area():\n    assert area(2, 3) == 6\n\n\n"
        "def test_area_square():\n    assert area(4, 4) == 16\n\n\n"
        "def test_perimeter():\n    assert perimeter(2, 3) == 10\n\n\n"
        "def test_perimeter_square():\n    assert perimeter(1, 1) == 4\n\n\n"
        "def test_describe():\n    assert describe(2, 2) == 'square 2x2'\n"
    ),
}


def test_partial_fixes_combine_into_a_multi_hunk_patch(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", TWO_BUGS)
    report = repair(Job(root=root, sandbox="local", budget_s=120, generators=("rules",)))
    assert report.status == "fixed", report.to_json()
    diff = report.patches[0].diff
    assert "+    return w * h\n" in diff and "+    return 2 * (w + h)\n" in diff
    assert diff.count("@@ ") == 2  # two hunks, one per function
    assert report.stats.rounds >= 2 and len(report.rounds) == report.stats.rounds
    first = report.rounds[0]
    assert first.partial >= 1 and first.plausible == 0
    assert report.rounds[-1].plausible >= 1 and report.rounds[-1].base_fixed
    assert (root / "shapes.py").read_text() == TWO_BUGS["shapes.py"]  # no --apply


def test_one_round_budget_reports_no_fix_for_two_bugs(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", TWO_BUGS)
    report = repair(Job(root=root, sandbox="local", budget_s=120, generators=("rules",), max_rounds=1))
    assert report.status == "not_fixed" and report.stats.rounds == 1 and report.rounds[0].partial >= 1


LESS_OR_EQUAL = {
    "bounds.py": "def check(a, b):\n    return a < b\n",
    "test_bounds.py": (
        "from bounds import check\n\n\n"
        "def test_equal_is_inside():\n    assert check(2, 2) is True\n\n\n"
        "def test_below():\n    assert check(1, 2) is True\n\n\n"
        "def test_above():\n    assert check(3, 2) is False\n"
    ),
}


def test_a_local_masked_lm_fills_the_hole_and_the_patch_validates(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from tests.support.tiny_mlm import build_tiny_mlm

    model = build_tiny_mlm(tmp_path / "model", arch="bert")
    root = write_project(tmp_path / "p", LESS_OR_EQUAL)
    # Only the mask generator: the rules' operator mutations cannot produce the fix on their own here.
    without = repair(Job(root=root, sandbox="local", budget_s=60, generators=("mask",)))
    job = Job(root=root, sandbox="local", budget_s=120, generators=("mask",), predictor=str(model))
    with_model = repair(job)
    assert with_model.status == "fixed", with_model.to_json()
    patch = with_model.patches[0]
    assert patch.generator == "mask" and "+    return a <= b\n" in patch.diff
    assert without.status == "not_fixed" or "a <= b" not in without.patches[0].diff
