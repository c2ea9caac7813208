"""unittest-era suites (`python -m unittest`, `python setup.py test`) run through pytest's unittest support:
per-test outcomes and coverage, even in a virtualenv without pytest."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from repairbot.models import Job
from repairbot.pipeline import repair
from repairbot.testing.runs import parse_test_cmd
from tests.support.projects import write_project
from tests.support.venvs import make_venv, shared_tmp

UNITTEST_PROJECT = {
    "calc.py": "def total(xs):\n    s = 0\n    for i in range(len(xs) - 1):\n"
    "        s += xs[i]\n    return s\n",
    "tests/__init__.py": "",
    # unittest's default pattern (test*.py) finds this file; pytest's default (test_*.py) would not.
    "tests/testcalc.py": "import unittest\n\nfrom calc import total\n\n\n"
    "class TestTotal(unittest.TestCase):\n"
    "    def test_total(self):\n        self.assertEqual(total([1, 2, 3]), 6)\n\n"
    "    def test_empty(self):\n        self.assertEqual(total([]), 0)\n",
}


def test_unittest_commands_become_pytest_runs(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", UNITTEST_PROJECT)
    files = ("-o", "python_files=test*.py")
    assert parse_test_cmd("python -m unittest", root=root).pytest_args == files
    assert parse_test_cmd("python -m unittest discover -s tests -p 'test*.py' -v", root=root).pytest_args == (
        *files,
        "tests",
    )
    assert parse_test_cmd("python3 -m unittest discover tests", root=root).pytest_args == (*files, "tests")
    assert parse_test_cmd(
        "python -m unittest tests.testcalc.TestTotal.test_total", root=root
    ).pytest_args == (
        *files,
        "tests/testcalc.py::TestTotal::test_total",
    )
    assert parse_test_cmd("python -m unittest tests", root=root).pytest_args == (*files, "tests")
    setup_test = parse_test_cmd("python setup.py test", root=root)
    assert setup_test.pytest_args == ("-o", "python_files=test*.py *_test.py")
    # What has no pytest equivalent runs as the command it is.
    odd = parse_test_cmd("python -m unittest --some-new-flag", root=root)
    assert odd.pytest_args is None and odd.argv == ("python", "-m", "unittest", "--some-new-flag")


@pytest.fixture(scope="module")
def no_pytest() -> Iterator[Path]:
    tmp = shared_tmp("repairbot-unittest-")
    yield make_venv(tmp / "venv", ())
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.slow
def test_a_unittest_suite_in_a_venv_without_pytest_is_repaired_with_per_test_outcomes(
    no_pytest: Path, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "p", UNITTEST_PROJECT)
    cmd = (str(no_pytest), "-m", "unittest", "discover", "-s", "tests")
    report = repair(Job(root=root, test_cmd=cmd, sandbox="local", budget_s=120))
    assert report.status == "fixed", report.to_json()
    assert report.failing_tests == ("tests/testcalc.py::TestTotal::test_total",)
    assert "+    for i in range(len(xs)):" in report.patches[0].diff
    assert any("repairbot supplied its own (pytest" in n for n in report.notes), report.notes
