"""The `guards` generator: a missing check, built from where and how a test failed.

A missing guard or branch is the most common shape of real fixes that no fix pattern produced (470 of the
4641 fixes of the fix corpus). The failing test's innermost frame in the project says which statement raised,
and its exception says what was wrong with which part of it: an AttributeError or TypeError on None points at
the receiver or the subscripted value, a KeyError at a subscript's key, a ZeroDivisionError at a divisor. The
templates (guards.yml, with their sources and examples) put the statement under a condition on that subject,
or return early before it. Statements with no failing frame on them get the same templates, weighted down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from tree_sitter import Node

from repairbot.models import Candidate, Edit, GenerationContext, Location, TestOutcome
from repairbot.parsing.tree import (
    Source,
    enclosing_function,
    indentation,
    line_ending,
    line_start,
    statement_at,
    syntax_ok,
    walk,
)

# A failing test that raised a matching exception at the statement multiplies a template's prior by this. It
# is set by hand: the fix corpus has no failing tests, so it cannot say how much the exception tells.
CUED = 8.0
MAX_LOCATIONS = 8
MAX_SUBJECTS = 4
WRAPPABLE = frozenset(
    {
        "expression_statement",
        "return_statement",
        "delete_statement",
        "augmented_assignment",
        "raise_statement",
    }
)
GUARDABLE = WRAPPABLE | {"for_statement", "if_statement", "assignment"}
_NEVER_NONE = frozenset({"self", "cls", "super"})


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    form: str  # "wrap" or "exit"
    condition: str  # format string: {x} the subject, {attr} its attribute, {key} its key
    subjects: tuple[str, ...]
    cues: tuple[str, ...]
    prior: float
    sources: tuple[str, ...]
    example: dict[str, str]
    negative: dict[str, str]


@lru_cache(maxsize=1)
def templates() -> tuple[Template, ...]:
    data = yaml.safe_load(resources.files("repairbot.generate").joinpath("guards.yml").read_text("utf-8"))
    return tuple(
        Template(
            t["id"],
            t["form"],
            t["condition"],
            tuple(t["subjects"]),
            tuple(t["cues"]),
            float(t["prior"]),
            tuple(t.get("sources") or ()),
            dict(t["example"]),
            dict(t["negative"]),
        )
        for t in data["templates"]
    )


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str  # receiver, self (an attribute read from self or cls), subscripted, iterated, argument, divisor
    text: str
    attr: str = ""  # receiver: the attribute read from it
    key: str = ""  # subscripted: the key


@dataclass(frozen=True, slots=True)
class Cue:
    kind: str  # none, attr, key, index, zero, other
    attr: str = ""  # the attribute an AttributeError names
    key: str = ""  # the key a KeyError names
    where: str = ""  # the subject kind a TypeError on None names ("subscripted", "iterated")


_NO_ATTR = re.compile(r"AttributeError: '(\w+)' object has no attribute '(\w+)'")
_KEY = re.compile(r"KeyError: (.+)")


def cue_of(message: str) -> Cue:
    """What the exception of a failing test says about the statement that raised it."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    m = _NO_ATTR.search(first)
    if m:
        return Cue("none" if m.group(1) == "NoneType" else "attr", attr=m.group(2))
    if "NoneType" in first:
        where = "subscripted" if "subscriptable" in first else "iterated" if "iterable" in first else ""
        return Cue("none", where=where)
    if first.startswith("KeyError"):
        km = _KEY.match(first)
        return Cue("key", key=km.group(1).strip() if km else "")
    if first.startswith("IndexError"):
        return Cue("index")
    if first.startswith("ZeroDivisionError"):
        return Cue("zero")
    return Cue("other")


def _failing_frames(failing: Iterable[TestOutcome]) -> dict[tuple[str, int], list[Cue]]:
    """(path, line) of each failing test's innermost project frame -> the cues raised there."""
    out: dict[tuple[str, int], list[Cue]] = {}
    for outcome in failing:
        if outcome.frames and outcome.message:
            out.setdefault(outcome.frames[-1], []).append(cue_of(outcome.message))
    return out


def _plain(node: Node) -> bool:
    """A name or a chain of attributes of names (`a`, `self.conn.sock`): something a guard can test twice."""
    if node.type == "identifier":
        return True
    if node.type == "attribute":
        obj = node.child_by_field_name("object")
        return obj is not None and _plain(obj)
    return False


