"""Tree-sitter helpers for change extraction and test updates (self-contained so this stage does not wait on
repairbot.parsing). Everything works on raw bytes; offsets are byte offsets of the text that was parsed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import tree_sitter_python as tspython
from tree_sitter import Language, Node, Parser, Tree

PY = Language(tspython.language())

ParamKind = Literal["posonly", "pos", "kwonly", "varargs", "varkw"]
DefKind = Literal["function", "method", "class", "variable"]


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(PY)


def parse(src: bytes) -> Tree:
    return _parser().parse(src)


def text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def walk(node: Node) -> Iterator[Node]:
    """Pre-order walk of the subtree."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def has_error(src: bytes) -> bool:
    return parse(src).root_node.has_error


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    default: str | None = None  # source text of the default, None when required

    @property
    def required(self) -> bool:
        return self.default is None and self.kind in ("posonly", "pos", "kwonly")


@dataclass(frozen=True, slots=True)
class Definition:
    """A function, method or class of one module, as tree-sitter sees it."""

    qualname: str  # "func", "Class", "Class.method", "outer.inner"
    kind: DefKind
    path: str
    start_line: int  # 1-based, the `def`/`class` line (decorators excluded)
    end_line: int
    params: tuple[Param, ...]  # without self/cls for methods
    returns: tuple[str, ...]  # return expressions, in order (nested defs excluded)
    raises: tuple[tuple[str, str], ...]  # (exception type, message text or "") per raise
    docstring: str
    body_key: str  # hash of the body with docstring and own name removed: equal bodies => same code
    body_text: str  # body without docstring, whitespace-normalized (for mutation analysis)
    bases: tuple[str, ...] = ()  # classes only

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


def _params(node: Node | None, is_method: bool) -> tuple[Param, ...]:
    if node is None:
        return ()
    out: list[Param] = []
    kwonly = False
    for c in node.named_children:
        t = c.type
        if t == "identifier":
            out.append(Param(text(c), "kwonly" if kwonly else "pos"))
        elif t == "typed_parameter":
            inner = c.named_children[0] if c.named_children else None
            if inner is not None and inner.type == "list_splat_pattern":
                out.append(Param(text(inner.named_children[0]), "varargs"))
                kwonly = True
            elif inner is not None and inner.type == "dictionary_splat_pattern":
                out.append(Param(text(inner.named_children[0]), "varkw"))
            else:
                out.append(Param(text(inner), "kwonly" if kwonly else "pos"))
        elif t in ("default_parameter", "typed_default_parameter"):
            name = c.child_by_field_name("name")
            value = c.child_by_field_name("value")
            out.append(Param(text(name), "kwonly" if kwonly else "pos", text(value)))
        elif t == "list_splat_pattern":
            out.append(Param(text(c.named_children[0]) if c.named_children else "", "varargs"))
            kwonly = True
        elif t == "keyword_separator":
            kwonly = True
        elif t == "positional_separator":
            out = [Param(p.name, "posonly", p.default) for p in out]
        elif t == "dictionary_splat_pattern":
            out.append(Param(text(c.named_children[0]) if c.named_children else "", "varkw"))
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
            msg = text(args.named_children[0])
        return (text(fn), msg)
    return (text(exc), "")


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
            name = text(target.child_by_field_name("name"))
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
                            returns.append(_WS.sub(" ", text(n)[len("return") :]).strip())
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
                bases = tuple(text(b) for b in sup.named_children) if sup is not None else ()
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
    from dataclasses import replace

    return replace(d, params=params)


def _module_variable(node: Node, path: str, out: dict[str, Definition]) -> None:
    """A module-level `NAME = value`: renamed constants break imports the same way functions do."""
    if node.type != "assignment":
        return
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or right is None or left.type != "identifier":
        return
    name = text(left)
    if name.startswith("__") or name in out:
        return
    value = _WS.sub(" ", text(right)).strip()
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
    return text(doc).strip() if doc is not None else ""


def module_name(path: str) -> str:
    """Dotted module of a repository path: 'src/pkg/mod.py' -> 'pkg.mod', 'pkg/__init__.py' -> 'pkg'."""
    p = path[:-3] if path.endswith(".py") else path
    parts = [x for x in p.split("/") if x]
    if len(parts) > 1 and parts[0] in ("src", "lib"):
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    parts = path.split("/")
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(p in ("tests", "test", "testing") for p in parts[:-1])
    )


def enclosing(root: Node, start: int, end: int, types: tuple[str, ...]) -> Node | None:
    """Innermost node of one of `types` that contains [start, end)."""
    node: Node | None = root.descendant_for_byte_range(start, end)
    while node is not None:
        if node.type in types:
            return node
        node = node.parent
    return None


def function_at_line(src: bytes, line: int) -> Node | None:
    """The innermost function definition containing 1-based `line`."""
    root = parse(src).root_node
    best: Node | None = None
    for n in walk(root):
        if n.type == "function_definition" and n.start_point.row + 1 <= line <= n.end_point.row + 1:
            best = n
    return best


def find_function(src: bytes, name: str) -> Node | None:
    """A function definition by simple or qualified name (Class.method)."""
    parts = name.split(".")
    root = parse(src).root_node
    for n in walk(root):
        if n.type == "function_definition" and text(n.child_by_field_name("name")) == parts[-1]:
            if len(parts) == 1:
                return n
            cls = enclosing(root, n.start_byte, n.start_byte, ("class_definition",))
            if cls is not None and text(cls.child_by_field_name("name")) == parts[-2]:
                return n
    return None
