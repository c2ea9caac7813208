"""Scope facts: the names in scope at a node, with rough kinds and types, and the module vocabulary.

One pass of `queries/scope.scm` over a file gives every definition, type hint and use; facts for a node are
then read off the chain of scopes around it (comprehension/lambda → function(s) → module). Cheap by design:
these are hints for ranking donors, not a type checker.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

from tree_sitter import Node

from repairbot.parsing.tree import SIMPLE_STATEMENTS, Source, query

# Kinds of a name, most specific first: a name that is both a parameter and reassigned stays a parameter.
_KIND_ORDER = ("param", "loopvar", "compvar", "local", "function", "class", "import", "global")
_SCOPES = frozenset({"function_definition", "lambda", "class_definition"})
_COMPREHENSIONS = frozenset(
    {"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"}
)
_CONTAINER_CTORS = {
    "list": "list",
    "set": "set",
    "frozenset": "set",
    "dict": "dict",
    "defaultdict": "dict",
    "OrderedDict": "dict",
    "Counter": "dict",
    "deque": "deque",
    "tuple": "tuple",
    "sorted": "list",
}
_NUMBER_CTORS = frozenset(
    {"len", "int", "float", "sum", "abs", "min", "max", "round", "ord", "pow", "divmod"}
)
_LIST_METHODS = frozenset({"append", "extend", "insert", "sort", "reverse"})
_SET_METHODS = frozenset({"add", "discard", "union", "intersection", "difference"})
_DICT_METHODS = frozenset({"items", "keys", "values", "get", "setdefault"})
_DEQUE_METHODS = frozenset({"popleft", "appendleft"})
CONTAINERS = frozenset({"list", "set", "dict", "deque", "tuple", "container", "str"})


@dataclass(frozen=True, slots=True)
class NameInfo:
    """A name visible at a node."""

    name: str
    kind: str  # param, local, loopvar, compvar, function, class, import, global
    types: frozenset[str]  # rough hints: list, set, dict, deque, tuple, container, number, bool, str, none,
    #                        callable, indexable, iterable, object
    count: int  # occurrences in its defining scope
    distance: int  # 0: innermost scope, 1: the enclosing one, ...; the module is the last


@dataclass(frozen=True, slots=True)
class ScopeFacts:
    names: tuple[NameInfo, ...]  # best first: nearest scope, then most used
    attributes: tuple[str, ...]  # attribute names used in the module, most used first
    callables: tuple[str, ...]  # names and methods called in the module, most used first
    literals: tuple[str, ...]  # literal texts, the function's first, then the module's
    statements: tuple[str, ...]  # simple statements (one line) of the function, then of the module
    function: Node | None = None
    # Names compared with each name in the function (`k >= lo` pairs k and lo): an offset or a replacement
    # for a variable is most often the value it is checked against.
    partners: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    _by_name: dict[str, NameInfo] = field(default_factory=dict, compare=False, repr=False)

    def get(self, name: str) -> NameInfo | None:
        if not self._by_name:
            self._by_name.update({n.name: n for n in reversed(self.names)})
        return self._by_name.get(name)


@dataclass(slots=True)
class _Def:
    name: str
    kind: str
    owner: int  # id of the owning scope node (0 = module)
    node: Node


@dataclass(slots=True)
class _Index:
    defs: list[_Def] = field(default_factory=list)
    hints: dict[tuple[int, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    idents: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    attributes: Counter[str] = field(default_factory=Counter)
    callables: Counter[str] = field(default_factory=Counter)
    literals: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    partners: dict[int, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # per function, on demand
    scope_nodes: dict[int, Node] = field(default_factory=dict)
    globals_of: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))


@lru_cache(maxsize=1)
def _scope_query_text() -> str:
    return files("repairbot.parsing").joinpath("queries/scope.scm").read_text(encoding="utf-8")


def _owner(node: Node, *, comprehension: bool = True) -> Node | None:
    """The scope node that owns a name occurring at `node` (None: the module)."""
    p = node.parent
    child = node
    while p is not None:
        if p.type in _SCOPES:
            # A def's own name belongs to the enclosing scope; its parameters to the def.
            if (
                p.type in ("function_definition", "class_definition")
                and p.child_by_field_name("name") == child
            ):
                child, p = p, p.parent
                continue
            if (
                p.type == "lambda"
                and child.type != "lambda_parameters"
                and child != p.child_by_field_name("body")
            ):
                child, p = p, p.parent
                continue
            return p
        if comprehension and p.type in _COMPREHENSIONS:
            return p
        child, p = p, p.parent
    return None


_INDEX_CACHE: dict[int, tuple[Source, _Index]] = {}


def _index(src: Source) -> _Index:
    key = id(src.tree)
    hit = _INDEX_CACHE.get(key)
    if hit is not None and hit[0] is src:
        return hit[1]
    idx = _build_index(src)
    if len(_INDEX_CACHE) > 32:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[key] = (src, idx)
    return idx


def _oid(node: Node | None) -> int:
    return 0 if node is None else node.id


def _build_index(src: Source) -> _Index:
    idx = _Index()
    q = query(_scope_query_text())
    from tree_sitter import QueryCursor

    for _pattern, caps in QueryCursor(q).matches(src.root):
        for cap, nodes in caps.items():
            for node in nodes:
                _record(src, idx, cap, node, caps)
    return idx


def _record(src: Source, idx: _Index, cap: str, node: Node, caps: dict[str, list[Node]]) -> None:
    text = src.text(node)
    if cap.startswith("def."):
        kind = cap[4:]
        if kind == "globaldecl":
            owner = _owner(node, comprehension=False)
            idx.globals_of[_oid(owner)].add(text)
            return
        comp = kind == "compvar"
        owner = _owner(node, comprehension=comp)
        if owner is not None:
            idx.scope_nodes[owner.id] = owner
        if kind == "compvar":
            kind = "loopvar"
        idx.defs.append(_Def(text, kind, _oid(owner), node))
    elif cap.startswith("hint."):
        hint = cap[5:]
        if hint == "ctor":
            return
        oid = _oid(_owner(node, comprehension=False))
        if hint == "call":
            ctor = src.text(caps["hint.ctor"][0]) if caps.get("hint.ctor") else ""
            if ctor in _CONTAINER_CTORS:
                kind = _CONTAINER_CTORS[ctor]
                idx.hints[(oid, text)].update({kind, "container"})
            elif ctor in _NUMBER_CTORS:
                idx.hints[(oid, text)].add("number")
            return
        types = {hint}
        if hint in ("list", "set", "dict", "tuple"):
            types.add("container")
        idx.hints[(oid, text)].update(types)
    elif cap.startswith("use."):
        how = cap[4:]
        oid = _oid(_owner(node, comprehension=False))
        hints = idx.hints[(oid, text)]
        if how == "obj":
            attr = src.text(caps["use.objattr"][0]) if caps.get("use.objattr") else ""
            hints.add("object")
            for methods, kind in (
                (_LIST_METHODS, "list"),
                (_SET_METHODS, "set"),
                (_DICT_METHODS, "dict"),
                (_DEQUE_METHODS, "deque"),
            ):
                if attr in methods:
                    hints.update({kind, "container"})
            if attr in ("pop", "remove", "append", "add", "clear", "copy", "update"):
                hints.add("container")
            if attr in ("pop", "popleft", "popitem", "get_nowait"):
                hints.add("consumed")  # drained as the code runs: the natural guard of a loop
        elif how == "objattr":
            return
        elif how == "indexed":
            hints.add("indexable")
        elif how == "called":
            hints.add("callable")
        elif how == "iterated":
            hints.add("iterable")
        elif how == "sized":
            hints.update({"container"})
        elif how == "arith":
            hints.add("number")
        elif how == "member":
            hints.update({"container", "member"})
        elif how == "compared":
            hints.add("compared")
    elif cap == "attr":
        idx.attributes[text] += 1
    elif cap in ("callee", "method"):
        idx.callables[text] += 1
    elif cap == "literal":
        if len(text) <= 40 and "\n" not in text:
            idx.literals[_oid(_owner(node, comprehension=False))][text] += 1
    elif cap == "ident":
        idx.idents[_oid(_owner(node, comprehension=False))][text] += 1


def _chain(node: Node) -> list[Node | None]:
    """Scopes visible from `node`, innermost first, ending with None (the module).

    Class bodies are visible only from directly inside them (Python's rule), comprehensions and lambdas only
    from inside.
    """
    chain: list[Node | None] = []
    p = node if node.type in _SCOPES or node.type in _COMPREHENSIONS else node.parent
    first = True
    while p is not None:
        if p.type in _SCOPES or p.type in _COMPREHENSIONS:
            if p.type != "class_definition" or first:
                chain.append(p)
            if p.type != "class_definition" and p.type not in _COMPREHENSIONS:
                first = False
        p = p.parent
    chain.append(None)
    return chain


def scope_facts(src: Source, node: Node) -> ScopeFacts:
    """Names in scope at `node` and the vocabulary of its function and module (donor material)."""
    idx = _index(src)
    chain = _chain(node)
    distance_of: dict[int, int] = {}
    d = 0
    for scope in chain:
        distance_of[_oid(scope)] = d
        if scope is None or scope.type not in _COMPREHENSIONS:
            d += 1
    # Comprehension variables share the distance of the scope they sit in.
    module_d = max(distance_of.values())
    best: dict[str, tuple[int, int, str]] = {}
    for df in idx.defs:
        if df.owner not in distance_of:
            continue
        dist = distance_of[df.owner]
        if df.name in idx.globals_of.get(df.owner, set()):
            dist = module_d
        rank = _KIND_ORDER.index(df.kind) if df.kind in _KIND_ORDER else len(_KIND_ORDER)
        kind = df.kind if df.owner != 0 or df.kind in ("function", "class", "import") else "global"
        old = best.get(df.name)
        if old is None or (dist, rank) < (old[0], old[1]):
            best[df.name] = (dist, rank, kind)
    names: list[NameInfo] = []
    for name, (dist, _rank, kind) in best.items():
        types: set[str] = set()
        for scope in chain:
            types |= idx.hints.get((_oid(scope), name), set())
        if kind in ("function", "class"):
            types.add("callable")
        count = sum(idx.idents.get(_oid(s), Counter()).get(name, 0) for s in chain) or 1
        names.append(NameInfo(name, kind, frozenset(types), count, dist))
    names.sort(key=lambda n: (n.distance, -n.count, n.name))

    func = next((s for s in chain if s is not None and s.type == "function_definition"), None)
    literals: Counter[str] = Counter()
    lit_order: list[str] = []
    for scope in chain:
        for lit, _n in idx.literals.get(_oid(scope), Counter()).most_common():
            if lit not in literals:
                lit_order.append(lit)
            literals[lit] += 1
    stmts = _donor_statements(src, func)
    if _oid(func) not in idx.partners:  # once per function, not per statement of it
        idx.partners[_oid(func)] = _comparison_partners(src, func)
    return ScopeFacts(
        names=tuple(names),
        attributes=tuple(a for a, _ in idx.attributes.most_common()),
        callables=tuple(c for c, _ in idx.callables.most_common()),
        literals=tuple(lit_order),
        statements=stmts,
        function=func,
        partners=idx.partners[_oid(func)],
    )


def _comparison_partners(src: Source, func: Node | None) -> dict[str, tuple[str, ...]]:
    """For each plain name compared in `func`, the plain names on the other side, in source order."""
    out: dict[str, dict[str, None]] = {}
    stack = [func] if func is not None else []
    while stack:
        n = stack.pop()
        if n.type in ("function_definition", "lambda", "class_definition") and n is not func:
            continue  # their names live in another scope
        if n.type == "comparison_operator":
            operands = [src.text(c) for c in n.named_children if c.type == "identifier"]
            for a in operands:
                for b in operands:
                    if a != b:
                        out.setdefault(a, {})[b] = None
        stack.extend(reversed(n.children))
    return {k: tuple(v) for k, v in out.items()}


def _donor_statements(src: Source, func: Node | None) -> tuple[str, ...]:
    """One-line simple statements of the function first, then of the module, deduplicated."""
    from repairbot.parsing.tree import statements_of

    seen: dict[str, None] = {}
    for owner in (func, src.root):
        if owner is None:
            continue
        for st in statements_of(owner):
            if st.type not in SIMPLE_STATEMENTS or st.start_point[0] != st.end_point[0]:
                continue
            if st.type in ("import_statement", "import_from_statement", "global_statement", "pass_statement"):
                continue
            text = src.text(st)
            if (
                st.type == "expression_statement"
                and st.named_children
                and st.named_children[0].type == "string"
            ):
                continue
            seen.setdefault(text, None)
    return tuple(seen)
