"""Static anti-pattern checks of a plausible patch, function by function (the catalogue and its sources are
data: antipatterns.yml, with examples that must and must not be flagged)."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from repairbot.assess.changes import FunctionChange

# Literals too common to say anything about the tests: a guard `if n == 0` or `return None` is a fix shape.
TRIVIAL = frozenset({None, True, False, -1, 2, ""})


@dataclass(frozen=True, slots=True)
class AntiPattern:
    id: str
    message: str
    sources: tuple[str, ...]
    examples: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    function: str  # path::qualname
    detail: str  # what exactly, one line

    def text(self) -> str:
        return f"{catalogue()[self.id].message} in `{self.function.split('::', 1)[-1]}`: {self.detail}"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, AntiPattern]:
    data = yaml.safe_load(resources.files("repairbot.assess").joinpath("antipatterns.yml").read_text("utf-8"))
    return {
        e["id"]: AntiPattern(e["id"], e["message"], tuple(e["sources"]), tuple(e.get("examples", ())))
        for e in data["antipatterns"]
    }


# -- literals of the tests -----------------------------------------------------------------------------------


def literals(source: str | bytes) -> frozenset[object]:
    """Every constant in a test file (numbers, strings, bytes), negative numbers included."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    out: set[object] = set()
    for node in ast.walk(tree):
        value = _literal(node)
        if value is not _NO and _hashable(value):
            out.add(value)
    return frozenset(out)


_NO = object()


def _literal(node: ast.AST) -> object:
    if isinstance(node, ast.Constant) and not isinstance(node.value, type(...)):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    return _NO


def _is_constant(node: ast.AST | None) -> bool:
    """A literal, or a container display made only of literals (`[]`, `(1, 2)`, `{}`)."""
    if node is None:
        return True  # a bare `return`
    if _literal(node) is not _NO:
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(_is_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k) for k in node.keys) and all(
            _is_constant(v) for v in node.values
        )
    return False


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _distinctive(value: object) -> bool:
    """A literal that points at one test rather than at a general case."""
    if not _hashable(value) or value in TRIVIAL or isinstance(value, bool):
        return False
    return not (isinstance(value, str) and len(value.strip()) <= 1)


# -- the detectors -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pair:
    change: FunctionChange
    before: ast.AST
    after: ast.AST
    test_literals: frozenset[object]  # literals of the failing tests' files


def _nodes(tree: ast.AST, *types: type) -> list[ast.AST]:
    return [n for n in ast.walk(tree) if isinstance(n, types)]


def _count(tree: ast.AST, *types: type) -> int:
    return len(_nodes(tree, *types))


def _deletes_loop(p: _Pair) -> str | None:
    loops = (ast.For, ast.AsyncFor, ast.While)
    a, b = _count(p.before, *loops), _count(p.after, *loops)
    return f"{a - b} loop(s) fewer" if b < a else None


def _branches(tree: ast.AST) -> Counter[str]:
    c: Counter[str] = Counter()
    for n in ast.walk(tree):
        if isinstance(n, ast.If):
            c["if"] += 1
            if n.orelse:
                c["else"] += 1
        elif isinstance(n, ast.Try):
            c["try"] += 1
        elif isinstance(n, ast.ExceptHandler):
            c["except"] += 1
        elif isinstance(n, ast.IfExp):
            c["conditional expression"] += 1
    return c


def _deletes_branch(p: _Pair) -> str | None:
    a, b = _branches(p.before), _branches(p.after)
    lost = [k for k in a if b[k] < a[k]]
    return "fewer " + ", ".join(f"`{k}`" for k in lost) if lost else None


def _blocks(tree: ast.AST) -> list[list[ast.stmt]]:
    out: list[list[ast.stmt]] = []
    for n in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(n, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                out.append(block)
    return out


def _empty(block: Sequence[ast.stmt]) -> bool:
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in block
    )


