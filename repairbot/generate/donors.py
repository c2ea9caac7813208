"""Donor pools for holes and the weight-free `donors` predictor (GAMMA without a model).

A pool is built from the code in scope at the hole (names, attributes, callables, literals, statements of the
same function and module), ordered by scope distance, kind compatibility with the code being replaced, and
frequency. The `DonorPredictor` turns that order into scores; a masked-LM predictor can rank the same holes
from `Hole.prefix`/`Hole.suffix` instead, and the mask generator merges both.
"""

from __future__ import annotations

from collections.abc import Sequence

from repairbot.generate.learned import callee_alternatives, order_guards
from repairbot.generate.operators import operator_alternatives
from repairbot.models import Hole
from repairbot.parsing.scope import CONTAINERS, NameInfo, ScopeFacts

# Well-known pairs of callables that are easy to confuse (a catalogue; the pairs real fixes made come first:
# learned.callee_alternatives).
CALLABLE_PAIRS: dict[str, tuple[str, ...]] = {
    "any": ("all",),
    "all": ("any",),
    "min": ("max",),
    "max": ("min",),
    "append": ("extend", "add", "appendleft"),
    "extend": ("append",),
    "add": ("append", "update"),
    "update": ("add",),
    "appendleft": ("append",),
    "pop": ("popleft",),
    "popleft": ("pop",),
    "insert": ("append",),
    "remove": ("discard", "pop"),
    "discard": ("remove",),
    "sort": ("reverse",),
    "sorted": ("reversed",),
    "reversed": ("sorted",),
    "lower": ("upper",),
    "upper": ("lower",),
    "startswith": ("endswith",),
    "endswith": ("startswith",),
    "keys": ("values", "items"),
    "values": ("keys", "items"),
    "items": ("keys", "values"),
    "find": ("rfind", "index"),
    "rfind": ("find",),
    "index": ("find", "rindex"),
    "floor": ("ceil",),
    "ceil": ("floor",),
    "int": ("round", "float"),
    "str": ("repr",),
    "isinstance": ("issubclass",),
    "hasattr": ("getattr",),
    "ljust": ("rjust",),
    "rjust": ("ljust",),
    "strip": ("rstrip", "lstrip"),
}
BUILTIN_CALLABLES = (
    "len",
    "min",
    "max",
    "abs",
    "sorted",
    "sum",
    "list",
    "set",
    "int",
    "str",
    "reversed",
    "any",
    "all",
)
DEFAULT_LITERALS = ("0", "1", "-1", "None", "True", "False", "[]", '""', "2")
_GUARDS = frozenset({"container", "list", "set", "dict", "deque", "bool", "none", "member"})
_VALUE_KINDS = frozenset({"param", "local", "loopvar", "global"})
_SHAPES = frozenset({"number", "bool", "str", "none"}) | CONTAINERS


def _compat(a: NameInfo | None, b: NameInfo) -> int:
    """How many shape hints two names share (0 when nothing is known)."""
    if a is None:
        return 0
    return len((a.types & b.types) & _SHAPES) + (1 if a.kind == b.kind else 0)


def value_names(facts: ScopeFacts, original: str = "") -> list[NameInfo]:
    """In-scope variables (no functions, classes, modules) ranked for replacing `original`: the names it is
    compared with first, then by scope distance, shape compatibility and use."""
    ref = facts.get(original)
    partners = facts.partners.get(original, ())
    names = [n for n in facts.names if n.kind in _VALUE_KINDS and n.name != original]
    names.sort(key=lambda n: (n.name not in partners, n.distance, -_compat(ref, n), -n.count, n.name))
    return names


def pairs(name: str) -> tuple[str, ...]:
    return callee_alternatives(name, CALLABLE_PAIRS.get(name, ()))


