"""The generic fix-pattern engine: load rules (rules/python/*.yml), match them with tree-sitter queries at a
statement, check constraints, and instantiate their fix templates into byte-range edits.

Template language (kept small on purpose; rules are data, this engine is generic):
  $cap            the matched text of capture `cap`
  ${fn($a, ...)}  a built-in template function; it yields one or more alternatives (see FUNCTIONS)
  ${nl}           the target line's ending plus its indentation (for templates spanning statements)
  <mask:kind>     a hole (kinds: name, expr, cond, stmt, literal, attr, callable, op, arg, index); `<mask>`
                  alone takes its kind from the replaced node
  $$              a literal dollar sign
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from tree_sitter import Node, QueryCursor

from repairbot.errors import BadInput, EnvironmentProblem
from repairbot.generate import donors as donors_mod
from repairbot.generate.learned import order_literals
from repairbot.generate.learned import wrappers as learned_wrappers
from repairbot.generate.operators import operator_alternatives
from repairbot.generate.ruledir import RULES_ENV, default_rules_dir, rules_root
from repairbot.parsing.scope import ScopeFacts, scope_facts
from repairbot.parsing.tree import (
    COMPOUND_STATEMENTS,
    STATEMENTS,
    Source,
    header_end,
    indentation,
    line_end,
    line_ending,
    line_start,
    query,
)

HOLE_KINDS = ("name", "expr", "cond", "stmt", "literal", "attr", "callable", "op", "arg", "index")

# ---------------------------------------------------------------------------------------------- rule records


@dataclass(frozen=True, slots=True)
class Target:
    capture: str
    insert: str | None = None  # None (replace), "before", "after", "body_start"
    through: str | None = None  # replace from `capture` through this capture (statement spans)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    family: str
    message: str
    query: str
    target: Target
    constraints: Mapping[str, Mapping[str, Any]]
    fixes: tuple[str, ...]
    prior: float
    path: Path | None = None
    # Failure symptom -> multiplier on the prior (unbounded recursion makes a base-case rule likelier).
    symptoms: Mapping[str, float] = field(default_factory=dict)
    source: tuple[str, ...] = ()  # catalogue patterns and real fix commits (owner/repo@sha) it stands for
    negatives: tuple[str, ...] = ()  # code it must not fire on (and <id>.negative.py beside the file)

    def negative_examples(self) -> tuple[str, ...]:
        own = self.path.with_suffix(".negative.py") if self.path is not None else None
        extra = (own.read_text(encoding="utf-8"),) if own is not None and own.is_file() else ()
        return (*self.negatives, *extra)

    def templates(self, *, holes: bool) -> tuple[str, ...]:
        """The templates with holes (mask generator) or without (rules generator)."""
        return tuple(t for t in self.fixes if bool(_HOLE.search(t)) == holes)


@lru_cache(maxsize=1)
def rule_schema() -> dict[str, Any]:
    path = default_rules_dir().parent / "schema.json"
    if not path.is_file():
        path = rules_root() / "schema.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(f"the rule schema {path} cannot be read: {exc}") from None
    return data


@lru_cache(maxsize=1)
def _rule_validator() -> Any:
    """One compiled validator: `jsonschema.validate` re-checks the schema itself on every call."""
    schema = rule_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def load_rule(path: Path) -> Rule:
    """Read and validate one rule file; a malformed file is a BadInput naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BadInput(f"rule file {path}: cannot read YAML: {str(exc).splitlines()[0]}") from exc
    try:
        error = jsonschema.exceptions.best_match(_rule_validator().iter_errors(data))
        if error is not None:
            raise error
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise BadInput(f"rule file {path}: {where}: {exc.message}") from exc
    if data["id"] != path.stem:
        raise BadInput(f"rule file {path}: id {data['id']!r} does not match the file name")
    raw_target = data["target"]
    target = (
        Target(raw_target)
        if isinstance(raw_target, str)
        else Target(raw_target["capture"], raw_target.get("insert"), raw_target.get("through"))
    )
    fixes = data["fix"] if isinstance(data["fix"], list) else [data["fix"]]
    try:
        q = query(data["query"])
    except Exception as exc:  # tree-sitter raises QueryError subclasses of several kinds
        raise BadInput(f"rule file {path}: query does not compile: {exc}") from exc
    names = {q.capture_name(i) for i in range(q.capture_count)}
    used = {target.capture, *(t for t in [target.through] if t), *data.get("constraints", {})}
    for fix in fixes:
        used |= set(re.findall(r"\$(\w+)", fix.replace("${", "{"))) - {"nl", "indent"}
        for m in _FUNC.finditer(fix):
            used |= set(re.findall(r"\$(\w+)", m.group(2) or ""))
    missing = sorted(u for u in used if u not in names)
    if missing:
        raise BadInput(f"rule file {path}: unknown capture(s) {', '.join(missing)}")
    for fix in fixes:
        for m in _HOLE.finditer(fix):
            if m.group(1) and m.group(1) not in HOLE_KINDS:
                raise BadInput(f"rule file {path}: unknown hole kind {m.group(1)!r}")
        for m in _FUNC.finditer(fix):
            if m.group(1) not in FUNCTIONS and m.group(1) not in ("nl", "indent"):
                raise BadInput(f"rule file {path}: unknown template function {m.group(1)!r}")
    return Rule(
        id=data["id"],
        family=data["family"],
        message=data["message"],
        query=data["query"],
        target=target,
        constraints=data.get("constraints", {}),
        fixes=tuple(fixes),
        prior=float(data["prior"]),
        path=path,
        symptoms={k: float(v) for k, v in data.get("symptoms", {}).items()},
        source=tuple(data.get("source", ())),
        negatives=tuple(data.get("negatives", ())),
    )