def subjects(src: Source, stmt: Node, imports: frozenset[str]) -> list[Subject]:
    """The parts of a statement a guard may test, in source order, without repeats."""
    out: dict[tuple[str, str], Subject] = {}
    head = stmt
    if stmt.type in ("for_statement", "if_statement"):
        head = stmt.child_by_field_name("right") or stmt.child_by_field_name("condition") or stmt
        if stmt.type == "for_statement" and _plain(head):
            out[("iterated", src.text(head))] = Subject("iterated", src.text(head))
    for node in walk(head):
        if node.type == "attribute":
            obj = node.child_by_field_name("object")
            attr = node.child_by_field_name("attribute")
            if obj is not None and attr is not None and _plain(obj):
                text = src.text(obj)
                called = node.parent is not None and node.parent.type == "call"
                # `self` is never None, but an instance attribute read from it may be missing (`hasattr`);
                # a method called on it is the class's, not a missing attribute.
                if text in _NEVER_NONE and not called:
                    out.setdefault(
                        ("self", text + "." + src.text(attr)), Subject("self", text, attr=src.text(attr))
                    )
                elif text not in _NEVER_NONE and text.split(".")[0] not in imports:
                    out.setdefault(("receiver", text), Subject("receiver", text, attr=src.text(attr)))
        elif node.type == "subscript":
            value = node.child_by_field_name("value")
            key = node.child_by_field_name("subscript")
            if value is not None and _plain(value) and src.text(value) not in _NEVER_NONE:
                # An integer index is a sequence's: `0 in xs` tests the items, not the index.
                indexed = key is None or key.type in ("slice", "integer", "unary_operator")
                key_text = "" if indexed else src.text(key)
                out.setdefault(
                    ("subscripted", src.text(value)), Subject("subscripted", src.text(value), key=key_text)
                )
        elif node.type == "binary_operator":
            op = node.child_by_field_name("operator")
            right = node.child_by_field_name("right")
            if op is not None and op.type in ("/", "//", "%") and right is not None and _plain(right):
                out.setdefault(("divisor", src.text(right)), Subject("divisor", src.text(right)))
        elif node.type == "argument_list":
            for arg in node.named_children:
                if arg.type == "identifier" and src.text(arg) not in _NEVER_NONE | imports:
                    out.setdefault(("argument", src.text(arg)), Subject("argument", src.text(arg)))
    return list(out.values())


def _imports(src: Source) -> frozenset[str]:
    """Names the module's imports bind (a module is never None, and never falsy)."""
    names: set[str] = set()
    for node in src.root.children:
        if node.type == "import_statement" or node.type == "import_from_statement":
            bound = node.children_by_field_name("name")
        else:
            continue
        for item in bound:
            alias = item.child_by_field_name("alias") if item.type == "aliased_import" else None
            target = alias if alias is not None else item.child_by_field_name("name") or item
            names.add(src.text(target).split(".")[0])
    return frozenset(names)


def _matches(template: Template, subject: Subject, cues: Sequence[Cue]) -> bool:
    for cue in cues:
        if cue.kind not in template.cues:
            continue
        if cue.attr:  # the exception names the attribute: only its receiver
            if subject.kind in ("receiver", "self") and cue.attr == subject.attr:
                return True
            continue
        if cue.where and cue.where != subject.kind:
            continue
        if cue.kind == "key" and subject.kind != "subscripted":
            continue
        if cue.kind == "zero" and subject.kind != "divisor":
            continue
        return True
    return False


def _indent_unit(src: Source, stmt: Node) -> str:
    """The indentation one block level adds here (four spaces unless the file says otherwise)."""
    block = stmt.parent
    owner = block.parent if block is not None else None
    if block is not None and owner is not None and block.type == "block":
        inner = indentation(src.data, stmt)
        outer = src.data[line_start(src.data, owner.start_byte) : owner.start_byte]
        if inner.startswith(outer) and len(inner) > len(outer):
            return src.decode(inner[len(outer) :])
    return "\t" if indentation(src.data, stmt).startswith(b"\t") else "    "


def _exits(src: Source, stmt: Node, subject: Subject) -> list[tuple[str, float]]:
    """Ways to leave before the statement, likeliest first: what the function returns elsewhere decides."""
    func = enclosing_function(stmt)
    loop = stmt.parent
    while loop is not None and loop.type not in ("for_statement", "while_statement", "function_definition"):
        loop = loop.parent
    out: list[tuple[str, float]] = []
    if loop is not None and loop.type in ("for_statement", "while_statement"):
        out.append(("continue", 1.0))
    if func is None:
        return out
    values: list[str] = []
    for node in walk(func):
        if node.type == "return_statement" and enclosing_function(node) == func:
            value = node.named_children[0] if node.named_children else None
            text = src.text(value) if value is not None else ""
            if value is None or (value.type in ("none", "true", "false", "integer", "string", "list", "tuple",
                                               "dictionary") and len(text) <= 12):  # fmt: skip
                values.append(text)
    if not values or "" in values or "None" in values:
        out.append(("return", 0.9))
    for v in dict.fromkeys(values):
        if v and v != "None":
            out.append((f"return {v}", 0.8))
    if any(v == "None" for v in values) or not any(values):
        out.append(("return None", 0.6))
    out.append((f"return {subject.text}", 0.5))
    return out