def _empties_block(p: _Pair) -> str | None:
    a = sum(1 for b in _blocks(p.before) if _empty(b))
    b = sum(1 for b in _blocks(p.after) if _empty(b))
    if b <= a:
        return None
    # An emptied handler is the swallowing anti-pattern's business.
    handlers = [
        h for h in _nodes(p.after, ast.ExceptHandler) if isinstance(h, ast.ExceptHandler) and _empty(h.body)
    ]
    before_handlers = [
        h for h in _nodes(p.before, ast.ExceptHandler) if isinstance(h, ast.ExceptHandler) and _empty(h.body)
    ]
    if b - a <= len(handlers) - len(before_handlers):
        return None
    return "a block is left with only `pass`"


def _returns(tree: ast.AST) -> list[ast.Return]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Return)]


def _constant_return(p: _Pair) -> str | None:
    """A return that computed something now returns a constant (same function, same number of returns)."""
    old, new = _returns(p.before), _returns(p.after)
    if len(old) != len(new):
        return None
    for x, y in zip(old, new, strict=True):
        if (
            not _is_constant(x.value)
            and x.value is not None
            and _is_constant(y.value)
            and y.value is not None
        ):
            return f"`return {ast.unparse(x.value)}` became `return {ast.unparse(y.value)}`"
    return None


def _returns_test_literal(p: _Pair) -> str | None:
    seen = {_literal(n) for n in ast.walk(p.before)}
    for r in _returns(p.after):
        value = _literal(r.value) if r.value is not None else _NO
        if value is not _NO and _distinctive(value) and value in p.test_literals and value not in seen:
            return f"`return {ast.unparse(r.value)}`" if r.value is not None else None
    return None


def _comparisons(tree: ast.AST) -> Counter[str]:
    return Counter(ast.dump(n) for n in ast.walk(tree) if isinstance(n, ast.Compare))


def _special_cases(p: _Pair) -> str | None:
    old = _comparisons(p.before)
    seen = {_literal(n) for n in ast.walk(p.before)}
    for n in ast.walk(p.after):
        if not isinstance(n, ast.Compare) or old[ast.dump(n)] > 0:
            continue
        for side in [n.left, *n.comparators]:
            elements = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
            for e in elements:
                value = _literal(e)
                if (
                    value is not _NO
                    and _distinctive(value)
                    and value in p.test_literals
                    and value not in seen
                ):
                    return f"`{ast.unparse(n)}`"
    return None


def _conditions(tree: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.If | ast.While | ast.IfExp | ast.Assert):
            out.append(n.test)
        elif isinstance(n, ast.comprehension):
            out.extend(n.ifs)
    return out


def _weakened(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.BoolOp):
        absorbing = isinstance(node.op, ast.Or)
        return any(isinstance(v, ast.Constant) and bool(v.value) is absorbing for v in node.values)
    return False


def _constant_condition(p: _Pair) -> str | None:
    before = Counter(ast.dump(c) for c in _conditions(p.before) if _weakened(c))
    before_ops = Counter(ast.dump(b) for b in _nodes(p.before, ast.BoolOp) if _weakened(b))
    for c in _conditions(p.after):
        if _weakened(c) and before[ast.dump(c)] == 0:
            return f"condition `{ast.unparse(c)}`"
    for b in _nodes(p.after, ast.BoolOp):
        if _weakened(b) and before_ops[ast.dump(b)] == 0:
            return f"`{ast.unparse(b)}`"
    return None


def _falsy_constant(node: ast.AST | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and not node.value)


