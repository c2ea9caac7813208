"""The fork-server runner through the local backend: outcomes, coverage, timeouts, crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from repairbot.models import RunSpec
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.runs import parse_test_cmd
from tests.support.projects import OFF_BY_ONE, write_project


@pytest.fixture
def sandbox(tmp_path: Path):
    with LocalSandbox(tmp_path / "scratch", parse_test_cmd(None), parallel=1) as sb:
        yield sb


def test_outcomes_and_per_test_coverage(tmp_path: Path, sandbox) -> None:
    root = write_project(tmp_path / "p", OFF_BY_ONE)
    run = sandbox.run(RunSpec(root, coverage=True))
    outcomes = {o.nodeid: o.outcome for o in run.outcomes}
    assert outcomes == {
        "test_calc.py::test_total": "failed",
        "test_calc.py::test_total_empty": "passed",
        "test_calc.py::test_double": "passed",
    }
    failing = run.outcome("test_calc.py::test_total")
    assert failing is not None and "assert 3 == 6" in failing.message
    assert ("test_calc.py", 5) in failing.frames
    # per-test contexts: the loop body runs only for the failing test, `double` only for its own
    assert ("calc.py", 4) in run.coverage["test_calc.py::test_total"]
    assert ("calc.py", 4) not in run.coverage["test_calc.py::test_total_empty"]
    assert ("calc.py", 9) in run.coverage["test_calc.py::test_double"]
    assert ("calc.py", 9) not in run.coverage["test_calc.py::test_total"]


def test_selection_runs_only_the_given_tests(tmp_path: Path, sandbox) -> None:
    root = write_project(tmp_path / "p", OFF_BY_ONE)
    run = sandbox.run(RunSpec(root, tests=("test_calc.py::test_double",)))
    assert [o.nodeid for o in run.outcomes] == ["test_calc.py::test_double"]


def test_hanging_test_gets_a_timeout_verdict_and_the_run_goes_on(tmp_path: Path, sandbox) -> None:
    root = write_project(tmp_path / "p", {
        "test_h.py": "def test_hang():\n    while True:\n        pass\n\n\ndef test_ok():\n    assert True\n",
    })  # fmt: skip
    run = sandbox.run(RunSpec(root, per_test_timeout_s=0.5, timeout_s=20))
    assert run.outcome("test_h.py::test_hang").outcome == "timeout"  # type: ignore[union-attr]
    assert run.outcome("test_h.py::test_ok").outcome == "passed"  # type: ignore[union-attr]


def test_whole_run_timeout_kills_a_test_stuck_outside_python(tmp_path: Path, sandbox) -> None:
    root = write_project(tmp_path / "p", {
        # Every signal blocked: the per-test limit cannot interrupt it, only the whole run's limit can.
        "test_s.py": "import time\n\n\ndef test_sleep():\n    import signal\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())\n    time.sleep(60)\n",
    })  # fmt: skip
    run = sandbox.run(RunSpec(root, per_test_timeout_s=0.2, timeout_s=2))
    assert run.timed_out and run.killed == "timeout"
    assert run.outcome("test_s.py::test_sleep").outcome == "timeout"  # type: ignore[union-attr]
    assert run.seconds < 10


def test_interpreter_crash_is_a_crashed_test(tmp_path: Path, sandbox) -> None:
    root = write_project(tmp_path / "p", {
        "test_c.py": "import os\n\n\ndef test_ok():\n    pass\n\n\ndef test_crash():\n    os.abort()\n",
    })  # fmt: skip
    run = sandbox.run(RunSpec(root))
    assert run.outcome("test_c.py::test_ok").outcome == "passed"  # type: ignore[union-attr]
    assert run.outcome("test_c.py::test_crash").outcome == "crashed"  # type: ignore[union-attr]
    # the server survives: the next run works
    again = sandbox.run(RunSpec(root, tests=("test_c.py::test_ok",)))
    assert again.passing == ("test_c.py::test_ok",)


def test_collection_error_is_reported(tmp_path: Path, sandbox) -> None:
    root = write_project(tmp_path / "p", {"mod.py": "def f(:\n    pass\n", "test_m.py": "import mod\n"})
    run = sandbox.run(RunSpec(root))
    assert run.collection_errors and "test_m.py" in run.collection_errors[0]
    assert 'mod.py", line 1' in run.collection_errors[0]


def test_stop_on_first_failure_of_a_test_that_passed_before(tmp_path: Path, sandbox) -> None:
    body = "".join(f"def test_{i}():\n    assert {i} != 1\n\n\n" for i in range(5))
    root = write_project(tmp_path / "p", {"test_many.py": body})
    must = tuple(f"test_many.py::test_{i}" for i in range(5))
    run = sandbox.run(RunSpec(root, stop_on_first_failure=True, must_pass=must))
    assert [o.nodeid for o in run.outcomes][-1] == "test_many.py::test_1"


def test_tests_that_passed_before_run_first_within_each_file(tmp_path: Path, sandbox) -> None:
    root = write_project(tmp_path / "p", {
        "test_a.py": "def test_fails():\n    assert False\n\n\ndef test_ok():\n    assert True\n",
        "test_b.py": "def test_fails():\n    assert False\n\n\ndef test_breaks():\n    assert False\n",
    })  # fmt: skip
    must = ("test_a.py::test_ok", "test_b.py::test_breaks")
    run = sandbox.run(RunSpec(root, stop_on_first_failure=True, must_pass=must))
    # Files keep their order; in each, what passed before runs first, and the first of those that breaks
    # ends the run before the known failures are paid for.
    assert [o.nodeid for o in run.outcomes] == [
        "test_a.py::test_ok",
        "test_a.py::test_fails",
        "test_b.py::test_breaks",
    ]


def test_custom_command_outcome_from_exit_code(tmp_path: Path, tmp_path_factory) -> None:
    root = write_project(tmp_path / "p", {"check.py": "import sys\nsys.exit(3)\n"})
    command = parse_test_cmd("python check.py")
    assert command.pytest_args is None
    with LocalSandbox(tmp_path / "scratch", command, parallel=1) as sb:
        run = sb.run(RunSpec(root))
    assert run.exit_code == 3 and run.failing == ("python check.py",)


def test_parse_test_cmd_recognizes_pytest() -> None:
    assert parse_test_cmd("python -m pytest -x tests").pytest_args == ("-x", "tests")
    assert parse_test_cmd(None).pytest_args == ()
    with pytest.raises(Exception, match="cannot be parsed"):
        parse_test_cmd("pytest 'unterminated")


def test_unbounded_recursion_is_reported_quickly_with_its_frames(tmp_path: Path, sandbox) -> None:
    root = write_project(tmp_path / "p", {
        "walk.py": "def walk(n):\n    return walk(n + 1)\n",
        "test_w.py": "from walk import walk\n\n\n"
        + "".join(f"def test_{i}():\n    assert walk({i})\n\n\n" for i in range(8)),
    })  # fmt: skip
    run = sandbox.run(RunSpec(root, timeout_s=60))
    assert [o.outcome for o in run.outcomes] == ["failed"] * 8
    first = run.outcomes[0]
    assert first.message.startswith("RecursionError")
    assert first.frames[0] == ("test_w.py", 5) and ("walk.py", 2) in first.frames
    # Only the head and the tail of the thousand frames are formatted (all of them cost ~1s per test).
    assert 0 < first.longrepr.count("walk.py:2") <= 60


def test_per_test_limits_coexist_with_sigalrm_timers_and_tests_that_use_signals(
    tmp_path: Path, sandbox
) -> None:
    """A project conftest with its own per-test SIGALRM timer (as pytest-timeout's signal method sets one)
    and tests that install their own SIGALRM handler: repairbot's limit still stops a hanging test, and the
    project's timers and handlers still work."""
    root = write_project(tmp_path / "p", {
        "conftest.py": "import signal\nimport pytest\n\n\nclass ProjectTimeout(Exception):\n    pass\n\n\n"
        "def _fire(signum, frame):\n    raise ProjectTimeout('project limit')\n\n\n"
        "@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_protocol(item, nextitem):\n"
        "    previous = signal.signal(signal.SIGALRM, _fire)\n"
        "    signal.setitimer(signal.ITIMER_REAL, float(item.get_closest_marker('limit').args[0])\n"
        "                     if item.get_closest_marker('limit') else 100.0)\n"
        "    try:\n        yield\n    finally:\n        signal.setitimer(signal.ITIMER_REAL, 0)\n"
        "        signal.signal(signal.SIGALRM, previous)\n",
        "test_sig.py": "import signal, time\nimport pytest\n\n\n"
        "def test_hangs():\n    while True:\n        pass\n\n\n"
        "def test_own_alarm_handler():\n    got = []\n"
        "    signal.signal(signal.SIGALRM, lambda s, f: got.append(s))\n"
        "    signal.setitimer(signal.ITIMER_REAL, 0.05)\n    time.sleep(0.3)\n"
        "    assert got == [signal.SIGALRM]\n\n\n"
        "@pytest.mark.limit(0.2)\ndef test_project_limit_still_fires():\n    time.sleep(5)\n\n\n"
        "def test_quick():\n    assert True\n",
    })  # fmt: skip
    run = sandbox.run(RunSpec(root, per_test_timeout_s=1.0, timeout_s=30))
    outcomes = {o.nodeid.split("::")[1]: o for o in run.outcomes}
    assert outcomes["test_hangs"].outcome == "timeout", outcomes["test_hangs"]
    assert outcomes["test_own_alarm_handler"].outcome == "passed", outcomes["test_own_alarm_handler"].longrepr
    limit = outcomes["test_project_limit_still_fires"]
    assert limit.outcome == "failed" and "ProjectTimeout" in limit.message, limit
    assert outcomes["test_quick"].outcome == "passed"
    assert not run.timed_out


def test_an_option_whose_value_is_a_path_keeps_its_value(tmp_path: Path) -> None:
    """`--deselect x.py::t` and `--ignore dir` name paths that exist: they are the options' values, not the
    selection (the selection replaces positional paths only, or pytest gets a dangling option)."""
    root = write_project(
        tmp_path / "p",
        {
            "test_a.py": "def test_one():\n    assert True\n\ndef test_two():\n    assert False\n",
            "slow/test_b.py": "def test_slow():\n    assert False\n",
        },
    )
    command = parse_test_cmd("pytest test_a.py --deselect test_a.py::test_two --ignore slow", root=root)
    with LocalSandbox(tmp_path / "scratch", command, parallel=1) as sb:
        run = sb.run(RunSpec(root))
    assert {o.nodeid: o.outcome for o in run.outcomes} == {"test_a.py::test_one": "passed"}