def load_rules(directory: Path | None = None) -> tuple[Rule, ...]:
    """Every rule under `directory` (default: rules/python next to the package, or $REPAIRBOT_RULES)."""
    return _load_rules_cached(str((directory or default_rules_dir()).resolve()))


@lru_cache(maxsize=8)
def _load_rules_cached(directory: str) -> tuple[Rule, ...]:
    d = Path(directory)
    hint = f"reinstall repairbot, or set {RULES_ENV} to a folder of rule files"
    if not d.is_dir():
        raise EnvironmentProblem(f"rules directory {d} does not exist", hint=hint)
    try:
        paths = sorted(d.glob("*.yml"))
    except OSError as exc:
        raise EnvironmentProblem(f"rules directory {d} cannot be read: {exc}", hint=hint) from None
    if not paths:
        raise EnvironmentProblem(f"rules directory {d} holds no rule (*.yml)", hint=hint)
    return tuple(load_rule(p) for p in paths)


# ------------------------------------------------------------------------------------- template functions

Alt = tuple[str, float]
# Expressions that need parentheses before a binary operator is glued to them.
_LOW_PRECEDENCE = frozenset(
    {
        "boolean_operator",
        "not_operator",
        "conditional_expression",
        "lambda",
        "comparison_operator",
        "named_expression",
    }
)
_ATOMS = frozenset(
    {
        "identifier",
        "integer",
        "float",
        "string",
        "true",
        "false",
        "none",
        "call",
        "subscript",
        "attribute",
        "parenthesized_expression",
        "list",
        "tuple",
        "dictionary",
        "set",
    }
)
_NEGATED_COMPARISON = {
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
    "==": "!=",
    "!=": "==",
    "is": "is not",
    "is not": "is",
    "in": "not in",
    "not in": "in",
}


@dataclass(frozen=True, slots=True)
class Env:
    """What template functions may look at."""

    src: Source
    captures: Mapping[str, Node]
    facts: ScopeFacts


def _group(text: str, node: Node | None) -> str:
    """`text` parenthesized when it would bind looser than an arithmetic operator."""
    if node is not None and (node.type in _LOW_PRECEDENCE or node.type == "binary_operator"):
        return f"({text})"
    return text


def _int_value(text: str) -> int | None:
    try:
        return int(text.replace("_", ""), 0)
    except ValueError:
        return None


