"""Regression tests that come with code fixes, and reproduction tests from issue text.

* `regression_test(...)`: the minimal slice of the failing test (its statements up to the failing one), added
  beside it in the same file and class, so it uses the repository's own style, imports and fixtures. It fails
  before the fix for the same reason the original did and passes after it; the pipeline validates both.
* `reproduction_test(issue_text, root)`: a pytest (or unittest, following the repository) test built from an
  issue's code snippet: expected values stated in comments or prose become assertions; a snippet whose
  traceback is quoted becomes a test that must run without raising.
* `issue_locations(issue_text, root)`: (path, line) of the repository frames of an issue's traceback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from tree_sitter import Node

from repairbot.changes.classify import split_nodeid, test_node
from repairbot.changes.pyast import has_error, parse, text, walk
from repairbot.generate.tests import failing_line
from repairbot.models import TestOutcome


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
    name = text(fn.child_by_field_name("attribute")) if fn is not None and fn.type == "attribute" else ""
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
    fn = test_node(source, failing.nodeid)
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
    existing = {text(n.child_by_field_name("name")) for n in walk(root) if n.type == "function_definition"}
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
    if has_error(new):
        return None
    nodeid = "::".join([path, *names[:-1], new_name])
    return path, new, nodeid


# ---------------------------------------------------------------- issues


_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
_BLOCK = re.compile(r"```[ \t]*(?:python|py|pycon|python3)?[ \t]*\r?\n(.*?)```", re.S | re.I)
_EXPECT_COMMENT = re.compile(
    r"#\s*(?:expected|expect|should\s+(?:be|return|give)|want(?:ed)?|correct(?:\s+result)?)\s*:?\s*(.+?)\s*$",
    re.I,
)
_EXPECT_PROSE = re.compile(
    r"(?:expected|should\s+(?:be|return|give|print)|instead\s+of)\s*(?:output|result|value)?\s*:?\s*`([^`]+)`",
    re.I,
)


def issue_locations(issue_text: str, root: Path) -> list[tuple[str, int]]:
    """(repository path, line) of each traceback frame of the issue that lies in the repository, in
    traceback order (innermost last), without duplicates."""
    out: list[tuple[str, int]] = []
    files = None
    for m in _FRAME.finditer(issue_text):
        raw, line = m.group(1).replace("\\", "/"), int(m.group(2))
        rel = _to_repo_path(raw, root)
        if rel is None:
            if files is None:
                files = [p.relative_to(root).as_posix() for p in root.rglob("*.py") if ".git" not in p.parts]
            tail = raw.rsplit("/", 1)[-1]
            hits = [
                f
                for f in files
                if raw.endswith("/" + f) or f == raw or (f.endswith("/" + tail) and "/" not in raw)
            ]
            rel = hits[0] if len(hits) == 1 else None
        if rel is not None and "site-packages" not in raw and (rel, line) not in out:
            out.append((rel, line))
    return out


def _to_repo_path(raw: str, root: Path) -> str | None:
    parts = [p for p in raw.split("/") if p]
    for i in range(len(parts)):
        cand = "/".join(parts[i:])
        if (root / cand).is_file():
            return cand
    return None


def _code_blocks(issue_text: str) -> list[str]:
    blocks = [m.group(1) for m in _BLOCK.finditer(issue_text)]
    if not blocks:
        # An unfenced interactive session.
        session = [ln for ln in issue_text.splitlines() if ln.startswith((">>> ", "... "))]
        if session:
            blocks = ["\n".join(issue_text.splitlines())]
    return blocks


def _session_to_code(block: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A `>>>` session: (statements, [(expression, printed output)])."""
    stmts: list[str] = []
    pairs: list[tuple[str, str]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith(">>> "):
            code = ln[4:]
            i += 1
            while i < len(lines) and lines[i].startswith("... "):
                code += "\n" + lines[i][4:]
                i += 1
            out: list[str] = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(">>> "):
                out.append(lines[i])
                i += 1
            if out and not out[0].startswith("Traceback"):
                pairs.append((code, "\n".join(out)))
            stmts.append(code)
        else:
            i += 1
    return stmts, pairs


def _is_expression(code: str) -> bool:
    try:
        import ast

        tree = ast.parse(code)
    except SyntaxError:
        return False
    return len(tree.body) == 1 and isinstance(tree.body[0], __import__("ast").Expr)


def _literal_ok(s: str) -> bool:
    import ast

    try:
        ast.literal_eval(s)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _test_dir(root: Path) -> str:
    for cand in ("tests", "test", "testing"):
        if (root / cand).is_dir():
            return cand
    return "tests"


def _uses_unittest(root: Path, test_dir: str) -> bool:
    files = list((root / test_dir).rglob("test*.py"))[:50] if (root / test_dir).is_dir() else []
    if not files:
        return False
    uni = sum(1 for f in files if b"unittest.TestCase" in f.read_bytes() or b"(TestCase)" in f.read_bytes())
    return uni * 2 > len(files)


def reproduction_test(issue_text: str, root: Path) -> tuple[str, bytes] | None:
    """(path, source) of a test reproducing the issue, or None when the issue has no usable snippet.

    Assertions come from expected values the issue states: `# expected: X` comments on a line of the
    snippet, or prose such as "should return `X`" about the snippet's last expression. Without one, a snippet
    quoted together with a traceback becomes a test that runs it (it fails while the exception is raised).
    The pipeline must check that the test fails on the current code before using it."""
    blocks = _code_blocks(issue_text)
    body: list[str] = []
    asserted = False
    for block in blocks:
        if block.lstrip().startswith("Traceback"):
            continue
        if ">>> " in block:
            stmts, pairs = _session_to_code(block)
            body.extend(stmts)
            expected_prose = _EXPECT_PROSE.findall(issue_text)
            if pairs and expected_prose and _literal_ok(expected_prose[-1]):
                expr = pairs[-1][0]
                if _is_expression(expr):
                    body[body.index(expr)] = f"assert {expr} == {expected_prose[-1]}"
                    asserted = True
            continue
        for raw in block.splitlines():
            if not raw.strip() or raw.lstrip().startswith("Traceback"):
                continue
            m = _EXPECT_COMMENT.search(raw)
            code = raw[: m.start()].rstrip() if m else raw.rstrip()
            if m and _literal_ok(m.group(1).strip("` ")):
                expected = m.group(1).strip("` ")
                pm = re.fullmatch(r"(\s*)print\((.*)\)", code)
                expr = pm.group(2) if pm else code.strip()
                lead = pm.group(1) if pm else code[: len(code) - len(code.lstrip())]
                if _is_expression(expr):
                    body.append(f"{lead}assert {expr} == {expected}")
                    asserted = True
                    continue
            body.append(code)
        if not asserted:
            prose = _EXPECT_PROSE.findall(issue_text)
            last = next((ln for ln in reversed(body) if ln.strip() and not ln.startswith((" ", "\t"))), "")
            pm = re.fullmatch(r"print\((.*)\)", last)
            expr = pm.group(1) if pm else last
            if prose and _literal_ok(prose[-1]) and _is_expression(expr):
                body[len(body) - 1 - body[::-1].index(last)] = f"assert {expr} == {prose[-1]}"
                asserted = True
    has_traceback = "Traceback (most recent call last)" in issue_text or bool(_FRAME.search(issue_text))
    if not body or not (asserted or has_traceback):
        return None
    code = "\n".join(body)
    if has_error(code.encode()):
        return None
    imports = [ln for ln in body if re.match(r"(from \S+ )?import ", ln)]
    rest = [ln for ln in body if ln not in imports]
    test_dir = _test_dir(root)
    name = "test_issue_reproduction"
    path = f"{test_dir}/{name}.py"
    i = 2
    while (root / path).exists():
        path, i = f"{test_dir}/{name}_{i}.py", i + 1
    if _uses_unittest(root, test_dir):
        lines = [
            "import unittest",
            *imports,
            "",
            "",
            "class IssueReproductionTest(unittest.TestCase):",
            "    def test_issue(self):",
            *("        " + ln if ln.strip() else "" for ln in rest),
        ]
    else:
        lines = [*imports, "", "", "def test_issue():", *("    " + ln if ln.strip() else "" for ln in rest)]
    src = ("\n".join(lines).strip("\n") + "\n").encode()
    if has_error(src):
        return None
    return path, src


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