def _swallows(p: _Pair) -> str | None:
    name = p.change.qualname.rsplit(".", 1)[-1]
    # `__exit__`: the original never suppressed (every return is falsy); the patched one may return true.
    if (
        name in ("__exit__", "__aexit__")
        and all(_falsy_constant(r.value) for r in _returns(p.before))
        and not all(_falsy_constant(r.value) for r in _returns(p.after))
    ):
        return "`__exit__` may now return a true value, which suppresses every exception in the `with` block"

    def silent(tree: ast.AST) -> int:
        n = 0
        for h in _nodes(tree, ast.ExceptHandler):
            assert isinstance(h, ast.ExceptHandler)
            broad = h.type is None or (
                isinstance(h.type, ast.Name) and h.type.id in ("Exception", "BaseException")
            )
            body_silent = all(
                isinstance(s, ast.Pass | ast.Continue)
                or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                or (isinstance(s, ast.Return) and _is_constant(s.value))
                for s in h.body
            )
            n += broad and body_silent
        return n

    if silent(p.after) > silent(p.before):
        return "a broad `except` that only passes or returns a constant"

    def suppress(tree: ast.AST) -> int:
        return sum(
            1
            for c in _nodes(tree, ast.Call)
            if isinstance(c, ast.Call) and ast.unparse(c.func).rsplit(".", 1)[-1] == "suppress"
        )

    if suppress(p.after) > suppress(p.before):
        return "`suppress(...)` added"
    return None


_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _dead_after_exit(tree: ast.AST) -> Counter[str]:
    """Exit statements followed by more statements of their own block (which can then never run)."""
    c: Counter[str] = Counter()
    for block in _blocks(tree):
        for stmt in block[:-1]:
            if isinstance(stmt, _EXITS):
                c[ast.dump(stmt)] += 1
    return c


def _early_exit(p: _Pair) -> str | None:
    old = _dead_after_exit(p.before)
    for block in _blocks(p.after):
        for k, stmt in enumerate(block[:-1]):
            if isinstance(stmt, _EXITS) and old[ast.dump(stmt)] == 0:
                return (
                    f"`{ast.unparse(stmt)}` makes `{ast.unparse(block[k + 1]).splitlines()[0]}` unreachable"
                )
    return None


def _clamps(tree: ast.AST) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("max", "min")
    ]


def _clamps_computation(p: _Pair) -> str | None:
    old = Counter(ast.dump(c) for c in _clamps(p.before))
    targets: dict[int, str] = {}
    for n in ast.walk(p.after):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Call):
            targets[id(n.value)] = ast.unparse(n.targets[0])
        elif isinstance(n, ast.AugAssign | ast.AnnAssign) and isinstance(n.value, ast.Call):
            targets[id(n.value)] = ast.unparse(n.target)
    for call in _clamps(p.after):
        if old[ast.dump(call)] > 0 or len(call.args) != 2 or call.keywords:
            continue
        target = targets.get(id(call))
        args = [ast.unparse(a) for a in call.args]
        if target is not None and target in args:
            continue  # `best = max(best, x)`: a running extremum keeps its own value, it clamps nothing
        literal = any(_is_constant(a) for a in call.args)
        kind = "against a literal" if literal else "of two unrelated values"
        return f"`{ast.unparse(call)}` ({kind})"
    return None


DETECTORS: dict[str, Callable[[_Pair], str | None]] = {
    "deletes-loop": _deletes_loop,
    "deletes-branch": _deletes_branch,
    "empties-block": _empties_block,
    "constant-return": _constant_return,
    "returns-test-literal": _returns_test_literal,
    "special-cases-test-input": _special_cases,
    "constant-condition": _constant_condition,
    "swallows-exceptions": _swallows,
    "early-exit": _early_exit,
    "clamps-computation": _clamps_computation,
}


def findings(changes: Iterable[FunctionChange], test_literals: frozenset[object]) -> list[Finding]:
    """The anti-patterns the changed functions show (a function the patch added or removed: none)."""
    out: list[Finding] = []
    for change in changes:
        if change.before is None or change.after is None:
            continue
        pair = _Pair(change, change.before, change.after, test_literals)
        for anti_id, detect in DETECTORS.items():
            detail = detect(pair)
            if detail:
                out.append(Finding(anti_id, change.key, detail))
    return out