def _offset(env: Env, node: Node, delta: int) -> str:
    text = env.src.text(node)
    v = _int_value(text) if node.type == "integer" else None
    if v is not None:
        return str(v + delta)
    if node.type == "unary_operator" and text.startswith("-"):
        inner = _int_value(text[1:].strip())
        if inner is not None:
            return str(-inner + delta)
    # `x - 1` + 1 folds back to `x` rather than `x - 1 + 1`.
    if node.type == "binary_operator":
        right = node.child_by_field_name("right")
        op = node.child_by_field_name("operator")
        left = node.child_by_field_name("left")
        if right is not None and op is not None and left is not None and right.type == "integer":
            rv = _int_value(env.src.text(right))
            op_sign = {"+": 1, "-": -1}.get(env.src.text(op))
            if rv is not None and op_sign is not None:
                total = op_sign * rv + delta
                base = env.src.text(left)
                if total == 0:
                    return base
                folded = f"{base} + {total}" if total > 0 else f"{base} - {-total}"
                return f"({folded})" if _binds_tighter_than_sum(node) else folded
    sign = "+" if delta > 0 else "-"
    out = f"{_wrap_low(text, node)} {sign} {abs(delta)}"
    return f"({out})" if _binds_tighter_than_sum(node) else out


_TIGHT_OPS = frozenset({"*", "/", "//", "%", "**", "@"})


def _binds_tighter_than_sum(node: Node) -> bool:
    """Would `node ± 1` put in place of `node` be split by the operator around it?"""
    parent = node.parent
    if parent is None:
        return False
    fld = field_of(node)
    if parent.type == "binary_operator":
        op = parent.child_by_field_name("operator")
        op_text = op.type if op is not None else ""
        return op_text in _TIGHT_OPS or (op_text == "-" and fld == "right")
    if parent.type in ("unary_operator", "await"):
        return True
    return (parent.type, fld) in {("attribute", "object"), ("subscript", "value"), ("call", "function")}


def _wrap_low(text: str, node: Node) -> str:
    return f"({text})" if node.type in _LOW_PRECEDENCE else text


def fn_inc(env: Env, node: Node) -> list[Alt]:
    return [(_offset(env, node, 1), 1.0)]


def fn_dec(env: Env, node: Node) -> list[Alt]:
    return [(_offset(env, node, -1), 1.0)]


def fn_plusminus(env: Env, node: Node) -> list[Alt]:
    return [(_offset(env, node, 1), 1.0), (_offset(env, node, -1), 0.95)]


def fn_ops(env: Env, node: Node) -> list[Alt]:
    alts = operator_alternatives(env.src.text(node))
    return [(o, 1.0 / (1.0 + 0.12 * i)) for i, o in enumerate(alts)]


def fn_negate(env: Env, node: Node) -> list[Alt]:
    text = env.src.text(node)
    if node.type == "not_operator":
        arg = node.child_by_field_name("argument")
        inner = env.src.text(arg)
        if arg is not None and arg.type == "parenthesized_expression":
            inner = inner[1:-1].strip()
        return [(inner, 1.0)]
    if node.type == "parenthesized_expression" and node.named_children:
        return fn_negate(env, node.named_children[0])
    if node.type == "comparison_operator":
        ops = node.children_by_field_name("operators")
        if len(ops) == 1:
            op = " ".join(env.src.text(ops[0]).split())
            if op in _NEGATED_COMPARISON:
                s, e = ops[0].start_byte - node.start_byte, ops[0].end_byte - node.start_byte
                raw = env.src.data[node.start_byte : node.end_byte]
                flipped = env.src.decode(raw[:s]) + _NEGATED_COMPARISON[op] + env.src.decode(raw[e:])
                return [(flipped, 1.0), (f"not ({text})", 0.5)]
    if node.type in _ATOMS:
        return [(f"not {text}", 1.0)]
    return [(f"not ({text})", 1.0)]


def fn_group(env: Env, node: Node) -> list[Alt]:
    """The expression, parenthesized if an `and`/`or` glued to it would change its meaning."""
    text = env.src.text(node)
    if node.type in ("boolean_operator", "conditional_expression", "lambda", "named_expression"):
        return [(f"({text})", 1.0)]
    return [(text, 1.0)]


def fn_literals(env: Env, node: Node) -> list[Alt]:
    text = env.src.text(node)
    out: list[str] = []
    if node.type == "integer" or (node.type == "unary_operator" and text.lstrip("-").strip().isdigit()):
        v = _int_value(text.replace(" ", ""))
        if v is not None:
            out = [str(v + 1), str(v - 1), "0", "1", str(-v), "None"]
    elif node.type == "float":
        out = ["0.0", "1.0", "0"]
    elif node.type == "true":
        out = ["False"]
    elif node.type == "false":
        out = ["True"]
    elif node.type == "none":
        out = ["0", "[]", "False", '""', "1"]
    elif node.type == "string":
        out = ['""', "None"]
    elif node.type in ("list", "tuple", "set", "dictionary"):
        if not node.named_children:
            # What real fixes of empty literals did (the fix corpus: `[]` -> `{}` twice, `[]` -> `None`,
            # `{}` -> `[]`, `[]` -> `[0]`): another kind of empty container, None, a zero.
            out = {
                "list": ["{}", "None", "[0]", "()"],
                "tuple": ["[]", "None"],
                "dictionary": ["[]", "None"],
            }.get(node.type, [])
        else:
            out = [{"list": "[]", "tuple": "()", "set": "set()", "dictionary": "{}"}[node.type]]
    seen = order_literals(text, [o for i, o in enumerate(out) if o != text and o not in out[:i]])
    return [(o, 1.0 / (1.0 + 0.15 * i)) for i, o in enumerate(seen)]


