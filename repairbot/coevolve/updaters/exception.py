"""Expected exceptions: types in `pytest.raises`/`assertRaises` (with the import the test then needs) and
message patterns (`match=`, `assertRaisesRegex`)."""

from __future__ import annotations

import builtins
import re

from tree_sitter import Node

from repairbot.coevolve.updaters.edits import Replacement, last_import
from repairbot.coevolve.updaters.value import format_like, parse_literal
from repairbot.models import DefChange, Snapshot
from repairbot.parsing import node_text, parse, walk

_RAISES_FUNCS = ("raises", "assertRaises", "assertRaisesRegex", "assertRaisesRegexp")


def exception_edits(src: bytes, fn: Node, old_types: set[str], new_type: str) -> list[Replacement]:
    out: list[Replacement] = []
    for n in walk(fn):
        if n.type == "call" and node_text(n.child_by_field_name("function")).endswith(_RAISES_FUNCS):
            args = n.child_by_field_name("arguments")
            if args is None or not args.named_children:
                continue
            first = args.named_children[0]
            targets = first.named_children if first.type == "tuple" else [first]
            for t in targets:
                if node_text(t).rsplit(".", 1)[-1] in old_types:
                    out.append(Replacement(t.start_byte, t.end_byte, new_type.encode()))
    return out


_REGEX_MISMATCH = [
    re.compile(
        r"(?:Regex|Expected regex): (?P<pat>'.*'|\".*\")\s*\n\s*(?:E\s+)?"
        r"(?:Input|Actual message): (?P<inp>'.*'|\".*\")"
    ),
    re.compile(r"AssertionError: \"(?P<pat>.*)\" does not match \"(?P<inp>.*)\""),
]


def regex_escape(s: str) -> str:
    """Escape only what is special in a Python regex outside a character class (readable patterns)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", s)


def message_edits(src: bytes, fn: Node, err: str) -> list[Replacement]:
    """Update `match=` / assertRaisesRegex patterns to the new exception message."""
    new_msg: str | None = None
    for rx in _REGEX_MISMATCH:
        m = rx.search(err)
        if m:
            inp = m.group("inp")
            ok, v = parse_literal(inp)
            new_msg = v if ok and isinstance(v, str) else inp.strip("'\"")
            break
    if new_msg is None:
        return []
    out: list[Replacement] = []
    for n in walk(fn):
        if n.type != "call" or not node_text(n.child_by_field_name("function")).endswith(_RAISES_FUNCS):
            continue
        args = n.child_by_field_name("arguments")
        if args is None:
            continue
        pat: Node | None = None
        for a in args.named_children:
            if a.type == "keyword_argument" and node_text(a.child_by_field_name("name")) in (
                "match",
                "expected_regex",
            ):
                pat = a.child_by_field_name("value")
        if pat is None and node_text(n.child_by_field_name("function")).endswith(("Regex", "Regexp")):
            pos = [a for a in args.named_children if a.type != "keyword_argument"]
            pat = pos[1] if len(pos) > 1 else None
        if pat is None or pat.type != "string":
            continue
        literal = pattern_literal(new_msg, node_text(pat))
        out.append(Replacement(pat.start_byte, pat.end_byte, literal.encode()))
    return out


def pattern_literal(message: str, like: str, start: bool = False, end: bool = False) -> str:
    """A string literal (quoted like `like`) of a regex matching `message`, anchored as asked."""
    escaped = ("^" if start else "") + regex_escape(message) + ("$" if end else "")
    q = "'" if like.endswith("'") else '"'
    return f"r{q}{escaped}{q}" if "\\" in escaped and q not in escaped else format_like(escaped, like)


def import_for(src: bytes, exc: str, change: DefChange, snapshot: Snapshot) -> list[Replacement]:
    """An import of the exception the test must now name, unless it is a builtin or already in scope:
    added to an existing `from mod import ...` whose module defines it, else a new `from mod import exc`
    line, where `mod` is where the changed code gets it from (its own imports) or the changed module."""
    if hasattr(builtins, exc) or re.search(rf"\b{re.escape(exc)}\b", src.decode("utf-8", "replace")):
        return []
    root = parse(src).root_node
    for n in root.named_children:
        if n.type == "import_from_statement":
            names = n.children_by_field_name("name")
            mod = node_text(n.child_by_field_name("module_name"))
            module_src = _module_source(snapshot, mod) if names else None
            if module_src is not None and re.search(rf"^class {re.escape(exc)}\b", module_src, re.M):
                last = names[-1]
                return [Replacement(last.end_byte, last.end_byte, f", {exc}".encode())]
    module = ""
    try:
        changed_src = snapshot.read(change.path).decode("utf-8", "replace")
    except OSError:
        changed_src = ""
    m = re.search(rf"^from\s+([\w.]+)\s+import\s+[^\n]*\b{re.escape(exc)}\b", changed_src, re.M)
    if m and not m.group(1).startswith("."):
        module = m.group(1)
    elif re.search(rf"^class {re.escape(exc)}\b", changed_src, re.M) and change.new_def is not None:
        module = change.new[: -len(change.new_def.qualname) - 1]
    anchor = last_import(root)
    if not module or anchor is None:
        return []
    nl = b"\r\n" if b"\r\n" in src else b"\n"
    return [Replacement(anchor.end_byte, anchor.end_byte, nl + f"from {module} import {exc}".encode())]


def _module_source(snapshot: Snapshot, mod: str) -> str | None:
    rel = mod.replace(".", "/")
    for cand in (f"{rel}.py", f"{rel}/__init__.py", f"src/{rel}.py", f"src/{rel}/__init__.py"):
        try:
            return snapshot.read(cand).decode("utf-8", "replace")
        except OSError:
            continue
    return None