@dataclass(frozen=True, slots=True)
class _Proposal:
    start: int
    end: int
    text: bytes
    score: float
    template: str
    description: str
    line: int


def proposals(src: Source, stmt: Node, cues: Sequence[Cue]) -> list[_Proposal]:
    """Every guard of `stmt`, scored (before the location's weight)."""
    if (
        stmt.type not in GUARDABLE
        or src.data[line_start(src.data, stmt.start_byte) : stmt.start_byte].strip()
    ):
        return []
    found = subjects(src, stmt, _imports(src))[:MAX_SUBJECTS]
    indent = src.decode(indentation(src.data, stmt))
    unit = _indent_unit(src, stmt)
    eol = src.decode(line_ending(src.data, stmt.start_byte))
    line = stmt.start_point[0] + 1
    out: list[_Proposal] = []
    for template in templates():
        for rank, subject in enumerate(s for s in found if s.kind in template.subjects):
            if "{attr" in template.condition and not subject.attr:
                continue
            if "{key" in template.condition and not subject.key:
                continue
            cued = _matches(template, subject, cues)
            weight = min(1.0, template.prior * (CUED if cued else 1.0)) / (1.0 + 0.2 * rank)
            cond = template.condition.format(x=subject.text, attr=subject.attr, key=subject.key)
            if template.form == "wrap":
                if stmt.type not in WRAPPABLE and stmt.type != "for_statement":
                    continue
                body = src.text(stmt).replace(eol, eol + unit)
                text = f"if {cond}:{eol}{indent}{unit}{body}"
                out.append(_Proposal(stmt.start_byte, stmt.end_byte, src.encode(text), weight, template.id,
                                     f"Guard the statement: `if {cond}:`", line))  # fmt: skip
            else:
                at = line_start(src.data, stmt.start_byte)
                for exit_text, exit_weight in _exits(src, stmt, subject):
                    text = f"{indent}if {cond}:{eol}{indent}{unit}{exit_text}{eol}"
                    out.append(_Proposal(at, at, src.encode(text), weight * exit_weight, template.id,
                                         f"Return early: `if {cond}: {exit_text}`", line))  # fmt: skip
    return out


class GuardGenerator:
    """Candidates that add a guard at the most suspicious statements (see the module docstring)."""

    name = "guards"

    def generate(self, ctx: GenerationContext) -> Iterator[Candidate]:
        frames = _failing_frames(ctx.failing)
        tests = set(ctx.test_files)
        sources = set(ctx.source_files)
        seen: set[tuple[str, int, int, bytes]] = set()
        pool: list[Candidate] = []
        locations: list[Location] = [
            loc for loc in ctx.locations if loc.path not in tests and (not sources or loc.path in sources)
        ][:MAX_LOCATIONS]
        parsed: dict[str, Source | None] = {}
        for loc in locations:
            if loc.path not in parsed:
                try:
                    parsed[loc.path] = Source.of(ctx.snapshot.read(loc.path))
                except OSError:
                    parsed[loc.path] = None
            src = parsed[loc.path]
            if src is None:
                continue
            stmt = statement_at(src.tree, loc.line)
            if stmt is None:
                continue
            first, last = stmt.start_point[0] + 1, stmt.end_point[0] + 1
            cues = [
                c
                for (path, line), cs in frames.items()
                if path == loc.path and first <= line <= last
                for c in cs
            ]
            for prop in proposals(src, stmt, cues):
                key = (loc.path, prop.start, prop.end, prop.text)
                if key in seen:
                    continue
                seen.add(key)
                new = src.data[: prop.start] + prop.text + src.data[prop.end :]
                if not syntax_ok(new):
                    continue
                edit = Edit(loc.path, prop.start, prop.end, prop.text)
                score = loc.score * prop.score
                pool.append(
                    Candidate((edit,), self.name, prop.template, score, prop.description, line=prop.line)
                )
        pool.sort(key=lambda c: -c.score)
        yield from pool[: ctx.limit]
