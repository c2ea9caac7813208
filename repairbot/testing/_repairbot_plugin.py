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

A failing test's report carries `observations`: runtime evidence read from the objects themselves, never
from pytest's text (the values a failing comparison compared, a unittest `assert*` method's arguments, a
mock's actual calls, the exception that did not match `pytest.raises`/`assertRaises*`, a doctest's output,
and the values of the names the failing statement uses). Test co-evolution updates obsolete tests from them.
"""

from __future__ import annotations

import ast
import contextlib
import enum
import functools
import importlib
import json
import math
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Generator
from typing import Any

import pytest
from _pytest._code import ExceptionInfo, Traceback

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
    _compared.clear()
    _soft.clear()
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
    observations = _observe_safely(call)
    if call.excinfo is not None:
        _cut_traceback(call.excinfo)
    outcome = yield
    report = outcome.get_result()
    if not observations:
        # A unittest TestCase's failure reaches `call` only now (pytest's unittest plugin sets it).
        observations = _observe_safely(call)
    _compared.clear()
    if call.when == "call" and _soft:
        observations = [*_soft, *observations]
        _soft.clear()
        if report.outcome == "passed":  # assertions failed under soft(): the test did not pass
            report.outcome = "failed"
            report.longrepr = "repairbot: assertions failed under soft()"
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
    if observations and report.outcome == "failed":
        if call.excinfo is None:  # failed under soft() only
            record["message"] = f"AssertionError: {len(observations)} assertion(s) failed under soft()"
            record["longrepr"] = record["message"]
        record["observations"] = observations
    _emit(record)
    if report.outcome == "passed" and call.when == "call":
        global _slowest_pass
        _slowest_pass = max(_slowest_pass, call.duration)
    if report.outcome == "failed":
        if item.nodeid in _MUST_PASS:
            item.session.shouldstop = "repairbot: a test that passed before fails"
        if _STOP_ON_TIMEOUT and record.get("timeout"):
            item.session.shouldstop = "repairbot: a test timed out"


# ------------------------------------------------------------------------------------------- evidence


def _observe_safely(call: pytest.CallInfo[None]) -> list[dict[str, Any]]:
    if call.excinfo is None or call.when != "call":
        return []
    try:
        return _observe(call.excinfo)
    except Exception:  # evidence is a bonus: never let it break the run
        return []


_compared: list[tuple[str, Any, Any, tuple[str, int] | None]] = []  # failing comparisons of this test
_soft: list[dict[str, Any]] = []  # observations of assertions that failed under soft()


class _Soft:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if kind is None or exc is None or not issubclass(kind, AssertionError):
            return False
        if len(_soft) < 64:
            with contextlib.suppress(Exception):  # evidence is a bonus: never let it break the run
                observed = _observe(ExceptionInfo.from_exc_info((kind, exc, tb)))
                _soft.extend(o for o in observed if o["kind"] != "names")
        _compared.clear()
        return True


def soft() -> _Soft:
    """`with soft(): assert ...` (on the assertion's own line, so no line moves): a failing assertion is
    recorded and the test goes on, so that one run observes every obsolete assertion of a test (the test
    still fails). Test co-evolution's probes use it; see repairbot/coevolve/updaters/observed.py."""
    return _Soft()


_MAX_REPR = 4000
_MAX_SOURCE = 20000
_MAX_NAMES = 24
_LITERAL_TYPES = (type(None), bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any, right: Any) -> None:
    """Record the operands of a failing comparison of an `assert` (the explanation stays pytest's)."""
    if len(_compared) < 8:
        _compared.append((op, left, right, _caller_in_tests()))


def _is_test_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    parts = rel.split("/")[:-1]
    return (
        name.startswith("test")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(p in ("tests", "test", "testing") for p in parts)
    )


def _caller_in_tests() -> tuple[str, int] | None:
    frame = sys._getframe(2)
    while frame is not None:
        rel = _rel(frame.f_code.co_filename)
        if rel is not None and _is_test_file(rel):
            return rel, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _short(text: str, limit: int = _MAX_REPR) -> str:
    return text if len(text) <= limit else text[: limit // 2] + " ... " + text[-limit // 2 :]


def _literal(v: Any, budget: list[int], depth: int = 0) -> str | None:
    """Python source for `v` when it is built from the builtin data types alone (exact types, so that a
    subclass such as an enum, a named tuple or a markup string is never flattened into its base)."""
    t = type(v)
    if t not in _LITERAL_TYPES or depth > 12:
        return None
    if t is float and not math.isfinite(v):
        return None
    if t in (list, tuple, set, frozenset):
        items = sorted(v, key=repr) if t in (set, frozenset) else v
        parts = []
        for x in items:
            src = _literal(x, budget, depth + 1)
            if src is None:
                return None
            parts.append(src)
        if t is list:
            out = "[" + ", ".join(parts) + "]"
        elif t is tuple:
            out = "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        elif not parts:
            out = "set()" if t is set else "frozenset()"
        else:
            out = "{" + ", ".join(parts) + "}"
            out = out if t is set else f"frozenset({out})"
    elif t is dict:
        parts = []
        for k, x in v.items():
            ks, xs = _literal(k, budget, depth + 1), _literal(x, budget, depth + 1)
            if ks is None or xs is None:
                return None
            parts.append(f"{ks}: {xs}")
        out = "{" + ", ".join(parts) + "}"
    else:
        out = repr(v)
    budget[0] -= len(out)
    return out if budget[0] >= 0 else None


def _ref(v: Any) -> str | None:
    """ "module:qualname" of a class, function, module or enum member that can be imported by that name."""
    try:
        if isinstance(v, types.ModuleType):
            return f"{v.__name__}:" if sys.modules.get(v.__name__) is v else None
        if isinstance(v, enum.Enum):
            module, qualname = type(v).__module__, f"{type(v).__qualname__}.{v.name}"
        elif isinstance(v, (type, types.FunctionType, types.BuiltinFunctionType)):
            module, qualname = v.__module__, v.__qualname__
        else:
            return None
        if not module or "<" in qualname:
            return None
        obj: Any = sys.modules.get(module) or importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        return f"{module}:{qualname}" if obj is v else None
    except Exception:
        return None


def _value(v: Any, frame: Any = None) -> dict[str, Any]:
    try:
        text = repr(v)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    t = type(v)
    out: dict[str, Any] = {"repr": _short(text), "type": f"{t.__module__}.{t.__qualname__}"}
    try:
        src = _literal(v, [_MAX_SOURCE])
    except Exception:
        src = None
    if src is not None:
        out["source"] = src
        return out
    if isinstance(v, tuple) and hasattr(t, "_fields"):
        # A named tuple equals the plain tuple of its fields: what a test written before it compared with.
        try:
            plain = _literal(tuple(v), [_MAX_SOURCE])
        except Exception:
            plain = None
        if plain is not None:
            out["plain"] = plain
    ref = _ref(v)
    if ref is not None:
        out["ref"] = ref
    if frame is not None:
        out["names"] = _names_of(v, frame) + (_through_modules(ref, frame) if ref else [])
    return out


def _names_of(v: Any, frame: Any) -> list[str]:
    """The names the test frame binds to the very object `v`: locals, then `self.x`, then module globals."""
    found: list[str] = []
    try:
        local = frame.f_locals
        found += [k for k, x in local.items() if x is v and not k.startswith("@")]
        me = local.get("self")
        attrs = getattr(me, "__dict__", None)
        if isinstance(attrs, dict):
            found += [f"self.{k}" for k, x in list(attrs.items())[:200] if x is v]
        found += [k for k, x in list(frame.f_globals.items())[:500] if x is v and not k.startswith("@")]
    except Exception:
        return found[:5]
    return found[:5]


def _through_modules(ref: str, frame: Any) -> list[str]:
    """`alias.qualname` for a class or function the test reaches through a module it imported (`from pkg
    import mod` then `mod.func`)."""
    module, qualname = ref.split(":", 1)
    target = sys.modules.get(module)
    if target is None or not qualname:
        return []
    try:
        scopes = [frame.f_locals, frame.f_globals]
        return [f"{k}.{qualname}" for scope in scopes for k, x in list(scope.items())[:500] if x is target][
            :3
        ]
    except Exception:
        return []


@functools.lru_cache(maxsize=64)
def _module_ast(filename: str) -> ast.Module | None:
    try:
        with open(filename, encoding="utf-8") as fh:
            return ast.parse(fh.read())
    except Exception:
        return None


def _statement(filename: str, line: int) -> ast.stmt | None:
    """The innermost simple statement (or compound statement header) of `filename` spanning `line`."""
    tree = _module_ast(filename)
    best: ast.stmt | None = None
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.stmt) or not node.lineno <= line <= (node.end_lineno or node.lineno):
            continue
        if best is None or node.lineno >= best.lineno:
            best = node
    return best


def _chains(node: ast.AST) -> list[ast.expr]:
    """Names, attribute chains and constant subscripts of them in `node` (nothing that calls code)."""
    out: list[ast.expr] = []

    def pure(e: ast.expr) -> bool:
        if isinstance(e, ast.Name):
            return True
        if isinstance(e, ast.Attribute):
            return pure(e.value)
        if isinstance(e, ast.Subscript):
            return isinstance(e.slice, ast.Constant) and pure(e.value)
        return False

    for e in ast.walk(node):
        if (
            isinstance(e, (ast.Name, ast.Attribute, ast.Subscript))
            and pure(e)
            and not isinstance(e.ctx, ast.Store)
        ):
            out.append(e)
    return out


def _evaluate(e: ast.expr, frame: Any) -> Any:
    if isinstance(e, ast.Name):
        for scope in (frame.f_locals, frame.f_globals, frame.f_builtins):
            if e.id in scope:
                return scope[e.id]
        raise NameError(e.id)
    if isinstance(e, ast.Attribute):
        return getattr(_evaluate(e.value, frame), e.attr)
    assert isinstance(e, ast.Subscript) and isinstance(e.slice, ast.Constant)
    return _evaluate(e.value, frame)[e.slice.value]


def _statement_names(frame: Any, filename: str, line: int) -> dict[str, dict[str, Any]]:
    stmt = _statement(filename, line)
    if stmt is None:
        return {}
    values: dict[str, dict[str, Any]] = {}
    for e in _chains(stmt):
        key = ast.unparse(e)
        if key in values or len(values) >= _MAX_NAMES:
            continue
        try:
            v = _evaluate(e, frame)
        except Exception:
            continue
        if (callable(v) and not isinstance(v, (type, enum.Enum))) or isinstance(v, types.ModuleType):
            continue
        values[key] = _value(v, frame)
    return values


def _call(c: Any, frame: Any) -> dict[str, Any]:
    """A mock `call`: (name, args, kwargs) or (args, kwargs)."""
    parts = tuple(c)
    name, args, kwargs = parts if len(parts) == 3 else ("", *parts)
    return {
        "name": str(name or ""),
        "args": [_value(a, frame) for a in args][:20],
        "kwargs": {str(k): _value(x, frame) for k, x in list(dict(kwargs).items())[:20]},
    }


def _exception(exc: BaseException) -> dict[str, Any]:
    """The exception (its type is the value's type) and its message."""
    try:
        message = str(exc)
    except Exception:
        message = ""
    return {"actual": _value(exc), "message": _value(_short(message))}


def _observe(excinfo: Any) -> list[dict[str, Any]]:
    """The evidence of one failure (see the module docstring)."""
    exc = excinfo.value
    out: list[dict[str, Any]] = []
    failure = getattr(exc, "failures", None) or ([exc] if hasattr(exc, "example") else [])
    for f in failure[:5]:  # doctest.DocTestFailure (one, or pytest's MultipleDoctestFailures)
        test, example, got = getattr(f, "test", None), getattr(f, "example", None), getattr(f, "got", None)
        if test is not None and example is not None and isinstance(got, str):
            rel = _rel(test.filename or "")
            if rel is not None:
                out.append({"kind": "doctest", "path": rel, "line": (test.lineno or 0) + example.lineno + 1,
                            "op": example.source.strip()[:500],
                            "values": {"want": _value(example.want), "got": _value(got)}})  # fmt: skip
    if out:
        return out
    frames: list[tuple[Any, int]] = []
    tb = excinfo.tb
    while tb is not None and len(frames) < 400:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    test_at = None  # the innermost frame in a test file
    for i, (frame, line) in enumerate(frames):
        rel = _rel(frame.f_code.co_filename)
        if rel is not None and _is_test_file(rel):
            test_at = (i, frame, rel, line)
    if test_at is None:
        return out
    index, tframe, path, line = test_at
    where = {"path": path, "line": line}
    below = frames[index + 1 :]
    if isinstance(exc, AssertionError) and _compared:
        op, left, right, at = _compared[-1]
        loc = {"path": at[0], "line": at[1]} if at is not None else where
        out.append({"kind": "compare", **loc, "op": op,
                    "values": {"left": _value(left, tframe), "right": _value(right, tframe)}})  # fmt: skip
    for frame, _ in below:
        code = frame.f_code
        filename = code.co_filename.replace(os.sep, "/")
        fname = code.co_name
        if filename.endswith("unittest/case.py") and fname.startswith(("assert", "fail")):
            names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
            args = {n: _value(frame.f_locals[n], tframe) for n in names
                    if n not in ("self", "msg") and n in frame.f_locals}  # fmt: skip
            out.append({"kind": "assert_method", **where, "op": fname, "values": args})
            break
        if filename.endswith("unittest/mock.py") and fname.startswith("assert_"):
            mock = frame.f_locals.get("self")
            loc = frame.f_locals
            if fname == "assert_has_calls":
                expected = [_call(c, tframe) for c in list(loc.get("calls") or [])[:20]]
                actual = list(getattr(mock, "mock_calls", []))
            else:
                expected = [
                    {
                        "name": "",
                        "args": [_value(a, tframe) for a in loc.get("args", ())],
                        "kwargs": {k: _value(x, tframe) for k, x in dict(loc.get("kwargs", {})).items()},
                    }
                ]
                actual = list(getattr(mock, "call_args_list", []))
            if fname in ("assert_not_called", "assert_called", "assert_called_once"):
                expected = []
            out.append({"kind": "mock", **where, "op": fname, "expected": expected,
                        "calls": [_call(c, tframe) for c in actual[:20]]})  # fmt: skip
            break
        if fname in ("__exit__", "match") and (
            "_pytest" in filename or filename.endswith("unittest/case.py")
        ):
            loc = frame.f_locals
            me = loc.get("self")
            raised = loc.get("exc_val", loc.get("exc_value"))
            if fname == "match":  # ExceptionInfo.match(regexp)
                raised = getattr(me, "value", None)
                pattern = loc.get("regexp")
            else:
                # pytest < 8.4: RaisesContext.match_expr; later: RaisesExc.match; unittest: expected_regex
                pattern = getattr(me, "match_expr", None) or getattr(me, "expected_regex", None)
                if pattern is None and not callable(getattr(me, "match", None)):
                    pattern = getattr(me, "match", None)
            if isinstance(raised, BaseException):
                expected_types: Any = getattr(me, "expected_exceptions", None)
                expected_types = expected_types or getattr(me, "expected", None)
                if isinstance(expected_types, type):
                    expected_types = (expected_types,)
                type_names = [getattr(t, "__name__", str(t)) for t in (expected_types or ())]
                pattern = getattr(pattern, "pattern", pattern)
                out.append({"kind": "raises", **where, "op": ",".join(type_names),
                            "pattern": pattern if isinstance(pattern, str) else None,
                            "values": _exception(raised)})  # fmt: skip
                break
    if not isinstance(exc, AssertionError) or not out:
        out.append({"kind": "exception", **where, "op": f"{type(exc).__module__}.{type(exc).__qualname__}",
                    "values": _exception(exc)})  # fmt: skip
    names = _statement_names(tframe, tframe.f_code.co_filename, line)
    if names:
        out.append({"kind": "names", **where, "values": names})
    return out


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _emit({"event": "collect_error", "nodeid": report.nodeid, "longrepr": str(report.longrepr)[-8000:]})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _emit({"event": "finish", "exitstatus": int(exitstatus)})
    if _events is not None:
        _events.flush()
        sys.stdout.flush()
