"""Real suites (issue 10): collection errors outside the project, a test that wants a name the code lacks,
flaky tests, failures that predate an intended change. The rules are in repairbot/testing/triage.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repairbot.models import Job
from repairbot.pipeline import repair
from tests.support.projects import OFF_BY_ONE, write_project

CALC_TESTS = {"test_calc.py::test_total"}


def _git(root: Path, *args: str) -> str:
    ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
    return subprocess.run(["git", "-C", str(root), *ident, *args], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def test_an_unrelated_module_that_fails_to_import_is_kept_apart_and_the_rest_is_repaired(
    tmp_path: Path,
) -> None:
    root = write_project(tmp_path / "p", {
        **OFF_BY_ONE,
        # An old module of the suite that needs something this environment does not have.
        "test_legacy.py": "import a_package_nobody_installed\n\n\ndef test_old():\n    assert True\n",
    })  # fmt: skip
    report = repair(Job(root=root, sandbox="local", budget_s=120))
    assert report.status == "fixed", report.to_json()
    assert set(report.failing_tests) == CALC_TESTS
    assert any(n.startswith("pre-existing: 1 test module(s)") and "test_legacy.py" in n for n in report.notes)
    assert report.patches[0].suite_passed


def test_a_test_module_that_imports_a_name_the_code_lacks_is_a_target_not_an_environment_error(
    tmp_path: Path,
) -> None:
    root = write_project(tmp_path / "p", {
        "calc.py": "def double(x):\n    return 2 * x\n\n\ndef totl(xs):\n    return sum(xs)\n",
        "test_calc.py": "from calc import double, total\n\n\n"
        "def test_total():\n    assert total([1, 2]) == 3\n",
        "test_double.py": "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
    })  # fmt: skip
    report = repair(Job(root=root, sandbox="local", budget_s=60))
    assert report.status in ("fixed", "not_fixed") and report.error is None, report.to_json()
    assert report.failing_tests == ("test_calc.py",)
    # Localized to the definition most like the missing name.
    assert (report.localization[0].path, report.localization[0].line) == ("calc.py", 5), report.localization


def test_a_flaky_failure_is_reported_and_never_a_target(tmp_path: Path) -> None:
    state = tmp_path / "runs-of-the-flaky-test"
    root = write_project(tmp_path / "p", {
        **OFF_BY_ONE,
        # Fails on its first run only (a race, a cold cache, a network hiccup in real suites).
        "test_flaky.py": f"from pathlib import Path\n\nSTATE = Path({str(state)!r})\n\n\n"
        "def test_sometimes():\n    first = not STATE.exists()\n    STATE.write_text('x')\n"
        "    assert not first\n",
    })  # fmt: skip
    report = repair(Job(root=root, sandbox="local", budget_s=120))
    assert report.status == "fixed", report.to_json()
    assert set(report.failing_tests) == CALC_TESTS
    assert any(n.startswith("flaky: 1") and "test_flaky.py::test_sometimes" in n for n in report.notes)


def test_with_a_base_a_failure_that_predates_the_change_is_kept_apart(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {
        "calc.py": "def total(xs):\n    s = 0\n    for i in range(len(xs)):\n"
        "        s += xs[i]\n    return s\n",
        "test_calc.py": "from calc import total\n\n\ndef test_total():\n    assert total([1, 2, 3]) == 6\n",
        "test_other.py": "def test_known_broken():\n    assert 'a' == 'b'\n",
    })  # fmt: skip
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    (root / "calc.py").write_text(OFF_BY_ONE["calc.py"])
    report = repair(Job(root=root, base="HEAD", sandbox="local", budget_s=120, prefer="code"))
    assert report.status == "fixed", report.to_json()
    assert set(report.failing_tests) == CALC_TESTS
    assert any(n.startswith("pre-existing: 1 failing test(s) failed the same way") for n in report.notes)