def _arguments(node: Node) -> list[Node]:
    return [c for c in node.named_children if c.type != "comment"]


def _arglist(env: Env, node: Node, args: Sequence[str]) -> str:
    raw = env.src.text(node)
    open_, close = raw[:1], raw[-1:]
    return f"{open_}{', '.join(args)}{close}"


def fn_args_swapped(env: Env, node: Node) -> list[Alt]:
    args = [env.src.text(a) for a in _arguments(node)]
    positional = [i for i, a in enumerate(_arguments(node)) if a.type not in ("keyword_argument",)]
    out: list[Alt] = []
    for x in range(len(positional)):
        for y in range(x + 1, len(positional)):
            i, j = positional[x], positional[y]
            new = list(args)
            new[i], new[j] = new[j], new[i]
            out.append((_arglist(env, node, new), 1.0 / (1.0 + 0.2 * (y - x - 1) + 0.1 * x)))
    return out


def fn_args_dropped(env: Env, node: Node) -> list[Alt]:
    args = [env.src.text(a) for a in _arguments(node)]
    n = len(args)
    return [
        (_arglist(env, node, args[:i] + args[i + 1 :]), 1.0 / (1.0 + 0.15 * (n - 1 - i))) for i in range(n)
    ]


def fn_pairs(env: Env, node: Node) -> list[Alt]:
    return [(p, 1.0 / (1.0 + 0.2 * i)) for i, p in enumerate(donors_mod.pairs(env.src.text(node)))]


def fn_elements(env: Env, node: Node) -> list[Alt]:
    return [(env.src.text(c), 1.0 / (1.0 + 0.1 * i)) for i, c in enumerate(_arguments(node))]


def fn_text(env: Env, node: Node) -> list[Alt]:
    return [(env.src.text(node), 1.0)]


def fn_wrappers(env: Env, node: Node) -> list[Alt]:
    """The expression inside the wrapping calls real fixes added most often (`list($)`, `str($)`), those whose
    callable is a builtin or a name in scope here."""
    text = env.src.text(node)
    usable = [
        form
        for form, _ in learned_wrappers(limit=40)
        if (root := form.split("(", 1)[0].split(".", 1)[0]) in _BUILTINS or env.facts.get(root) is not None
    ][:8]
    return [
        (form.replace(",", ", ").replace("$", text, 1), 1.0 / (1.0 + 0.15 * i))
        for i, form in enumerate(usable)
    ]


_BUILTINS = frozenset(dir(builtins))


FUNCTIONS: dict[str, Callable[[Env, Node], list[Alt]]] = {
    "inc": fn_inc,
    "dec": fn_dec,
    "plusminus": fn_plusminus,
    "ops": fn_ops,
    "negate": fn_negate,
    "group": fn_group,
    "literals": fn_literals,
    "args_swapped": fn_args_swapped,
    "args_dropped": fn_args_dropped,
    "pairs": fn_pairs,
    "elements": fn_elements,
    "text": fn_text,
    "wrappers": fn_wrappers,
}

# ----------------------------------------------------------------------------------------- templates

_HOLE = re.compile(r"<mask(?::(\w+))?>")
_FUNC = re.compile(r"\$\{(\w+)(?:\(([^)]*)\))?\}")
_TOKEN = re.compile(r"\$\$|\$\{(\w+)(?:\(([^)]*)\))?\}|\$(\w+)|<mask(?::(\w+))?>")


@dataclass(frozen=True, slots=True)
class HoleSlot:
    kind: str


Piece = str | HoleSlot


