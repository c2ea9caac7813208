"""Regression tests that come with code fixes.

`regression_test(...)`: the minimal slice of the failing test (its statements up to the failing one), added
beside it in the same file and class, so it uses the repository's own style, imports and fixtures. It fails
before the fix for the same reason the original did and passes after it; `regression_test_for` checks both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from repairbot.models import TestOutcome, TestRun
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


# Runs node ids on a copy of the job's tree with files written over it; the label names the copy.
LabelledProbe = Callable[[str, Mapping[str, bytes], tuple[str, ...]], TestRun]


@dataclass(frozen=True, slots=True)
class RegressionTest:
    files: dict[str, bytes]  # the fix's files with the regression test added
    nodeid: str


def regression_test_for(
    files: Mapping[str, bytes], run: TestRun, test_files: Collection[str], base: Path, probe: LabelledProbe
) -> tuple[RegressionTest | None, str | None]:
    """A regression test for the code fix `files` (path -> fixed bytes) of the first failing test of `run`,
    checked to fail before the fix and to pass after it; and a note for the report (None: nothing to say)."""
    first = next((o for o in run.outcomes if not o.ok and "::" in o.nodeid), None)
    path = split_nodeid(first.nodeid)[0] if first else ""
    if first is None or path not in set(test_files):
        return None, None
    made = regression_test(files.get(path) or (base / path).read_bytes(), first)
    if made is None:
        return None, None
    test_path, data, nodeid = made
    before = probe("regression-before", {test_path: data}, (nodeid,))
    after_files = {**files, test_path: data}
    after = probe("regression-after", after_files, (nodeid,))
    fails_before = any(o.nodeid == nodeid and not o.ok for o in before.outcomes)
    passes_after = any(o.nodeid == nodeid and o.outcome == "passed" for o in after.outcomes)
    if not (fails_before and passes_after):
        return None, "a regression test was generated but did not fail before and pass after; left out"
    return RegressionTest(
        after_files, nodeid
    ), f"added regression test {nodeid} (fails before the fix, passes after)"
