"""Tree-sitter basics: parse raw bytes, the syntax gate, statements at lines, enclosing definitions.

Everything works on the raw bytes of a file with byte offsets, so edits can be made at node boundaries and the
rest of the file (line endings, encoding, comments) stays byte-identical (DESIGN §8).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Query, Tree

LANGUAGE = Language(tree_sitter_python.language())

_local = threading.local()

# PEP 263: the coding cookie may sit on the first or second line.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")

SIMPLE_STATEMENTS = frozenset(
    {
        "expression_statement",
        "return_statement",
        "pass_statement",
        "break_statement",
        "continue_statement",
        "raise_statement",
        "assert_statement",
        "delete_statement",
        "global_statement",
        "nonlocal_statement",
        "import_statement",
        "import_from_statement",
        "future_import_statement",
        "print_statement",
        "exec_statement",
        "type_alias_statement",
    }
)
COMPOUND_STATEMENTS = frozenset(
    {
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "with_statement",
        "function_definition",
        "class_definition",
        "decorated_definition",
        "match_statement",
        "case_clause",
    }
)
STATEMENTS = SIMPLE_STATEMENTS | COMPOUND_STATEMENTS
FUNCTIONS = frozenset({"function_definition", "lambda"})


def parser() -> Parser:
    """One parser per thread: tree-sitter parsers are not thread-safe."""
    p: Parser | None = getattr(_local, "parser", None)
    if p is None:
        p = Parser(LANGUAGE)
        _local.parser = p
    return p


def parse(source: bytes) -> Tree:
    return parser().parse(source)


@lru_cache(maxsize=64)
def query(source: str) -> Query:
    """Compiled queries are cached: compiling is far slower than running."""
    return Query(LANGUAGE, source)


def node_text(node: Node | None) -> str:
    """The node's source text as UTF-8 (undecodable bytes replaced); "" for no node."""
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


def call_name(call: Node) -> str:
    """The called name of a `call` node: `f` for `f(...)` and `obj.f(...)`."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return ""
    if fn.type == "attribute":
        return node_text(fn.child_by_field_name("attribute"))
    return node_text(fn)


def has_errors(node: Node) -> bool:
    """True if an ERROR or MISSING node lies anywhere below `node`."""
    if not node.has_error:
        return False
    stack = [node]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing or n.type == "ERROR":
            return True
        if n.has_error:
            stack.extend(n.children)
    return False


def syntax_ok(source: bytes) -> bool:
    """The cheap syntax gate for candidates: the file parses without ERROR or MISSING nodes."""
    return not has_errors(parse(source).root_node)


def detect_encoding(source: bytes) -> str:
    """The PEP 263 encoding of a Python source file (UTF-8 when there is no cookie)."""
    if source.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for line in source.splitlines()[:2]:
        m = _COOKIE.match(line)
        if m:
            name = m.group(1).decode("ascii", "replace").lower()
            try:
                "".encode(name)
            except LookupError:
                return "utf-8"
            return name
        if line.strip() and not line.lstrip().startswith(b"#"):
            break
    return "utf-8"


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed file: raw bytes, its encoding and its tree."""

    data: bytes
    encoding: str
    tree: Tree

    @classmethod
    def of(cls, data: bytes) -> Source:
        return cls(data, detect_encoding(data), parse(data))

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.decode(self.data[node.start_byte : node.end_byte])

    def decode(self, raw: bytes) -> str:
        # surrogateescape keeps undecodable bytes round-trippable instead of losing them.
        return raw.decode(self.encoding, errors="surrogateescape")

    def encode(self, text: str) -> bytes:
        try:
            return text.encode(self.encoding, errors="surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", errors="surrogateescape")


def line_start(data: bytes, offset: int) -> int:
    """Byte offset of the start of the line holding `offset`."""
    return data.rfind(b"\n", 0, offset) + 1


def line_end(data: bytes, offset: int) -> int:
    """Byte offset just after the line ending of the line holding `offset` (or the end of the data)."""
    i = data.find(b"\n", offset)
    return len(data) if i < 0 else i + 1


def line_ending(data: bytes, offset: int) -> bytes:
    """The line ending of the line holding `offset`; the file's first one when that line has none."""
    i = data.find(b"\n", offset)
    if i < 0:
        i = data.find(b"\n")
        if i < 0:
            return b"\n"
    return b"\r\n" if i > 0 and data[i - 1 : i] == b"\r" else b"\n"


def indentation(data: bytes, node: Node) -> bytes:
    """The whitespace before `node` on its line (empty if other code precedes it there)."""
    start = line_start(data, node.start_byte)
    prefix = data[start : node.start_byte]
    return prefix if prefix.strip(b" \t\f") == b"" else b""


def is_statement(node: Node) -> bool:
    return node.type in STATEMENTS


def header_end(node: Node) -> int:
    """End byte of a statement's header: up to its first block for compound statements, else its end."""
    if node.type in COMPOUND_STATEMENTS:
        for child in node.children:
            if child.type == "block":
                return child.start_byte
    return node.end_byte


def statement_at(tree: Tree, line: int) -> Node | None:
    """The innermost simple statement or compound-statement header covering the 1-based `line`."""
    row = line - 1
    best: Node | None = None
    node: Node = tree.root_node
    while True:
        nxt = next((c for c in node.children if c.start_point[0] <= row <= c.end_point[0]), None)
        if nxt is None:
            return best
        if nxt.type in SIMPLE_STATEMENTS or (
            nxt.type in COMPOUND_STATEMENTS
            and nxt.type != "decorated_definition"
            and nxt.start_point[0] <= row <= header_last_row(nxt)
        ):
            best = nxt
        node = nxt


def header_last_row(node: Node) -> int:
    """The row of the last header token (the ':') of a compound statement."""
    last = node
    for child in node.children:
        if child.type == "block":
            break
        last = child
    return last.end_point[0]


def enclosing(node: Node, types: frozenset[str]) -> Node | None:
    p = node.parent
    while p is not None:
        if p.type in types:
            return p
        p = p.parent
    return None


def enclosing_function(node: Node) -> Node | None:
    """The innermost `def` around `node` (lambdas are not functions for scope donors)."""
    return enclosing(node, frozenset({"function_definition"}))


def enclosing_class(node: Node) -> Node | None:
    return enclosing(node, frozenset({"class_definition"}))


def statements_of(block_owner: Node) -> list[Node]:
    """Every statement below `block_owner`, in source order (nested blocks included)."""
    out: list[Node] = []
    stack = [block_owner]
    while stack:
        n = stack.pop()
        for child in reversed(n.children):
            if child.type in STATEMENTS:
                out.append(child)
            if child.type in COMPOUND_STATEMENTS or child.type in ("block", "module"):
                stack.append(child)
    out.sort(key=lambda n: n.start_byte)
    return out