@dataclass(frozen=True, slots=True)
class Expansion:
    """A template with its functions expanded: text pieces and holes, and the score of the choices."""

    pieces: tuple[Piece, ...]
    score: float

    @property
    def holes(self) -> tuple[HoleSlot, ...]:
        return tuple(p for p in self.pieces if isinstance(p, HoleSlot))

    def text(self, fills: Sequence[str] = ()) -> str:
        it = iter(fills)
        return "".join(p if isinstance(p, str) else next(it) for p in self.pieces)


_DEFAULT_HOLE = {
    "identifier": "name",
    "attribute": "expr",
    "integer": "literal",
    "float": "literal",
    "string": "literal",
    "true": "literal",
    "false": "literal",
    "none": "literal",
    "comparison_operator": "cond",
    "boolean_operator": "cond",
    "not_operator": "cond",
}


def expand(template: str, env: Env, target: Node, nl: str, *, max_alternatives: int = 40) -> list[Expansion]:
    """All alternatives of a template at a match: function results multiplied out, holes kept as slots."""
    options: list[list[tuple[Piece, float]]] = []
    pos = 0
    for m in _TOKEN.finditer(template):
        if m.start() > pos:
            options.append([(template[pos : m.start()], 1.0)])
        pos = m.end()
        tok = m.group(0)
        if tok == "$$":
            options.append([("$", 1.0)])
        elif m.group(1):
            name = m.group(1)
            if name == "nl":
                options.append([(nl, 1.0)])
                continue
            if name == "indent":
                options.append([(nl.lstrip("\r\n"), 1.0)])
                continue
            arg_names = re.findall(r"\$(\w+)", m.group(2) or "")
            nodes = [env.captures.get(a) for a in arg_names]
            if not nodes or any(n is None for n in nodes):
                return []
            alts = FUNCTIONS[name](env, nodes[0])  # type: ignore[arg-type]
            if not alts:
                return []
            options.append(list(alts))
        elif m.group(3):
            node = env.captures.get(m.group(3))
            if node is None:
                return []
            options.append([(env.src.text(node), 1.0)])
        else:
            kind = m.group(4) or _DEFAULT_HOLE.get(target.type, "expr")
            options.append([(HoleSlot(kind), 1.0)])
    if pos < len(template):
        options.append([(template[pos:], 1.0)])
    out: list[Expansion] = []
    for combo in product(*options):
        score = 1.0
        pieces: list[Piece] = []
        for piece, s in combo:
            score *= s
            if isinstance(piece, str) and pieces and isinstance(pieces[-1], str):
                pieces[-1] += piece
            else:
                pieces.append(piece)
        out.append(Expansion(tuple(pieces), score))
        if len(out) >= max_alternatives:
            break
    out.sort(key=lambda e: -e.score)
    return out


# ------------------------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class Match:
    rule: Rule
    captures: Mapping[str, Node]
    statement: Node  # the statement at the location

    @property
    def target(self) -> Node:
        return self.captures[self.rule.target.capture]


def field_of(node: Node) -> str | None:
    """The field name under which `node` hangs from its parent."""
    parent = node.parent
    if parent is None:
        return None
    for i, child in enumerate(parent.children):
        if child.id == node.id:
            return parent.field_name_for_child(i)
    return None


def _as_list(want: Any) -> list[Any]:
    return [want] if isinstance(want, str) else list(want)


def _not_inside(node: Node, want: Any, stmt: Node) -> bool:
    p = node.parent
    while p is not None and p.id != stmt.id:
        if p.type in want:
            return False
        p = p.parent
    return True


@dataclass(frozen=True, slots=True)
class _Probe:
    """The node a constraint looks at, with its text and scope facts."""

    node: Node
    text: str
    facts: ScopeFacts
    stmt: Node


