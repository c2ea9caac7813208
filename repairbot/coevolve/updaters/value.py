"""Expected values replaced by the observed ones: in equality assertions, `pytest.approx`, a local `expected`,
or the row of a parametrize table.

Observed values come from the failure text (pytest's `assert 5 == 4`, unittest's `5 != 4`). When that text
is truncated or not a literal, a *probe* version of the test is run whose failing assertion raises
`AssertionError("REPAIRBOT_OBSERVED <json>")` carrying `repr()` of the checked value.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence

from tree_sitter import Node

from repairbot.coevolve.updaters.edits import Replacement
from repairbot.models import Classification, Probe, Snapshot, TestOutcome
from repairbot.parsing import failing_line, find_test, node_text, split_nodeid, walk

_OBSERVED_PROBE = re.compile(r"REPAIRBOT_OBSERVED (\".*?(?<!\\)\")")


_TRUNCATED = re.compile(r"\[\d+ chars\]|\.\.\.|…")


def parse_literal(s: str, whole: bool = False) -> tuple[bool, object]:
    """(True, value) when `s` is a Python literal. `whole`: `s` is known to be complete (source code, or a
    value the plugin wrote out in full), not a repr from failure text that may have been shortened."""
    s = s.strip()
    # pytest's saferepr and unittest's shortened reprs cut long values ("abc...xyz", "[12 chars]"): such a
    # repr still parses, but it is not the value.
    if not whole and len(s) > 60 and _TRUNCATED.search(s):
        return False, None
    s = re.sub(r"\s*±\s*[\d.e+-]+$", "", s)  # pytest.approx repr
    try:
        v = ast.literal_eval(s)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None
    if _has_ellipsis(v):
        return False, None
    return True, v


def _has_ellipsis(v: object) -> bool:
    if v is Ellipsis:
        return True
    if isinstance(v, (list, tuple, set, frozenset)):
        return any(_has_ellipsis(x) for x in v)
    if isinstance(v, dict):
        return any(_has_ellipsis(x) for x in (*v.keys(), *v.values()))
    return False


def observed_pair(err: str) -> tuple[str, str] | None:
    """(left repr, right repr) of the failing comparison, from pytest or unittest failure text."""
    m = _OBSERVED_PROBE.search(err)
    if m:
        return json.loads(m.group(1)), ""
    for line in err.splitlines():
        s = re.sub(r"^E\s+", "", line.strip())
        if s.startswith("AssertionError: assert "):
            s = s[len("AssertionError: ") :]
        if s.startswith("assert "):
            body, seps = s[len("assert ") :], (" == ", " != ")
        elif s.startswith("AssertionError: "):
            body, seps = re.sub(r"^\w+ differ: ", "", s[len("AssertionError: ") :]), (" != ", " == ")
        else:
            continue
        for sep in seps:
            idx = body.find(sep)
            while idx >= 0:
                left, right = body[:idx], body[idx + len(sep) :]
                if parse_literal(left)[0] and parse_literal(right)[0]:
                    return left, right
                idx = body.find(sep, idx + 1)
    return None


def format_like(value: object, like: str) -> str:
    """Python source for `value`, in the quoting style of the literal it replaces."""
    if isinstance(value, str):
        prefix = re.match(r"^[rRbBuUfF]*", like)
        pre = prefix.group(0).lower().replace("r", "").replace("f", "") if prefix else ""
        body = like[len(prefix.group(0)) if prefix else 0 :]
        if body.startswith(('"""', "'''")) and "\\" not in value and body[:3] not in value:
            return f"{pre}{body[:3]}{value}{body[:3]}"
        if body.startswith('"') and not body.startswith('"""'):
            r = repr(value)
            if r.startswith("'") and '"' not in value:
                inner = r[1:-1].replace("\\'", "'")
                return f'{pre}"{inner}"'
            return r
        return repr(value)
    if isinstance(value, float) and value == int(value) and "." not in like and "e" not in like.lower():
        return repr(value)
    return repr(value)


_EQUAL_METHODS = (
    "assertEqual",
    "assertEquals",
    "assertListEqual",
    "assertDictEqual",
    "assertTupleEqual",
    "assertSetEqual",
    "assertSequenceEqual",
    "assertMultiLineEqual",
    "assertAlmostEqual",
    "assertCountEqual",
)


def _statement_at(fn: Node, line: int) -> Node | None:
    best: Node | None = None
    for n in walk(fn):
        if (
            n.type in ("assert_statement", "expression_statement")
            and n.start_point.row + 1 <= line <= n.end_point.row + 1
            and (best is None or n.start_byte >= best.start_byte)
        ):
            best = n
    return best


