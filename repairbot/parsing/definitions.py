"""The definitions of a module (functions, methods, classes, module-level constants) with their signatures,
returns, raises and normalized bodies: what change extraction compares between two revisions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import replace

from tree_sitter import Node

from repairbot.models import Definition, Param
from repairbot.parsing.tree import node_text, parse


def _params(node: Node | None, is_method: bool) -> tuple[Param, ...]:
    if node is None:
        return ()
    out: list[Param] = []
    kwonly = False
    for c in node.named_children:
        t = c.type
        if t == "identifier":
            out.append(Param(node_text(c), "kwonly" if kwonly else "pos"))
        elif t == "typed_parameter":
            inner = c.named_children[0] if c.named_children else None
            if inner is not None and inner.type == "list_splat_pattern":
                out.append(Param(node_text(inner.named_children[0]), "varargs"))
                kwonly = True
            elif inner is not None and inner.type == "dictionary_splat_pattern":
                out.append(Param(node_text(inner.named_children[0]), "varkw"))
            else:
                out.append(Param(node_text(inner), "kwonly" if kwonly else "pos"))
        elif t in ("default_parameter", "typed_default_parameter"):
            name = c.child_by_field_name("name")
            value = c.child_by_field_name("value")
            out.append(Param(node_text(name), "kwonly" if kwonly else "pos", node_text(value)))
        elif t == "list_splat_pattern":
            out.append(Param(node_text(c.named_children[0]) if c.named_children else "", "varargs"))
            kwonly = True
        elif t == "keyword_separator":
            kwonly = True
        elif t == "positional_separator":
            out = [Param(p.name, "posonly", p.default) for p in out]
        elif t == "dictionary_splat_pattern":
            out.append(Param(node_text(c.named_children[0]) if c.named_children else "", "varkw"))
    if is_method and out and out[0].name in ("self", "cls") and out[0].kind in ("pos", "posonly"):
        out = out[1:]
    return tuple(out)


def docstring_node(block: Node | None) -> Node | None:
    if block is None or not block.named_children:
        return None
    first = block.named_children[0]
    if (
        first.type == "expression_statement"
        and first.named_children
        and first.named_children[0].type == "string"
    ):
        return first
    return None


def _own_nodes(block: Node) -> Iterator[Node]:
    """Nodes of a body, not descending into nested functions/classes/lambdas."""
    stack = list(reversed(block.children))
    while stack:
        n = stack.pop()
        yield n
        if n.type in ("function_definition", "class_definition", "lambda"):
            continue
        stack.extend(reversed(n.children))


def _raise_info(node: Node) -> tuple[str, str] | None:
    exc = node.named_children[0] if node.named_children else None
    if exc is None:
        return ("", "")  # bare re-raise
    if exc.type == "call":
        fn = exc.child_by_field_name("function")
        args = exc.child_by_field_name("arguments")
        msg = ""
        if args is not None and args.named_children:
            msg = node_text(args.named_children[0])
        return (node_text(fn), msg)
    return (node_text(exc), "")


_WS = re.compile(r"\s+")


def _body_text(block: Node | None, own_name: str) -> str:
    if block is None:
        return ""
    doc = docstring_node(block)
    src = block.text or b""
    if doc is not None:
        s, e = doc.start_byte - block.start_byte, doc.end_byte - block.start_byte
        src = src[:s] + src[e:]
    body = _WS.sub(" ", src.decode("utf-8", "replace")).strip()
    if own_name:
        body = re.sub(rf"\b{re.escape(own_name)}\b", "<self>", body)
    # Strip comments: a rename should not be hidden by an edited comment.
    return re.sub(r"#[^\n]*", "", body)


def definitions(src: bytes, path: str = "") -> dict[str, Definition]:
    """All function/class definitions of a module keyed by qualified name (first definition wins)."""
    root = parse(src).root_node
    out: dict[str, Definition] = {}

    def visit(node: Node, prefix: str, in_class: bool) -> None:
        for child in node.named_children:
            target = child
            if child.type == "decorated_definition":
                target = child.child_by_field_name("definition") or child
            if prefix == "" and child.type == "expression_statement" and child.named_children:
                _module_variable(child.named_children[0], path, out)
                continue
            if target.type not in ("function_definition", "class_definition"):
                if child.type in ("if_statement", "try_statement", "else_clause", "block", "except_clause"):
                    visit(child, prefix, in_class)
                continue
            name = node_text(target.child_by_field_name("name"))
            qual = f"{prefix}{name}"
            body = target.child_by_field_name("body")
            doc = docstring_node(body)
            body_text = _body_text(body, name)
            if target.type == "function_definition":
                returns: list[str] = []
                raises: list[tuple[str, str]] = []
                if body is not None:
                    for n in _own_nodes(body):
                        if n.type == "return_statement":
                            returns.append(_WS.sub(" ", node_text(n)[len("return") :]).strip())
                        elif n.type == "raise_statement":
                            info = _raise_info(n)
                            if info is not None:
                                raises.append(info)
                d = Definition(
                    qual,
                    "method" if in_class else "function",
                    path,
                    target.start_point.row + 1,
                    target.end_point.row + 1,
                    _params(target.child_by_field_name("parameters"), in_class),
                    tuple(returns),
                    tuple(raises),
                    _docstring_text(doc),
                    hashlib.sha1(body_text.encode()).hexdigest(),
                    body_text,
                )
                out.setdefault(qual, d)
                if body is not None:
                    visit(body, qual + ".", False)
            else:
                sup = target.child_by_field_name("superclasses")
                bases = tuple(node_text(b) for b in sup.named_children) if sup is not None else ()
                d = Definition(
                    qual,
                    "class",
                    path,
                    target.start_point.row + 1,
                    target.end_point.row + 1,
                    (),
                    (),
                    (),
                    _docstring_text(doc),
                    hashlib.sha1(body_text.encode()).hexdigest(),
                    body_text,
                    bases,
                )
                out.setdefault(qual, d)
                if body is not None:
                    visit(body, qual + ".", True)

    visit(root, "", False)
    # A class is called through its __init__: give it that signature so call-site updates treat both alike.
    for qual, d in list(out.items()):
        init = out.get(f"{qual}.__init__")
        if d.kind == "class" and init is not None:
            out[qual] = _replace_params(d, init.params)
    return out


def _replace_params(d: Definition, params: tuple[Param, ...]) -> Definition:
    return replace(d, params=params)


def _module_variable(node: Node, path: str, out: dict[str, Definition]) -> None:
    """A module-level `NAME = value`: renamed constants break imports the same way functions do."""
    if node.type != "assignment":
        return
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or right is None or left.type != "identifier":
        return
    name = node_text(left)
    if name.startswith("__") or name in out:
        return
    value = _WS.sub(" ", node_text(right)).strip()
    out[name] = Definition(
        name,
        "variable",
        path,
        node.start_point.row + 1,
        node.end_point.row + 1,
        (),
        (),
        (),
        "",
        hashlib.sha1(value.encode()).hexdigest(),
        value,
    )


def _docstring_text(doc: Node | None) -> str:
    return node_text(doc).strip() if doc is not None else ""


def module_name(path: str) -> str:
    """Dotted module of a repository path: 'src/pkg/mod.py' -> 'pkg.mod', 'pkg/__init__.py' -> 'pkg'."""
    p = path[:-3] if path.endswith(".py") else path
    parts = [x for x in p.split("/") if x]
    if len(parts) > 1 and parts[0] in ("src", "lib"):
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
