"""pytest plugin loaded into the project's test run (`-p _repairbot_plugin`).

Standalone on purpose: it runs under the project's interpreter, which may not have repairbot installed, so it
imports only the standard library, pytest and (optionally) coverage. Configured through environment variables
because it is driven by the fork server, not by a user:

REPAIRBOT_EVENTS        JSON-lines file: one record per test start, per report phase, per collection error
REPAIRBOT_COVERAGE      JSON file: {nodeid: {path: [lines]}} of per-test line coverage (dynamic contexts)
REPAIRBOT_ROOT          project root: paths are written relative to it, coverage is limited to it
REPAIRBOT_TEST_TIMEOUT  seconds per test (setup + call + teardown), enforced with SIGALRM
REPAIRBOT_MUST_PASS     file of node ids that passed before: the session stops at the first one that fails
REPAIRBOT_STOP_ON_TIMEOUT  "1": stop the session after the first test that times out
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from collections.abc import Generator
from typing import Any

import pytest
from _pytest._code import Traceback

_ROOT = os.path.realpath(os.environ.get("REPAIRBOT_ROOT", os.getcwd()))
_EVENTS_PATH = os.environ.get("REPAIRBOT_EVENTS")
_COVERAGE_PATH = os.environ.get("REPAIRBOT_COVERAGE")
_TIMEOUT = float(os.environ.get("REPAIRBOT_TEST_TIMEOUT", "0") or 0)
_STOP_ON_TIMEOUT = os.environ.get("REPAIRBOT_STOP_ON_TIMEOUT") == "1"
_MUST_PASS: set[str] = set()
if os.environ.get("REPAIRBOT_MUST_PASS"):
    with open(os.environ["REPAIRBOT_MUST_PASS"], encoding="utf-8") as fh:
        _MUST_PASS = {line.strip() for line in fh if line.strip()}

_events: Any = open(_EVENTS_PATH, "a", encoding="utf-8", buffering=1) if _EVENTS_PATH else None  # noqa: SIM115
_cov: Any = None


class RepairbotTestTimeout(BaseException):
    """Raised in a test that ran past its time. A BaseException so `except Exception` cannot swallow it."""


def _emit(record: dict[str, Any]) -> None:
    if _events is not None:
        _events.write(json.dumps(record) + "\n")


@functools.lru_cache(maxsize=4096)
def _rel(path: str) -> str | None:
    real = os.path.realpath(path)
    if real == _ROOT or not real.startswith(_ROOT + os.sep):
        return None
    return os.path.relpath(real, _ROOT).replace(os.sep, "/")


def pytest_configure(config: pytest.Config) -> None:
    global _cov
    if _COVERAGE_PATH and _cov is None:
        try:
            import coverage
        except ImportError:  # coverage is optional in the project's environment
            return
        _cov = coverage.Coverage(data_file=None, source=[_ROOT], branch=False, config_file=False)
        _cov.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _cov
    if _cov is None:
        return
    _cov.stop()
    data = _cov.get_data()
    per_test: dict[str, dict[str, list[int]]] = {}
    for filename in data.measured_files():
        rel = _rel(filename)
        if rel is None:
            continue
        for line, contexts in (data.contexts_by_lineno(filename) or {}).items():
            for ctx in contexts:
                if ctx:
                    per_test.setdefault(ctx, {}).setdefault(rel, []).append(line)
    assert _COVERAGE_PATH is not None
    with open(_COVERAGE_PATH, "w", encoding="utf-8") as fh:
        json.dump(per_test, fh)
    _cov = None


_hung = False
_slowest_pass = 0.0


def _on_alarm(signum: int, frame: Any) -> None:
    global _hung
    _hung = True
    raise RepairbotTestTimeout(f"test ran longer than {_TIMEOUT:g}s")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With a must-pass list (a candidate's run), each file runs its tests that passed before first: a
    candidate that breaks one is rejected before it pays for the failing tests (often deep recursions or
    hangs). Files keep their order, so module fixtures stay grouped."""
    if not _MUST_PASS:
        return
    files: dict[str, int] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], len(files))
    items.sort(key=lambda it: (files[it.nodeid.split("::", 1)[0]], it.nodeid not in _MUST_PASS))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    _emit({"event": "start", "nodeid": item.nodeid})
    if _cov is not None:
        _cov.switch_context(item.nodeid)
    armed = _TIMEOUT > 0 and hasattr(signal, "setitimer")
    if armed:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        # After one test hung, the others likely hang the same way: give them ten times the slowest test
        # that passed (at least a second) instead of the full limit.
        limit = _TIMEOUT if not _hung else min(_TIMEOUT, max(1.0, 10 * _slowest_pass))
        signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if _cov is not None:
            _cov.switch_context("")


def _frames(excinfo: Any) -> list[tuple[str, int]]:
    """(file, line) of the traceback inside the project. The raw frames, with paths resolved once per file:
    a RecursionError has a thousand of them, and pytest's entries cost a path object each."""
    frames: list[tuple[str, int]] = []
    try:
        tb = excinfo.tb
        while tb is not None:
            rel = _rel(tb.tb_frame.f_code.co_filename)
            if rel is not None and (not frames or frames[-1] != (rel, tb.tb_lineno)):
                frames.append((rel, tb.tb_lineno))  # deep recursion collapses to one frame
            tb = tb.tb_next
    except Exception:  # a broken traceback must not break the test run
        return frames
    return frames[:10] + frames[-40:] if len(frames) > 50 else frames


_TB_HEAD, _TB_TAIL = 30, 30


def _cut_traceback(excinfo: Any) -> None:
    """Drop the middle of a very deep traceback (unbounded recursion) before anyone formats it: every
    traceback style formats each frame (Python 3.11 compiles each line for its carets), which made a
    RecursionError cost a second per test. The head and the tail, where the fault is, stay."""
    try:
        nodes = []
        tb = excinfo.tb
        while tb is not None:
            nodes.append(tb)
            tb = tb.tb_next
        if len(nodes) <= _TB_HEAD + _TB_TAIL:
            return
        nodes[_TB_HEAD - 1].tb_next = nodes[-_TB_TAIL]
        excinfo.traceback = Traceback(excinfo.tb)
    except Exception:  # never let bookkeeping break the run
        return


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    if call.excinfo is not None:
        _cut_traceback(call.excinfo)
    outcome = yield
    report = outcome.get_result()
    record: dict[str, Any] = {
        "event": "report",
        "nodeid": item.nodeid,
        "when": call.when,
        "outcome": report.outcome,
        "duration": call.duration,
    }
    if call.excinfo is not None and report.outcome == "failed":
        record["timeout"] = call.excinfo.errisinstance(RepairbotTestTimeout)
        record["message"] = call.excinfo.exconly().strip()[:2000]
        record["longrepr"] = str(report.longrepr)[-8000:]
        record["frames"] = _frames(call.excinfo)
    _emit(record)
    if report.outcome == "passed" and call.when == "call":
        global _slowest_pass
        _slowest_pass = max(_slowest_pass, call.duration)
    if report.outcome == "failed":
        if item.nodeid in _MUST_PASS:
            item.session.shouldstop = "repairbot: a test that passed before fails"
        if _STOP_ON_TIMEOUT and record.get("timeout"):
            item.session.shouldstop = "repairbot: a test timed out"


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _emit({"event": "collect_error", "nodeid": report.nodeid, "longrepr": str(report.longrepr)[-8000:]})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _emit({"event": "finish", "exitstatus": int(exitstatus)})
    if _events is not None:
        _events.flush()
        sys.stdout.flush()
