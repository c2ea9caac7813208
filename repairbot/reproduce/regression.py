"""Regression tests that come with code fixes.

`regression_test(...)`: the minimal slice of the failing test (its statements up to the failing one), added
beside it in the same file and class, so it uses the repository's own style, imports and fixtures. It fails
before the fix for the same reason the original did and passes after it; the pipeline validates both.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from repairbot.models import TestOutcome
from repairbot.parsing import failing_line, find_test, node_text, parse, split_nodeid, syntax_ok, walk


def _top_statement(block: Node, line: int) -> Node | None:
    for st in block.named_children:
        if st.start_point.row + 1 <= line <= st.end_point.row + 1:
            return st
    return None


def _is_assertion(st: Node) -> bool:
    if st.type == "assert_statement":
        return True
    call = st.named_children[0] if st.type == "expression_statement" and st.named_children else None
    if call is None or call.type != "call":
        return False
    fn = call.child_by_field_name("function")
    name = node_text(fn.child_by_field_name("attribute")) if fn is not None and fn.type == "attribute" else ""
    return name.startswith("assert") and name not in ("assertRaises", "assertRaisesRegex", "assertWarns")


def _unique(names: set[str], base: str) -> str:
    name, i = base, 2
    while name in names:
        name, i = f"{base}_{i}", i + 1
    return name


def regression_test(
    source: bytes, failing: TestOutcome, *, always: bool = False
) -> tuple[str, bytes, str] | None:
    """(path, new bytes of the test file, node id) adding a minimal regression test for `failing`, whose
    test file currently holds `source`. None when the failing test is already minimal (it pinpoints the bug)
    unless `always`, or when the failing statement cannot be found."""
    path, names = split_nodeid(failing.nodeid)
    fn = find_test(source, failing.nodeid)
    line = failing_line(failing, path)
    if fn is None or line is None:
        return None
    body = fn.child_by_field_name("body")
    if body is None:
        return None
    stmt = _top_statement(body, line)
    if stmt is None:
        return None
    # The statements up to the failing one, minus the assertions that passed before it. When the failing
    # statement is not itself a check (the code under test crashed), the checks after it stay: a test that
    # only calls the code would pass on a fix that returns the wrong value.
    crashed = not _is_assertion(stmt)
    kept = [
        s
        for s in body.named_children
        if (s.end_byte <= stmt.end_byte and (s == stmt or not _is_assertion(s)))
        or (crashed and s.start_byte > stmt.end_byte)
    ]
    if len(kept) == len(body.named_children) and not always:
        return None  # the test already is that slice: it pinpoints the bug
    root = parse(source).root_node
    existing = {
        node_text(n.child_by_field_name("name")) for n in walk(root) if n.type == "function_definition"
    }
    new_name = _unique(existing, f"{names[-1]}_regression")
    nl = b"\r\n" if b"\r\n" in source else b"\n"
    header_end = body.start_byte
    # `def name(params):` up to the body, with the name replaced.
    name_node = fn.child_by_field_name("name")
    assert name_node is not None
    header = (
        source[fn.start_byte : name_node.start_byte]
        + new_name.encode()
        + source[name_node.end_byte : header_end]
    )
    # Keep decorators (parametrize rows, fixtures) of the original.
    outer = fn.parent if fn.parent is not None and fn.parent.type == "decorated_definition" else fn
    decorators = source[outer.start_byte : fn.start_byte]
    indent_col = outer.start_point.column
    indent = source[outer.start_byte - indent_col : outer.start_byte] if indent_col else b""
    # The kept statements verbatim, each from the start of its first line (indentation included).
    body_text = nl.join(source[source.rfind(b"\n", 0, s.start_byte) + 1 : s.end_byte] for s in kept)
    block = indent + decorators + header.rstrip() + nl + body_text
    insert_at = outer.end_byte
    new = source[:insert_at] + nl + nl * (1 if indent else 2) + block + source[insert_at:]
    if not syntax_ok(new):
        return None
    nodeid = "::".join([path, *names[:-1], new_name])
    return path, new, nodeid


def regression_tests_for(
    sources: dict[str, bytes], failing: Sequence[TestOutcome], *, always: bool = False
) -> list[tuple[str, bytes, str]]:
    """`regression_test` for several failing tests, accumulating edits per file."""
    out: list[tuple[str, bytes, str]] = []
    current = dict(sources)
    for o in failing:
        path = split_nodeid(o.nodeid)[0]
        if path not in current:
            continue
        res = regression_test(current[path], o, always=always)
        if res is not None:
            current[path] = res[1]
            out.append(res)
    return out