_CHECKS: dict[str, Callable[[_Probe, Any], bool]] = {
    "type": lambda p, w: p.node.type in _as_list(w),
    "not_type": lambda p, w: p.node.type not in _as_list(w),
    "text_in": lambda p, w: p.text in w,
    "text_not_in": lambda p, w: p.text not in w,
    "regex": lambda p, w: re.search(w, p.text) is not None,
    "not_regex": lambda p, w: re.search(w, p.text) is None,
    "in_scope": lambda p, w: (p.facts.get(p.text) is not None) == bool(w),
    "name_kind": lambda p, w: (i := p.facts.get(p.text)) is not None and i.kind in w,
    "name_types": lambda p, w: (i := p.facts.get(p.text)) is not None and bool(i.types & set(w)),
    "not_name_types": lambda p, w: (i := p.facts.get(p.text)) is None or not (i.types & set(w)),
    "field": lambda p, w: field_of(p.node) in _as_list(w),
    "not_field": lambda p, w: field_of(p.node) not in w,
    "parent_type": lambda p, w: p.node.parent is not None and p.node.parent.type in w,
    "not_parent_type": lambda p, w: p.node.parent is None or p.node.parent.type not in w,
    "not_inside": lambda p, w: _not_inside(p.node, w, p.stmt),
    "is_statement": lambda p, w: (p.node.id == p.stmt.id) == bool(w),
    "min_children": lambda p, w: len(_arguments(p.node)) >= int(w),
    "max_children": lambda p, w: len(_arguments(p.node)) <= int(w),
    "in_loop": lambda p, w: in_loop(p.node) == bool(w),
}


def check(constraint: Mapping[str, Any], node: Node, src: Source, facts: ScopeFacts, stmt: Node) -> bool:
    """Does `node` satisfy one capture's constraints? (Keys are those of rules/schema.json.)"""
    if not constraint:
        return True
    text = src.text(node)
    if node.type in _OPERATOR_TOKENS:
        text = " ".join(text.split())
    probe = _Probe(node, text, facts, stmt)
    return all(_CHECKS[key](probe, want) for key, want in constraint.items())


_OPERATOR_TOKENS = frozenset({"is not", "not in"})


def in_loop(node: Node) -> bool:
    p = node.parent
    while p is not None and p.type not in ("function_definition", "class_definition", "lambda"):
        if p.type in ("for_statement", "while_statement"):
            return True
        p = p.parent
    return False


def _inside(node: Node, start: int, end: int) -> bool:
    return start <= node.start_byte and node.end_byte <= end


def matches_at(src: Source, stmt: Node, rules: Sequence[Rule], facts: ScopeFacts) -> Iterator[Match]:
    """Matches of `rules` whose target lies in the header of `stmt` (or is `stmt` itself)."""
    hdr = header_end(stmt)
    scope = stmt.parent or stmt
    for rule in rules:
        cursor = QueryCursor(query(rule.query))
        cursor.set_byte_range(stmt.start_byte, stmt.end_byte)
        seen: set[tuple[int, ...]] = set()
        for _i, caps in cursor.matches(scope):
            first = {name: nodes[0] for name, nodes in caps.items() if nodes and not name.startswith("_")}
            tgt = first.get(rule.target.capture)
            if tgt is None:
                continue
            if rule.target.through is not None:
                end = first.get(rule.target.through)
                if end is None:
                    continue
                if tgt.type in STATEMENTS:
                    if stmt.id not in (tgt.id, end.id):
                        continue
                elif not _inside(tgt, stmt.start_byte, hdr) or not _inside(end, stmt.start_byte, hdr):
                    continue
            elif tgt.type in STATEMENTS or rule.target.insert:
                if tgt.id != stmt.id:
                    continue
            elif not _inside(tgt, stmt.start_byte, hdr):
                continue
            key = tuple(sorted(n.id for n in first.values()))
            if key in seen:
                continue
            seen.add(key)
            if all(
                check(rule.constraints.get(name, {}), node, src, facts, stmt) for name, node in first.items()
            ) and all(name in first for name in rule.constraints):
                yield Match(rule, first, stmt)