def _sides(stmt: Node) -> tuple[Node, Node] | None:
    """The (actual-side, expected-side) candidates of an equality assertion, in source order."""
    if stmt.type == "assert_statement":
        cond = stmt.named_children[0] if stmt.named_children else None
        if cond is not None and cond.type == "comparison_operator" and len(cond.named_children) == 2:
            ops = [c.type for c in cond.children if not c.is_named]
            if ops == ["=="]:
                return cond.named_children[0], cond.named_children[1]
        return None
    call = stmt.named_children[0] if stmt.named_children else None
    if call is None or call.type != "call":
        return None
    fn = call.child_by_field_name("function")
    if (
        fn is None
        or fn.type != "attribute"
        or node_text(fn.child_by_field_name("attribute")) not in _EQUAL_METHODS
    ):
        return None
    args = call.child_by_field_name("arguments")
    pos = [a for a in (args.named_children if args else []) if a.type not in ("keyword_argument", "comment")]
    if len(pos) < 2:
        return None
    return pos[0], pos[1]


_LITERAL_TYPES = {
    "integer",
    "float",
    "string",
    "concatenated_string",
    "true",
    "false",
    "none",
    "list",
    "tuple",
    "dictionary",
    "set",
    "unary_operator",
    "parenthesized_expression",
}


def _is_literal(n: Node) -> bool:
    if n.type not in _LITERAL_TYPES:
        return False
    return (
        all(c.type not in ("identifier", "call", "attribute", "interpolation") for c in walk(n) if c is not n)
        and parse_literal(node_text(n), whole=True)[0]
    )


def _approx_arg(n: Node) -> Node | None:
    if n.type == "call" and node_text(n.child_by_field_name("function")).endswith("approx"):
        args = n.child_by_field_name("arguments")
        if args is not None and args.named_children and _is_literal(args.named_children[0]):
            return args.named_children[0]
    return None


def _depends(n: Node, fn: Node, names: set[str]) -> bool:
    """Does the expression `n` (inside test `fn`) depend on one of `names`, directly or through locals?"""
    ids = {node_text(x) for x in walk(n) if x.type == "identifier"}
    if not names:
        # Dependency already established (the test passed at base, fails now at this assertion, and runs
        # the changed code): any computed (non-literal) side is the checked value.
        return bool(ids) and not _is_literal(n)
    if ids & names:
        return True
    for a in walk(fn):
        if a.type == "assignment":
            left = a.child_by_field_name("left")
            right = a.child_by_field_name("right")
            if (
                left is not None
                and right is not None
                and node_text(left) in ids
                and a.start_byte < n.start_byte
                and {node_text(x) for x in walk(right) if x.type == "identifier"} & names
            ):
                return True
        if a.type in ("with_item", "as_pattern"):
            # `with f(...) as x` / `with pytest.raises(E) as exc`
            alias = a.child_by_field_name("alias")
            if alias is not None and node_text(alias) in ids:
                return True
    return False


def _param_row_edit(src: bytes, fn: Node, nodeid: str, argname: str, observed: object) -> Replacement | None:
    """In `@pytest.mark.parametrize("a, expected", [...])`, the `expected` cell of the row of `nodeid`."""
    m = re.search(r"\[(.*)\]$", nodeid)
    if m is None:
        return None
    pid = m.group(1)
    deco = fn.parent
    if deco is None or deco.type != "decorated_definition":
        return None
    for d in deco.named_children:
        if d.type != "decorator" or "parametrize" not in node_text(d):
            continue
        call = d.named_children[0] if d.named_children else None
        args = call.child_by_field_name("arguments") if call is not None and call.type == "call" else None
        if args is None or len(args.named_children) < 2:
            continue
        ok, names_v = parse_literal(node_text(args.named_children[0]))
        if not ok:
            continue
        names = [s.strip() for s in names_v.split(",")] if isinstance(names_v, str) else list(names_v)  # type: ignore[call-overload]
        if argname not in names:
            continue
        col = names.index(argname)
        rows = args.named_children[1]
        if rows.type not in ("list", "tuple"):
            continue
        explicit: list[str] | None = None
        for kw in args.named_children:
            if kw.type == "keyword_argument" and node_text(kw.child_by_field_name("name")) == "ids":
                ok_ids, ids_v = parse_literal(node_text(kw.child_by_field_name("value")))
                if ok_ids and isinstance(ids_v, (list, tuple)):
                    explicit = [str(x) for x in ids_v]
        for i, row in enumerate(rows.named_children):
            cells = row.named_children if (row.type == "tuple" and len(names) > 1) else [row]
            rid: str | None = explicit[i] if explicit is not None and i < len(explicit) else None
            if row.type == "call" and node_text(row.child_by_field_name("function")).endswith("param"):
                pa = row.child_by_field_name("arguments")
                cells = [c for c in (pa.named_children if pa else []) if c.type != "keyword_argument"]
                for kw in pa.named_children if pa else []:
                    if kw.type == "keyword_argument" and node_text(kw.child_by_field_name("name")) == "id":
                        ok_id, id_v = parse_literal(node_text(kw.child_by_field_name("value")))
                        rid = str(id_v) if ok_id else rid
            if len(cells) != len(names):
                continue
            if rid is None:
                rid = _param_id(cells, names, i)
            # Stacked parametrize decorators join their ids with "-".
            if pid == rid or pid.startswith(rid + "-") or pid.endswith("-" + rid) or f"-{rid}-" in pid:
                cell = cells[col]
                return Replacement(
                    cell.start_byte, cell.end_byte, format_like(observed, node_text(cell)).encode()
                )
    return None


