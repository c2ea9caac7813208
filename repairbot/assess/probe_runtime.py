"""repairbot's behaviour probe: loaded into the project's test interpreter during an assessment run only.

Standalone on purpose (it runs under the project's interpreter, Python 3.8 or later, which may not have
repairbot installed): the standard library, and Hypothesis when the test interpreter has it.

The assessment stage copies this file into `.repairbot-probe/` of a tree that holds a plausible patch, writes
`plan.json` beside it, and appends a few lines to each patched module that call `install` at the end of the
module's import. `install` gives every changed function a trampoline body (its `__code__`), so that every
reference to the function, wherever it was imported, goes through `_dispatch`; the function keeps its
signature (`__signature__`). The outermost call of a changed function runs the original code (the function
as it was before the patch, with the same globals and closure) on a deep copy of the arguments, then the
patched code on the real arguments, compares the two outcomes (value or exception type, and the arguments
after the call) and writes one record per call to `out.jsonl`: those are the values seen at run time.
Nested calls, and calls inside the original run, stay in the mode of the outermost call.

`generate` (called by a test module the stage adds, run after the project's tests) then calls the original
and the patched function on generated inputs: the docstring's examples, and Hypothesis strategies built from
type hints, defaults and the values seen at run time (a small deterministic generator stands in when
Hypothesis is not importable). Nothing here decides anything: the records go back to the stage.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import hashlib
import inspect
import itertools
import json
import os
import random
import re
import signal
import sys
import threading
import time
import types
from typing import Any, Dict, List, Optional, Set, Tuple

# Typing names from `typing` on purpose: this file runs under Python 3.8 too (annotations are not evaluated).
Call = Tuple[Tuple[Any, ...], Dict[str, Any]]
Outcome = Tuple[
    Any, ...
]  # ("return", value, arguments after) | ("raise", type name, message) | ("timeout", "")
Spec = Tuple[
    Any, ...
]  # a strategy's description: ("int", lo, hi), ("sample", values), ("one_of", [specs]), ...

_HERE = os.path.dirname(os.path.abspath(__file__))
_OUT = os.path.join(_HERE, "out.jsonl")
with open(os.path.join(_HERE, "plan.json"), encoding="utf-8") as _fh:
    PLAN = json.load(_fh)
_LIMITS = PLAN.get("limits", {})
CALL_S = float(_LIMITS.get("call_s", 1.0))  # one run of the original or the patched code
PER_TEST = int(_LIMITS.get("per_test", 25))  # differential calls recorded per function and test
OBSERVED_KEPT = int(_LIMITS.get("observed_kept", 30))  # argument tuples kept per function for generation
GENERATED = int(_LIMITS.get("generated", 120))  # generated inputs per function
GENERATE_S = float(_LIMITS.get("generate_s", 20.0))  # wall clock for all generated inputs
SHOWN = 240  # characters of an input or a value in a record
MIN_INPUTS = 10  # generated inputs run per function even when the time for them is spent

_CO_ASYNC = 0x80 | 0x100 | 0x200  # CO_COROUTINE, CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR
_CO_GENERATOR = 0x20
_PASS_THROUGH = ("KeyboardInterrupt", "GeneratorExit", "RepairbotTestTimeout")


class _ProbeTimeout(Exception):
    pass


class _Entry:
    def __init__(
        self, key: str, qualname: str, target: Any, orig: Any, patched: Any, sig: Any, generator: bool
    ) -> None:
        self.key = key
        self.qualname = qualname
        self.target = target
        self.orig = orig
        self.patched = patched
        self.sig = sig
        self.generator = generator
        self.per_test: Dict[str, int] = {}
        self.observed: List[Call] = []  # deep copies of (args, kwargs) seen at run time
        self.module: Optional[str] = None
        self.method = False


class _State(threading.local):
    depth = 0
    mode = "patched"


_ENTRIES: Dict[str, _Entry] = {}
_STATE = _State()
_out = None


def _emit(record: Dict[str, Any]) -> None:
    global _out
    if _out is None:
        _out = open(_OUT, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
    with contextlib.suppress(Exception):  # a record that cannot be written is lost, never the test run
        _out.write(json.dumps(record, default=str) + "\n")


# -- installation --------------------------------------------------------------------------------------------


def install(namespace: Dict[str, Any], relpath: str) -> None:
    """Called at the end of the patched module `relpath` (its globals are `namespace`)."""
    plan = PLAN.get("modules", {}).get(relpath)
    if not plan:
        return
    try:
        code = compile(plan["original"], namespace.get("__file__") or relpath, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        _emit({"event": "unsupported", "module": relpath, "why": f"original does not compile: {exc}"})
        return
    namespace["__repairbot_dispatch__"] = _dispatch
    limit = sys.getrecursionlimit()
    if limit < 6000:
        # Each call of a changed function goes through two more frames (trampoline, dispatch): recursion that
        # fits the normal limit must fit here too.
        sys.setrecursionlimit(max(limit * 3, 3000))
    for fn in plan.get("functions", []):
        try:
            why = _install_one(namespace, code, fn)
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"
        if why:
            _emit({"event": "unsupported", "fn": fn["key"], "why": why})
        else:
            _emit({"event": "installed", "fn": fn["key"], "module": namespace.get("__name__")})


def _install_one(namespace: Dict[str, Any], module_code: types.CodeType, fn: Dict[str, Any]) -> Optional[str]:
    if fn["key"] in _ENTRIES:  # the module imported twice under two names: the first one is observed
        return None
    parts = fn["qualname"].split(".")
    if "<locals>" in parts:
        return "a nested function (created at run time)"
    owner = None
    obj = namespace.get(parts[0])
    for part in parts[1:]:
        owner = obj
        obj = vars(obj).get(part) if isinstance(obj, type) else None
    target = _unwrap(obj, parts[-1])
    if not isinstance(target, types.FunctionType):
        return f"not a plain function ({type(obj).__name__})"
    orig_code = _find_code(module_code, parts)
    if orig_code is None:
        return "the original code object was not found"
    patched_code = target.__code__
    if (orig_code.co_flags | patched_code.co_flags) & _CO_ASYNC:
        return "a coroutine or async generator"
    closure = target.__closure__
    if len(orig_code.co_freevars) != len(closure or ()):
        return "the patch changed the function's closure"
    orig = types.FunctionType(orig_code, target.__globals__, target.__name__, target.__defaults__, closure)
    orig.__kwdefaults__ = copy.copy(target.__kwdefaults__)
    patched = types.FunctionType(
        patched_code, target.__globals__, target.__name__, target.__defaults__, closure
    )
    patched.__kwdefaults__ = copy.copy(target.__kwdefaults__)
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        sig = None
    entry = _Entry(
        fn["key"], fn["qualname"], target, orig, patched, sig, bool(patched_code.co_flags & _CO_GENERATOR)
    )
    entry.module = namespace.get("__name__")
    entry.method = owner is not None and not isinstance(obj, staticmethod)
    target.__code__ = _trampoline(fn["key"], len(closure or ()))
    if sig is not None:
        target.__signature__ = sig  # type: ignore[attr-defined]
    _ENTRIES[fn["key"]] = entry
    return None


def _unwrap(obj: Any, name: str) -> Any:
    for _ in range(8):
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        elif isinstance(obj, property):
            for f in (obj.fget, obj.fset, obj.fdel):
                if isinstance(f, types.FunctionType) and f.__code__.co_name == name:
                    return f
            return None
        elif isinstance(obj, types.FunctionType) and obj.__code__.co_name == name:
            return obj
        elif hasattr(obj, "__wrapped__"):
            obj = obj.__wrapped__
        else:
            return obj
    return obj


def _find_code(module_code: types.CodeType, parts: List[str]) -> Optional[types.CodeType]:
    """The code object of the function at `parts` (class and function names) in the compiled original."""
    found = []

    def walk(code: types.CodeType, path: List[str]) -> None:
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                sub = [*path, const.co_name]
                if sub == parts:
                    found.append(const)
                elif len(sub) < len(parts) and sub == parts[: len(sub)]:
                    walk(const, sub)

    walk(module_code, [])
    return found[-1] if found else None  # a redefinition later in the module is the one that counts


def _trampoline(key: str, free: int) -> types.CodeType:
    cells = "".join(f"    _c{i} = None\n" for i in range(free))
    touch = ", ".join(f"_c{i}" for i in range(free))
    body = f"        if 0:\n            ({touch},)\n" if free else ""
    src = (
        f"def _outer():\n{cells}    def _t(*args, **kwargs):\n{body}"
        f"        return __repairbot_dispatch__({key!r}, args, kwargs)\n    return _t\n"
    )
    ns: Dict[str, Any] = {}
    exec(compile(src, "<repairbot-probe>", "exec"), ns)
    code: types.CodeType = ns["_outer"]().__code__
    return code


# -- observing calls -----------------------------------------------------------------------------------------


def _current_test() -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    return current.rsplit(" (", 1)[0] if current else ""


def _dispatch(key: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    entry = _ENTRIES[key]
    state = _STATE
    if state.depth:
        fn = entry.orig if state.mode == "orig" else entry.patched
        return fn(*args, **kwargs)
    test = _current_test()
    seen = entry.per_test.get(test, 0)
    state.depth += 1
    try:
        if seen >= PER_TEST or not test:
            return entry.patched(*args, **kwargs)
        entry.per_test[test] = seen + 1
        return _observe(entry, test, args, kwargs)
    finally:
        state.depth -= 1
        state.mode = "patched"


def _observe(entry: _Entry, test: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    shown, ident = _show((args, kwargs))
    before = _copy_call((args, kwargs))
    if len(entry.observed) < OBSERVED_KEPT:
        entry.observed.append(_copy_call(before))
    orig = _run(entry, "orig", before)
    _STATE.mode = "patched"
    try:
        result = compared = entry.patched(*args, **kwargs)
        if entry.generator and inspect.isgenerator(result):
            compared = _drain(result)
            result = iter(compared)
    except BaseException as exc:
        if type(exc).__name__ not in _PASS_THROUGH:
            _record(
                entry, "observed", test, shown, ident, orig, ("raise", type(exc).__name__, str(exc)[:SHOWN])
            )
        raise
    state = _snapshot(args, kwargs)
    _record(entry, "observed", test, shown, ident, orig, ("return", compared, state))
    return result


def _copy_call(call: Call) -> Call:
    """A deep copy of (args, kwargs); an argument that cannot be copied (a traceback, a lock, an open file) is
    shared instead, which is as close as a copy gets."""
    try:
        return copy.deepcopy(call)
    except Exception:
        args, kwargs = call
        return tuple(_copy_one(a) for a in args), {k: _copy_one(v) for k, v in kwargs.items()}


def _copy_one(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _drain(gen: Any, limit: int = 1000) -> List[Any]:
    return list(itertools.islice(gen, limit))


def _snapshot(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Call:
    """The arguments after a call, to compare in-place changes (a method's `self` included)."""
    return (args, kwargs)


def _run(entry: _Entry, mode: str, call: Call) -> Outcome:
    """Run the original or the patched code on `call` (args, kwargs) under the per-call time limit."""
    args, kwargs = call
    _STATE.mode = mode
    fn = entry.orig if mode == "orig" else entry.patched
    try:
        with _limit(CALL_S):
            value = fn(*args, **kwargs)
            if entry.generator and inspect.isgenerator(value):
                value = _drain(value)
        return ("return", value, (args, kwargs))
    except _ProbeTimeout:
        return ("timeout", "", None)
    except BaseException as exc:
        if type(exc).__name__ in _PASS_THROUGH:
            raise
        return ("raise", type(exc).__name__, str(exc)[:SHOWN])
    finally:
        _STATE.mode = "patched"


class _limit:
    """SIGALRM for at most `seconds`, restoring whatever timer the test runner had armed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = False

    def __enter__(self) -> _limit:
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            return self
        self.previous = signal.getsignal(signal.SIGALRM)
        self.remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        self.started = time.monotonic()
        signal.signal(signal.SIGALRM, _on_alarm)
        seconds = min(self.seconds, self.remaining) if self.remaining > 0 else self.seconds
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
        self.armed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            if self.remaining > 0:
                left = self.remaining - (time.monotonic() - self.started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


def _on_alarm(signum: int, frame: Any) -> None:
    raise _ProbeTimeout()


# -- comparing and recording ---------------------------------------------------------------------------------

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _repr(value: Any, limit: int = SHOWN * 40, depth: int = 0) -> str:
    try:
        state = getattr(value, "__dict__", None)
        default_repr = type(value).__repr__ is object.__repr__  # type: ignore[comparison-overlap]
        if default_repr and isinstance(state, dict) and depth < 2:
            # `Acc(items=[5])` says more than `<lib.Acc object at 0x...>`, and is the same in every run.
            fields = ", ".join(f"{k}={_repr(v, 80, depth + 1)}" for k, v in list(state.items())[:8])
            text = f"{type(value).__name__}({fields})"
        else:
            text = repr(value)
    except Exception as exc:
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return _ADDRESS.sub("", text)[:limit]


def _show(call: Call) -> Tuple[str, str]:
    """(what a person reads, an identity that matches the same input in another run)."""
    args, kwargs = call
    full = ", ".join([_repr(a) for a in args] + [f"{k}={_repr(v)}" for k, v in kwargs.items()])
    return full[:SHOWN], hashlib.sha1(full.encode("utf-8", "replace")).hexdigest()[:16]


def _same(a: Any, b: Any, depth: int = 0, seen: Optional[Set[Tuple[int, int]]] = None) -> bool:
    if a is b:
        return True
    if depth > 8:
        return True
    ta, tb = type(a), type(b)
    if ta is not tb:
        if (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and not isinstance(a, bool)
            and not isinstance(b, bool)
        ):
            return a == b
        return (
            ta.__name__ == tb.__name__
            and ta.__qualname__ == tb.__qualname__
            and _same_state(a, b, depth, seen)
        )
    if ta in (int, str, bytes, bool, type(None), complex):
        return bool(a == b)
    if ta is float:
        return bool(a == b or (a != a and b != b))
    if ta in (list, tuple):
        return len(a) == len(b) and all(_same(x, y, depth + 1, seen) for x, y in zip(a, b))  # noqa: B905
    if ta is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1, seen) for k in a)
    if isinstance(a, BaseException):
        return ta is tb and _repr(a.args) == _repr(b.args)
    return _same_state(a, b, depth, seen)


def _same_state(a: Any, b: Any, depth: int, seen: Optional[Set[Tuple[int, int]]]) -> bool:
    if type(a).__eq__ is not object.__eq__:  # type: ignore[comparison-overlap]
        try:
            result = a == b
            if isinstance(result, bool):
                return result
        except Exception:
            pass
    seen = seen if seen is not None else set()
    pair = (id(a), id(b))
    if pair in seen:
        return True
    seen.add(pair)
    da, db = getattr(a, "__dict__", None), getattr(b, "__dict__", None)
    if isinstance(da, dict) and isinstance(db, dict):
        return da.keys() == db.keys() and all(_same(da[k], db[k], depth + 1, seen) for k in da)
    return _repr(a) == _repr(b)


def _same_outcome(o: Outcome, p: Outcome) -> bool:
    if o[0] != p[0]:
        return False
    if o[0] == "return":
        return _same(o[1], p[1]) and _same(o[2], p[2])
    if o[0] == "raise":
        return bool(o[1] == p[1])
    return True


def _describe(outcome: Outcome) -> Dict[str, Any]:
    kind = outcome[0]
    if kind == "return":
        return {"status": "return", "value": _repr(outcome[1], SHOWN)}
    if kind == "raise":
        return {"status": "raise", "value": outcome[1], "message": outcome[2]}
    return {"status": kind, "value": outcome[1] if len(outcome) > 1 else ""}


def _record(
    entry: _Entry, source: str, test: str, shown: str, ident: str, orig: Outcome, patched: Outcome
) -> None:
    comparable = orig[0] in ("return", "raise", "timeout") and patched[0] in ("return", "raise", "timeout")
    same = _same_outcome(orig, patched) if comparable else None
    mutated = bool(orig[0] == "return" and patched[0] == "return" and _same(orig[1], patched[1]) and not same)
    value = _repr(patched[1], SHOWN * 4) if patched[0] == "return" else patched[1]
    _emit(
        {
            "event": "call",
            "fn": entry.key,
            "source": source,
            "test": test,
            "input": shown,
            "id": ident,
            "orig": _describe(orig),
            "patched": _describe(patched),
            "patched_key": f"{patched[0]}:{value}",
            "same": same,
            "mutated": mutated,
        }
    )


# -- generated inputs ----------------------------------------------------------------------------------------


def generate() -> None:
    """Differential runs on generated inputs for every installed function (called once, by the probe test)."""
    for name in PLAN.get("imports", []):
        if not any(e.module == name for e in _ENTRIES.values()):
            try:
                __import__(name)
            except BaseException as exc:  # a module that does not import is reported, not fatal
                if type(exc).__name__ in _PASS_THROUGH:
                    raise
                _emit({"event": "import_error", "module": name, "why": f"{type(exc).__name__}: {exc}"[:300]})
    deadline = time.monotonic() + GENERATE_S
    entries = list(_ENTRIES.values())
    for k, entry in enumerate(entries):
        calls, how = _calls_for(entry)
        _emit({"event": "generator", "fn": entry.key, "how": how, "inputs": len(calls)})
        # Each function gets its share of what is left; a few inputs run whatever the clock says.
        stop = time.monotonic() + max(0.0, deadline - time.monotonic()) / (len(entries) - k)
        for n, (source, call) in enumerate(calls):
            if n >= MIN_INPUTS and time.monotonic() > stop:
                _emit({"event": "generator_cut", "fn": entry.key})
                break
            _differential(entry, source, call)


def _differential(entry: _Entry, source: str, call: Call) -> None:
    first, second = _copy_call(call), _copy_call(call)
    shown, ident = _show(call)
    _STATE.depth += 1
    try:
        orig = _run(entry, "orig", first)
        patched = _run(entry, "patched", second)
    finally:
        _STATE.depth -= 1
    _record(entry, source, "", shown, ident, orig, patched)


def _calls_for(entry: _Entry) -> Tuple[List[Tuple[str, Call]], str]:
    """(source, (args, kwargs)) pairs: docstring examples first, then generated ones."""
    calls = [("docstring", c) for c in _docstring_calls(entry)]
    if entry.sig is None:
        return calls, "no signature"
    params = list(entry.sig.parameters.values())
    observed = []
    for args, kwargs in entry.observed:
        try:
            observed.append(entry.sig.bind(*args, **kwargs))
        except TypeError:
            continue
    is_method = bool(params) and params[0].name in ("self", "cls") and bool(entry.method)
    if is_method and not observed:
        return calls, "a method never called by the tests (no instance to call it on)"
    specs = []
    hints = _hints(entry)
    for i, p in enumerate(params):
        values = [b.arguments[p.name] for b in observed if p.name in b.arguments]
        if is_method and i == 0:
            specs.append((p, ("sample", values)))
            continue
        specs.append((p, _spec(values, hints.get(p.name), p.default)))
    try:
        import hypothesis  # noqa: F401

        drawn, how = _draw_hypothesis(specs), "hypothesis"
    except ImportError:
        drawn, how = _draw_random(specs), "built-in generator (Hypothesis is not importable here)"
    except Exception as exc:  # a strategy Hypothesis rejects: fall back rather than lose the check
        drawn, how = _draw_random(specs), f"built-in generator (Hypothesis failed: {type(exc).__name__})"
    return calls + [("generated", c) for c in drawn], how


def _hints(entry: _Entry) -> Dict[str, Any]:
    try:
        import typing

        return typing.get_type_hints(entry.patched)
    except Exception:
        return {}


def _docstring_calls(entry: _Entry) -> List[Call]:
    doc = entry.patched.__doc__ or ""
    name = entry.qualname.rsplit(".", 1)[-1]
    out = []
    for line in doc.splitlines():
        line = line.strip()
        if not line.startswith(">>> "):
            continue
        try:
            node = ast.parse(line[4:].strip(), mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id != name:
            continue
        try:
            args = tuple(ast.literal_eval(a) for a in node.args)
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
        except (ValueError, SyntaxError, TypeError):
            continue
        out.append((args, kwargs))
    return out[:20]


# A spec is a small, interpreter-neutral description of a value's strategy, read by both drawers below.
def _spec(values: List[Any], hint: Any, default: Any) -> Spec:
    options: List[Spec] = []
    if values:
        options.append(("sample", values))
        options.extend(_neighbours(values))
    if hint is not None:
        options.append(("hint", hint))
    if default is not inspect.Parameter.empty:
        options.append(("just", default))
    if not options:
        options.append(("any",))
    return ("one_of", options)


def _neighbours(values: List[Any]) -> List[Spec]:
    """Strategies around the values seen at run time: same types, nearby sizes and magnitudes."""
    kinds: Dict[type, List[Any]] = {}
    for v in values:
        kinds.setdefault(type(v), []).append(v)
    out: List[Spec] = []
    for kind, vs in kinds.items():
        if kind is bool:
            out.append(("bool",))
        elif kind is int:
            out.append(("int", min(min(vs), 0) - 3, max(max(vs), 1) + 3))
        elif kind is float:
            out.append(("float", min(min(vs), 0.0) - 2.0, max(max(vs), 1.0) + 2.0))
        elif kind is str:
            chars = sorted(set("".join(vs)))[:40] or ["a", "b"]
            out.append(("text", chars, max(len(v) for v in vs) + 3))
        elif kind in (list, tuple, set, frozenset):
            elements = [x for v in vs for x in list(v)[:20]]
            size = max(len(v) for v in vs) + 2
            inner = ("one_of", [("sample", elements), *_neighbours(elements)]) if elements else ("any",)
            out.append(("seq", kind, inner, size))
        elif kind is dict:
            ks = [k for v in vs for k in list(v)[:20]]
            items = [x for v in vs for x in list(v.values())[:20]]
            if ks:
                out.append(
                    (
                        "dict",
                        ("one_of", [("sample", ks), *_neighbours(ks)]),
                        ("one_of", [("sample", items), *_neighbours(items)]) if items else ("any",),
                        max(len(v) for v in vs) + 2,
                    )
                )
        elif kind is type(None):
            out.append(("just", None))
    return out


def _draw_hypothesis(specs: List[Tuple[inspect.Parameter, Spec]]) -> List[Call]:
    import hypothesis
    from hypothesis import strategies as st

    def strategy(spec: Spec) -> Any:
        tag = spec[0]
        if tag == "one_of":
            return st.one_of([strategy(s) for s in spec[1]])
        if tag == "sample":
            return st.sampled_from(spec[1])
        if tag == "hint":
            return st.from_type(spec[1])
        if tag == "just":
            return st.just(spec[1])
        if tag == "bool":
            return st.booleans()
        if tag == "int":
            return st.integers(spec[1], spec[2])
        if tag == "float":
            return st.floats(spec[1], spec[2], allow_nan=False)
        if tag == "text":
            return st.text(alphabet=st.sampled_from(spec[1]), max_size=spec[2])
        if tag == "seq":
            kind = spec[1]
            lists = st.lists(strategy(spec[2]), max_size=spec[3])
            if kind in (set, frozenset):
                return lists.map(lambda xs: kind(x for x in xs if _hashable(x)))
            return lists.map(kind) if kind is not list else lists
        if tag == "dict":
            return st.dictionaries(strategy(spec[1]).filter(_hashable), strategy(spec[2]), max_size=spec[3])
        return st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-5, 20),
            st.text(max_size=5),
            st.lists(st.integers(-5, 20), max_size=5),
        )

    params = [(p, strategy(s)) for p, s in specs]
    positional = [s for p, s in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keywords = {p.name: s for p, s in params if p.kind == p.KEYWORD_ONLY and p.default is p.empty}
    calls = []

    @hypothesis.settings(
        max_examples=GENERATED,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate],
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(st.tuples(*positional), st.fixed_dictionaries(keywords))
    def collect(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
        calls.append((args, kwargs))

    collect()
    return calls


def _hashable(x: Any) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _draw_random(specs: List[Tuple[inspect.Parameter, Spec]]) -> List[Call]:
    rng = random.Random(1729)

    def draw(spec: Spec, depth: int = 0) -> Any:
        tag = spec[0]
        if tag == "one_of":
            return draw(rng.choice(spec[1]), depth)
        if tag == "sample":
            return rng.choice(spec[1]) if spec[1] else None
        if tag == "hint":
            return _from_hint(spec[1], rng)
        if tag == "just":
            return spec[1]
        if tag == "bool":
            return rng.random() < 0.5
        if tag == "int":
            return rng.randint(spec[1], spec[2])
        if tag == "float":
            return rng.uniform(spec[1], spec[2])
        if tag == "text":
            return "".join(rng.choice(spec[1]) for _ in range(rng.randint(0, spec[2])))
        if tag == "seq" and depth < 4:
            items = [draw(spec[2], depth + 1) for _ in range(rng.randint(0, spec[3]))]
            if spec[1] in (set, frozenset):
                return spec[1](x for x in items if _hashable(x))
            return spec[1](items) if spec[1] is not list else items
        if tag == "dict" and depth < 4:
            out = {}
            for _ in range(rng.randint(0, spec[3])):
                k = draw(spec[1], depth + 1)
                if _hashable(k):
                    out[k] = draw(spec[2], depth + 1)
            return out
        return rng.choice([None, True, 0, 1, -1, 7, "", "a", [], [1, 2]])

    positional = [s for p, s in specs if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keywords = [(p.name, s) for p, s in specs if p.kind == p.KEYWORD_ONLY and p.default is p.empty]
    return [(tuple(draw(s) for s in positional), {k: draw(s) for k, s in keywords}) for _ in range(GENERATED)]


def _from_hint(hint: Any, rng: random.Random) -> Any:
    simple: Dict[Any, Any] = {
        int: lambda: rng.randint(-10, 10),
        float: lambda: rng.uniform(-10, 10),
        bool: lambda: rng.random() < 0.5,
        str: lambda: "".join(rng.choice("ab ") for _ in range(rng.randint(0, 5))),
        type(None): lambda: None,
    }
    if hint in simple:
        return simple[hint]()
    origin = getattr(hint, "__origin__", None)
    args: Tuple[Any, ...] = tuple(getattr(hint, "__args__", ()) or ())
    if origin in (list, set, frozenset, tuple) and args:
        items = [_from_hint(args[0], rng) for _ in range(rng.randint(0, 4))]
        return origin(items) if origin is not list else items
    if origin is dict and len(args) >= 2:
        return {_from_hint(args[0], rng): _from_hint(args[1], rng) for _ in range(rng.randint(0, 3))}
    return None
