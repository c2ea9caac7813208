"""Renamed or moved symbols and modules: imports, references, attribute accesses, dotted paths in strings."""

from __future__ import annotations

import re

from tree_sitter import Node

from repairbot.coevolve.updaters.edits import Replacement, dedupe, last_import
from repairbot.models import DefChange
from repairbot.parsing import node_text, parse, walk


def rename_edits(src: bytes, change: DefChange) -> list[Replacement]:
    """Edits of one test file for a renamed or moved symbol or module."""
    root = parse(src).root_node
    out: list[Replacement] = []
    if change.kind == "module_move":
        old, new = change.old, change.new
        for n in walk(root):
            if n.type == "dotted_name":
                t = node_text(n)
                if t == old or t.startswith(old + "."):
                    out.append(Replacement(n.start_byte, n.end_byte, (new + t[len(old) :]).encode()))
            elif (
                n.type == "attribute"
                and node_text(n) == old
                and n.parent is not None
                and n.parent.type != "attribute"
            ):
                out.append(Replacement(n.start_byte, n.end_byte, new.encode()))
        out += _dotted_string_edits(root, old, new)
        return dedupe(out)
    old_name, new_name = change.old_name, change.new_name
    is_method = change.new_def is not None and change.new_def.kind == "method"
    old_mod = change.old.rsplit(".", 1)[0] if change.old_def is not None else ""
    new_mod = change.new.rsplit(".", 1)[0] if change.new_def is not None else ""
    if change.old_def is not None and "." in change.old_def.qualname:
        old_mod = change.old[: -len(change.old_def.qualname) - 1]
        new_mod = change.new[: -len(change.new_def.qualname) - 1] if change.new_def is not None else new_mod
    for n in walk(root):
        if n.type == "import_from_statement" and change.kind == "move":
            mod = n.child_by_field_name("module_name")
            names = [c for c in n.children_by_field_name("name")]
            hit = [c for c in names if _imported_name(c) == old_name]
            if mod is not None and node_text(mod) == old_mod and hit:
                if len(names) == 1:
                    out.append(Replacement(mod.start_byte, mod.end_byte, new_mod.encode()))
                    if old_name != new_name:
                        ident = _first_ident(hit[0])
                        out.append(Replacement(ident.start_byte, ident.end_byte, new_name.encode()))
                else:
                    # Drop the name from this import and import it from its new module on the next line.
                    c = hit[0]
                    start, end = c.start_byte, c.end_byte
                    prev, nxt = c.prev_sibling, c.next_sibling
                    if nxt is not None and nxt.type == ",":
                        end = nxt.end_byte
                        while end < len(src) and src[end : end + 1] in (b" ", b"\t"):
                            end += 1
                    elif prev is not None and prev.type == ",":
                        start = prev.start_byte
                    out.append(Replacement(start, end, b""))
                    alias = node_text(hit[0])
                    alias = alias.replace(old_name, new_name, 1) if old_name != new_name else alias
                    nl = b"\r\n" if b"\r\n" in src else b"\n"
                    indent = src[src.rfind(b"\n", 0, n.start_byte) + 1 : n.start_byte]
                    line = nl + indent + f"from {new_mod} import {alias}".encode()
                    out.append(Replacement(n.end_byte, n.end_byte, line))
            continue
        if n.type != "identifier" or node_text(n) != old_name or old_name == new_name:
            continue
        parent = n.parent
        if parent is None:
            continue
        if parent.type == "keyword_argument" and parent.child_by_field_name("name") == n:
            continue
        if (
            parent.type in ("function_definition", "class_definition")
            and parent.child_by_field_name("name") == n
        ):
            continue  # a test's own definition with the same name
        is_attr = parent.type == "attribute" and parent.child_by_field_name("attribute") == n
        if is_method and not is_attr:
            continue
        if parent.type == "dotted_name" and change.kind == "move":
            continue
        out.append(Replacement(n.start_byte, n.end_byte, new_name.encode()))
    if change.kind == "move":
        # `import old_mod` + `old_mod.name` → `new_mod.name` (module attribute access).
        for n in walk(root):
            if n.type == "attribute" and node_text(n) == f"{old_mod}.{old_name}":
                out.append(Replacement(n.start_byte, n.end_byte, f"{new_mod}.{new_name}".encode()))
        if any(r.text.startswith(new_mod.encode() + b".") for r in out) and not _imports_module(
            root, new_mod
        ):
            imp = last_import(root)
            if imp is not None:
                nl = b"\r\n" if b"\r\n" in src else b"\n"
                out.append(Replacement(imp.end_byte, imp.end_byte, nl + f"import {new_mod}".encode()))
    if change.old_def is not None and change.new_def is not None and change.old != change.new:
        out += _dotted_string_edits(root, change.old, change.new)
    return dedupe(out)


def _dotted_string_edits(root: Node, old: str, new: str) -> list[Replacement]:
    """Dotted paths in strings (`mock.patch("pkg.mod.func")`, `importlib.import_module("pkg.mod")`) that
    name the old module or symbol."""
    out: list[Replacement] = []
    for n in walk(root):
        if n.type != "string_content":
            continue
        t = node_text(n)
        if re.fullmatch(r"[\w.]+", t) and (t == old or t.startswith(old + ".")):
            out.append(Replacement(n.start_byte, n.end_byte, (new + t[len(old) :]).encode()))
    return out


def _imported_name(n: Node) -> str:
    return node_text(_first_ident(n))


def _first_ident(n: Node) -> Node:
    if n.type == "aliased_import":
        n = n.child_by_field_name("name") or n
    if n.type == "dotted_name" and n.named_children:
        return n.named_children[-1]
    return n


def _imports_module(root: Node, mod: str) -> bool:
    return any(n.type == "import_statement" and mod in node_text(n).split() for n in root.named_children)