def _dedup(items: Sequence[str], exclude: str, limit: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for it in items:
        if it and it != exclude and it not in seen:
            seen[it] = None
        if len(seen) >= limit:
            break
    return tuple(seen)


def donor_pool(
    kind: str,
    facts: ScopeFacts,
    original: str = "",
    *,
    in_loop: bool = False,
    limit: int = 40,
) -> tuple[str, ...]:
    """Fills for a hole of `kind`, best first, from the code in scope (never from anything else)."""
    names = value_names(facts, original)
    top = [n.name for n in names]
    items: list[str] = []
    if kind in ("name", "arg"):
        items = top
    elif kind == "index":
        nums = [n.name for n in names if "number" in n.types]
        items = [*nums, "1", "0", "-1", *top]
    elif kind == "expr":
        lits = [lit for lit in facts.literals if len(lit) <= 12]
        items = [*top[:12], *lits[:8], *DEFAULT_LITERALS[:6], *top[12:]]
    elif kind == "literal":
        items = [*facts.literals, *DEFAULT_LITERALS]
    elif kind == "attr":
        items = list(facts.attributes)
    elif kind == "callable":
        funcs = [n.name for n in facts.names if "callable" in n.types]
        items = [*pairs(original), *facts.callables, *funcs, *BUILTIN_CALLABLES]
    elif kind == "cond":
        guards = sorted(names, key=guard_order)
        items = _conditions(guards[:10])
    elif kind == "stmt":
        items = _statements(facts, names, in_loop=in_loop)
    elif kind == "op":
        items = list(operator_alternatives(original))
    return _dedup(items, original, limit)


# Guard forms per shape of name, written as the fix corpus counts them (`X` a name); the order they are tried
# in is how often real fixes added that form (learned.order_guards).
_NONE_GUARDS = ("X is_not None", "X is None", "X", "not X")
_NUMBER_GUARDS = ("X == 0", "X", "not X", "X > 0", "X < 0", "X != 0")
_OTHER_GUARDS = ("X", "not X", "X is_not None", "X is None")


def guard_order(n: NameInfo) -> tuple[object, ...]:
    """Names to build guards from, best first: loop variables bound inside the statement are poor guards;
    collections and flags make good ones."""
    return (n.distance, n.kind in ("loopvar", "compvar"), not (n.types & _GUARDS), -n.count)


def collection_order(n: NameInfo) -> tuple[object, ...]:
    """Collections to add a missing update to: the nearest, then the most used."""
    return (n.distance, -n.count)


def _conditions(names: Sequence[NameInfo]) -> list[str]:
    out: list[str] = []
    for n in names:
        forms: tuple[str, ...]
        if ("none" in n.types or "object" in n.types) and not n.types & CONTAINERS:
            forms = _NONE_GUARDS
        elif "number" in n.types and not n.types & CONTAINERS:
            forms = _NUMBER_GUARDS
        else:
            forms = _OTHER_GUARDS
        out += order_guards([(f.replace("X", n.name, 1).replace("is_not", "is not"), f) for f in forms])
    return out


def _statements(facts: ScopeFacts, names: Sequence[NameInfo], *, in_loop: bool) -> list[str]:
    """Statement donors, likeliest first: collection updates on in-scope names (`seen.add(x)`), the
    function's own statements, assignments between names, returns and loop control, the module's statements.
    """
    values = [n for n in names if not (n.types & {"list", "set", "deque", "dict", "callable"})][:6]
    updates: list[str] = []
    colls = sorted(names[:16], key=collection_order)
    for coll in colls:
        if "set" in coll.types or ("member" in coll.types and not coll.types & {"list", "deque", "str"}):
            updates += [f"{coll.name}.add({v.name})" for v in values]
        if coll.types & {"list", "deque"}:
            updates += [f"{coll.name}.append({v.name})" for v in values]
    scalars = [n for n in names if n.kind != "param" and not (n.types & {"callable"})][:5]
    assigns = [f"{a.name} = {b.name}" for a in scalars for b in names[:6] if a.name != b.name]
    flow = ["break", "continue"] if in_loop else []
    returns = [f"return {n.name}" for n in names[:6]]
    return [*updates[:8], *facts.statements, *flow, *updates[8:], *assigns, *returns, "return", "return None"]


class DonorPredictor:
    """Scores the donors of each hole by their position in the pool (no weights, no model)."""

    name = "donors"

    def rank(self, holes: Sequence[Hole], limit: int) -> list[list[tuple[str, float]]]:
        return [[(d, 1.0 / (1.0 + 0.25 * i)) for i, d in enumerate(h.donors[:limit])] for h in holes]