def _root(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def _literal_assignment(scope: Node, target: str, observed: object) -> Replacement | None:
    """`<target> = <literal>` directly in `scope` (a module or a block): its literal set to `observed`."""
    for st in scope.named_children:
        a = st.named_children[0] if st.type == "expression_statement" and st.named_children else None
        if a is None or a.type != "assignment" or node_text(a.child_by_field_name("left")) != target:
            continue
        r = a.child_by_field_name("right")
        t = (_approx_arg(r) or (r if _is_literal(r) else None)) if r is not None else None
        if t is not None:
            return Replacement(t.start_byte, t.end_byte, format_like(observed, node_text(t)).encode())
    return None


def _constant_edit(root: Node, name: str, observed: object) -> Replacement | None:
    """A module-level constant of the test file the test compares with (updated once for every user)."""
    return _literal_assignment(root, name, observed)


def _attribute_edit(fn: Node, attr: str, observed: object) -> Replacement | None:
    """`self.<attr>` that the test class sets to a literal in `setUp`/`setUpClass`, or a class attribute."""
    cls: Node | None = fn.parent
    while cls is not None and cls.type != "class_definition":
        cls = cls.parent
    body = cls.child_by_field_name("body") if cls is not None else None
    if body is None:
        return None
    rep = _literal_assignment(body, attr, observed)
    if rep is not None:
        return rep
    for st in body.named_children:
        d = st.child_by_field_name("definition") if st.type == "decorated_definition" else st
        if d is None or d.type != "function_definition":
            continue
        if node_text(d.child_by_field_name("name")) in ("setUp", "setUpClass", "setup_method", "setup_class"):
            block = d.child_by_field_name("body")
            for owner in ("self", "cls"):
                rep = _literal_assignment(block, f"{owner}.{attr}", observed) if block is not None else None
                if rep is not None:
                    return rep
    return None


def _fixture_edit(src: bytes, fn: Node, name: str, observed: object) -> Replacement | None:
    """The literal a module-level `@pytest.fixture def <name>(): return <literal>` gives the test, when
    the test takes it as a parameter (the fixture is updated once for all the tests that use it)."""
    params = fn.child_by_field_name("parameters")
    if params is None or name not in {node_text(p) for p in params.named_children}:
        return None
    root = fn
    while root.parent is not None:
        root = root.parent
    for top in root.named_children:
        if top.type != "decorated_definition" or "fixture" not in node_text(top.named_children[0]):
            continue
        d = top.child_by_field_name("definition")
        body = d.child_by_field_name("body") if d is not None else None
        if d is None or body is None or node_text(d.child_by_field_name("name")) != name:
            continue
        stmts = [c for c in body.named_children if c.type not in ("comment", "expression_statement")]
        if len(stmts) == 1 and stmts[0].type == "return_statement" and stmts[0].named_children:
            value = stmts[0].named_children[0]
            target = _approx_arg(value) or (value if _is_literal(value) else None)
            if target is not None:
                return Replacement(
                    target.start_byte, target.end_byte, format_like(observed, node_text(target)).encode()
                )
    return None


def _param_id(cells: Sequence[Node], names: Sequence[str], i: int) -> str:
    parts = []
    for c, n in zip(cells, names, strict=False):
        ok, v = parse_literal(node_text(c))
        if (
            ok
            and (isinstance(v, (int, float, str, bool)) or v is None)
            and (not isinstance(v, str) or v.isascii())
        ):
            parts.append(str(v))
        else:
            parts.append(f"{n}{i}")
    return "-".join(parts)


def value_edit(
    src: bytes,
    outcome: TestOutcome,
    path: str,
    changed_names: set[str],
    observed: str | None = None,
    pair: tuple[str, str] | None = None,
    fn: Node | None = None,
) -> tuple[Replacement | None, str]:
    """The edit replacing the expected value of the failing equality assertion by the observed one.
    `observed`: repr() of the checked value (a probe's); `pair`: the sources of both compared values, as
    the run recorded them; `fn`: the function the assertion is in when it is not the test's own (a helper
    the test calls). Returns (edit or None, why not)."""
    fn = fn if fn is not None else find_test(src, outcome.nodeid)
    if fn is None:
        return None, "test function not found"
    line = failing_line(outcome, path)
    if line is None:
        return None, "failing line unknown"
    stmt = _statement_at(fn, line)
    if stmt is None:
        return None, "no assertion at the failing line"
    sides = _sides(stmt)
    if sides is None:
        return None, "the failing statement is not an equality assertion"
    left, right = sides
    err = f"{outcome.message}\n{outcome.longrepr}"
    whole = pair is not None  # the run's own record of the values, never shortened
    if pair is None:
        pair = observed_pair(err) if observed is None else (observed, "")
    if pair is None:
        return None, "observed value not in the failure text"
    # The expected side is the literal (or approx(literal), or a parametrized name); the other side must
    # depend on the changed code.
    for exp, act, act_repr_idx in ((right, left, 0), (left, right, 1)):
        if not _depends(act, fn, changed_names):
            continue
        act_repr = pair[act_repr_idx] if pair[1] != "" else pair[0]
        ok, val = parse_literal(act_repr, whole)
        if not ok:
            continue
        target = _approx_arg(exp) or (exp if _is_literal(exp) else None)
        if target is not None:
            return Replacement(
                target.start_byte, target.end_byte, format_like(val, node_text(target)).encode()
            ), ""
        if exp.type == "identifier":
            name = node_text(exp)
            # A local `expected = <literal>` before the assertion.
            for a in walk(fn):
                if (
                    a.type == "assignment"
                    and node_text(a.child_by_field_name("left")) == name
                    and a.end_byte <= stmt.start_byte
                ):
                    r = a.child_by_field_name("right")
                    if r is not None:
                        t = _approx_arg(r) or (r if _is_literal(r) else None)
                        if t is not None:
                            return Replacement(
                                t.start_byte, t.end_byte, format_like(val, node_text(t)).encode()
                            ), ""
            rep = (
                _param_row_edit(src, fn, outcome.nodeid, name, val)
                or _fixture_edit(src, fn, name, val)
                or _constant_edit(_root(fn), name, val)
            )
            if rep is not None:
                return rep, ""
        elif exp.type == "attribute" and node_text(exp.child_by_field_name("object")) in ("self", "cls"):
            rep = _attribute_edit(fn, node_text(exp.child_by_field_name("attribute")), val)
            if rep is not None:
                return rep, ""
    return None, "the expected side is not a literal, or the checked value does not depend on the change"


def probe_source(src: bytes, outcome: TestOutcome, path: str) -> bytes | None:
    """A copy of the test file whose failing equality assertion reports `repr()` of its left (actual) side."""
    fn = find_test(src, outcome.nodeid)
    line = failing_line(outcome, path)
    if fn is None or line is None:
        return None
    stmt = _statement_at(fn, line)
    sides = _sides(stmt) if stmt is not None else None
    if stmt is None or sides is None:
        return None
    actual = node_text(sides[0])
    if _is_literal(sides[0]) or _approx_arg(sides[0]) is not None:
        actual = node_text(sides[1])
    probe = (
        f"raise AssertionError('REPAIRBOT_OBSERVED ' + __import__('json').dumps(repr({actual})))"
    ).encode()
    return src[: stmt.start_byte] + probe + src[stmt.end_byte :]


def observe_values(
    snapshot: Snapshot,
    failing: Sequence[TestOutcome],
    classes: Mapping[str, Classification],
    run_tests: Probe,
) -> dict[str, str]:
    """For value-obsolete tests whose failure text lacks a literal, run a probe to get repr(actual)."""
    out: dict[str, str] = {}
    for o in failing:
        cl = classes.get(o.nodeid)
        if cl is None or cl.reason != "value" or observed_pair(f"{o.message}\n{o.longrepr}") is not None:
            continue
        path = split_nodeid(o.nodeid)[0]
        try:
            probe = probe_source(snapshot.read(path), o, path)
        except OSError:
            continue
        if probe is None:
            continue
        run = run_tests({path: probe}, [o.nodeid])
        res = run.outcome(o.nodeid)
        if res is not None:
            m = _OBSERVED_PROBE.search(f"{res.message}\n{res.longrepr}")
            if m:
                out[o.nodeid] = json.loads(m.group(1))
    return out
