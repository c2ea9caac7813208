"""pytest plugin loaded into the project's test run (`-p _repairbot_plugin`).

Standalone on purpose: it runs under the project's interpreter, which may not have repairbot installed, so it
imports only the standard library, pytest and (optionally) coverage. Configured through environment variables
because it is driven by the fork server, not by a user:

REPAIRBOT_EVENTS        JSON-lines file: one record per test start, per report phase, per collection error
REPAIRBOT_COVERAGE      JSON file: {nodeid: {path: [lines]}} of per-test line coverage (dynamic contexts)
REPAIRBOT_ROOT          project root: paths are written relative to it, coverage is limited to it
REPAIRBOT_TEST_TIMEOUT  seconds per test (setup + call + teardown), enforced by a watchdog thread that
                        signals the main thread with a real-time signal of its own (not SIGALRM, which
                        pytest-timeout and tests that use alarm() or setitimer() own)
REPAIRBOT_MUST_PASS     file of node ids that passed before: the session stops at the first one that fails
REPAIRBOT_STOP_ON_TIMEOUT  "1": stop the session after the first test that times out
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
import time
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


class _Watchdog:
    """One thread that, past a test's deadline, interrupts the main thread with `_SIGNAL`, whose handler
    raises RepairbotTestTimeout there. Signal handlers run in the main thread between bytecodes, and a
    blocking call (sleep, a lock, a socket) returns EINTR and runs it too; a test stuck inside C code is
    left to the whole run's limit. A real-time signal nobody else uses keeps it out of the way of SIGALRM
    timers (pytest-timeout's, or a test's own) in both directions."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._generation = 0
        self._fired = -1
        self._main = threading.main_thread().ident
        assert _SIGNAL is not None
        self._signal = _SIGNAL
        signal.signal(self._signal, self._on_signal)
        threading.Thread(target=self._loop, name="repairbot-watchdog", daemon=True).start()

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._generation += 1
            self._deadline = time.monotonic() + seconds
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._generation += 1
            self._deadline = None
            self._cond.notify()

    def _loop(self) -> None:
        with self._cond:
            while True:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._fired = self._generation
                self._deadline = None
                if self._main is not None:
                    signal.pthread_kill(self._main, self._signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        global _hung
        with self._cond:
            current = self._fired == self._generation
        if current:  # not a late signal for a test that already finished
            _hung = True
            raise RepairbotTestTimeout(f"test ran longer than {_TIMEOUT:g}s")


_SIGNAL: int | None = signal.SIGRTMIN + 6 if hasattr(signal, "SIGRTMIN") else None
_watchdog: _Watchdog | None = None


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
    global _watchdog
    armed = _TIMEOUT > 0 and _SIGNAL is not None and threading.current_thread() is threading.main_thread()
    if armed:
        if _watchdog is None:
            _watchdog = _Watchdog()
        # After one test hung, the others likely hang the same way: give them ten times the slowest test
        # that passed (at least a second) instead of the full limit.
        _watchdog.arm(_TIMEOUT if not _hung else min(_TIMEOUT, max(1.0, 10 * _slowest_pass)))
    try:
        yield
    finally:
        if armed and _watchdog is not None:
            _watchdog.disarm()
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