# --------------------------------------------------------------------------------------------- edits


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the instantiated text goes: bytes [start, end) and how to wrap the text."""

    start: int
    end: int
    before: bytes  # bytes to put before the text (indentation) ...
    after: bytes  # ... and after it (line ending)
    nl: str  # line ending + indentation, for multi-line text
    original: str  # the text being replaced (for descriptions)
    statement_removal: bool = False


def placement(src: Source, match: Match) -> Placement | None:
    data = src.data
    tgt = match.target
    t = match.rule.target
    eol = line_ending(data, tgt.start_byte)
    indent = indentation(data, tgt)
    nl = src.decode(eol + indent)
    if t.insert is None and t.through is None:
        if tgt.type in STATEMENTS and tgt.id == match.statement.id:
            # Replacing a whole statement: whole lines, so removal leaves no blank line behind.
            return Placement(
                tgt.start_byte, tgt.end_byte, b"", b"", nl, src.text(tgt), statement_removal=True
            )
        return Placement(tgt.start_byte, tgt.end_byte, b"", b"", nl, src.text(tgt))
    if t.through is not None:
        end_node = match.captures[t.through]
        return Placement(
            tgt.start_byte,
            end_node.end_byte,
            b"",
            b"",
            nl,
            src.decode(data[tgt.start_byte : end_node.end_byte]),
        )
    if not indent and line_start(data, tgt.start_byte) != tgt.start_byte:
        return None  # another statement precedes it on its line (`a; b`): no clean line to insert at
    if t.insert == "before":
        at = line_start(data, tgt.start_byte)
        return Placement(at, at, indent, eol, nl, "")
    if t.insert == "body_start":
        block = next((c for c in tgt.children if c.type == "block"), None)
        if block is None or not block.named_children:
            return None
        first = block.named_children[0]
        if first.start_point[0] == tgt.start_point[0]:
            return None  # `if x: y` on one line
        bindent = indentation(data, first)
        at = line_start(data, first.start_byte)
        return Placement(
            at,
            at,
            bindent,
            line_ending(data, first.start_byte),
            src.decode(line_ending(data, first.start_byte) + bindent),
            "",
        )
    # after
    if tgt.type in COMPOUND_STATEMENTS and tgt.type in (
        "elif_clause",
        "else_clause",
        "except_clause",
        "finally_clause",
    ):
        return None
    end = tgt.end_byte
    rest = data[end : line_end(data, end)]
    if rest.strip() and not rest.lstrip().startswith(b"#"):
        return None  # code follows on the same line
    at = line_end(data, end)
    if at == len(data) and not data.endswith(b"\n"):
        return Placement(at, at, eol + indent, b"", nl, "")
    return Placement(at, at, indent, eol, nl, "")


def render(src: Source, pl: Placement, text: str, stmt: Node) -> tuple[int, int, bytes]:
    """The byte edit for `text` at a placement (multi-line text re-indented with the target's line ending)."""
    if pl.start == pl.end:  # insertion: one or more statements
        lines = text.split("\n")
        body = pl.nl.join(lines)
        return pl.start, pl.end, pl.before + src.encode(body) + pl.after
    if pl.statement_removal and text == "":
        data = src.data
        block = stmt.parent
        siblings = [c for c in block.named_children if c.type != "comment"] if block is not None else []
        own_line = indentation(data, stmt) or line_start(data, stmt.start_byte) == stmt.start_byte
        rest = data[stmt.end_byte : line_end(data, stmt.end_byte)]
        if block is not None and block.type == "block" and len(siblings) <= 1:
            return pl.start, pl.end, b"pass"
        if own_line and not rest.strip():
            return line_start(data, stmt.start_byte), line_end(data, stmt.end_byte), b""
        return pl.start, pl.end, b"pass"
    return pl.start, pl.end, src.encode(text)


def hole_context(src: Source, match: Match, pl: Placement, exp: Expansion, index: int) -> tuple[str, str]:
    """Code before and after hole `index`: the enclosing function (or up to 3000 bytes of the file)."""
    data = src.data
    owner = match.statement
    while owner.parent is not None and owner.type != "function_definition":
        owner = owner.parent
    lo = owner.start_byte if owner.type == "function_definition" else max(0, pl.start - 3000)
    hi = owner.end_byte if owner.type == "function_definition" else min(len(data), pl.end + 3000)
    before_pieces: list[str] = []
    after_pieces: list[str] = []
    seen = -1
    for p in exp.pieces:
        if isinstance(p, HoleSlot):
            seen += 1
            if seen == index:
                continue
            (before_pieces if seen < index else after_pieces).append("<mask>")
        else:
            (before_pieces if seen < index else after_pieces).append(p)
    head = src.decode(data[lo : pl.start]) + src.decode(pl.before)
    tail = src.decode(pl.after) + src.decode(data[pl.end : hi])
    return head + "".join(before_pieces), "".join(after_pieces) + tail


# ------------------------------------------------------------------------------------------- facade


@dataclass(slots=True)
class Site:
    """One statement of one file under consideration, with its facts computed once."""

    src: Source
    path: str
    stmt: Node
    facts: ScopeFacts = field(init=False)

    def __post_init__(self) -> None:
        self.facts = scope_facts(self.src, self.stmt)

    def env(self, match: Match) -> Env:
        return Env(self.src, match.captures, self.facts)
