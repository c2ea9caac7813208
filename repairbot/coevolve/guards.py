"""Guards against weakening tests while updating them.

Static guard: `check_not_weakened(original, updated)` on the bytes of a test file (`weakening` for all the
files of one update), before the update is ever run.
Dynamic guards, after validation on the new code (`review_update` runs both):
  * `base_check_plan(...)` says which updated tests to run on the materialized base tree (with the updated
    test files overlaid) and that they must FAIL there: an updated test of a behavioural change still checks
    the change. `check_base_run(plan, run)` turns that run into a reason or None.
  * `coverage_not_dropped(...)`: the updated tests cover at least as many lines of the changed definitions as
    the original tests did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from repairbot.models import ChangeAnalysis, ChangeSet, Classification, TestRun
from repairbot.parsing import node_text, parse, split_nodeid, walk
from repairbot.paths import inside, remove_inside, write_inside

_ASSERT_CALL = re.compile(r"^(assert\w*|fail\w*)$")
_CATCH_ALL = {"Exception", "BaseException", "object"}


def _tests(root: Node) -> dict[str, Node]:
    """Test functions by qualified name (Class.test_x or test_x)."""
    out: dict[str, Node] = {}

    def visit(node: Node, prefix: str) -> None:
        for c in node.named_children:
            t = c.child_by_field_name("definition") if c.type == "decorated_definition" else c
            if t is None:
                continue
            if t.type == "class_definition":
                body = t.child_by_field_name("body")
                if body is not None:
                    visit(body, prefix + node_text(t.child_by_field_name("name")) + ".")
            elif t.type == "function_definition":
                name = node_text(t.child_by_field_name("name"))
                if name.startswith("test") or prefix:
                    out[prefix + name] = t

    visit(root, "")
    return out


def _assertions(fn: Node) -> list[Node]:
    out: list[Node] = []
    for n in walk(fn):
        if n.type == "assert_statement":
            out.append(n)
        elif n.type == "call":
            f = n.child_by_field_name("function")
            name = (
                node_text(f.child_by_field_name("attribute"))
                if f is not None and f.type == "attribute"
                else node_text(f)
            )
            if _ASSERT_CALL.match(name) or (
                name in ("raises", "warns", "approx") and node_text(f).startswith("pytest")
            ):
                out.append(n)
    return out


def _tautology(n: Node) -> bool:
    if n.type == "assert_statement":
        cond = n.named_children[0] if n.named_children else None
        if cond is None:
            return False
        if cond.type in ("true", "integer", "string") and node_text(cond) not in ("0", "''", '""'):
            return True
        if cond.type == "comparison_operator" and len(cond.named_children) == 2:
            a, b = cond.named_children
            ops = [c.type for c in cond.children if not c.is_named]
            return node_text(a) == node_text(b) and ops in (["=="], ["is"], ["<="], [">="], ["in"])
        return False
    f = n.child_by_field_name("function")
    name = node_text(f.child_by_field_name("attribute")) if f is not None and f.type == "attribute" else ""
    args = n.child_by_field_name("arguments")
    pos = [a for a in (args.named_children if args else []) if a.type != "keyword_argument"]
    if name in (
        "assertEqual",
        "assertEquals",
        "assertIs",
        "assertListEqual",
        "assertDictEqual",
        "assertAlmostEqual",
    ):
        return len(pos) >= 2 and node_text(pos[0]) == node_text(pos[1])
    if name == "assertTrue":
        return bool(pos) and pos[0].type == "true"
    if name == "assertFalse":
        return bool(pos) and pos[0].type in ("false", "none")
    return False


def _catch_alls(root: Node) -> int:
    count = 0
    for n in walk(root):
        if n.type == "except_clause":
            kids = [c for c in n.named_children if c.type != "block"]
            if not kids:
                count += 1  # bare except
            else:
                value = kids[0]
                if value.type == "as_pattern" and value.named_children:
                    value = value.named_children[0]
                names = [node_text(x) for x in (value.named_children if value.type == "tuple" else [value])]
                count += any(x.rsplit(".", 1)[-1] in _CATCH_ALL for x in names)
        elif n.type == "call" and node_text(n.child_by_field_name("function")).endswith(
            ("raises", "assertRaises", "assertRaisesRegex")
        ):
            args = n.child_by_field_name("arguments")
            if args is not None and args.named_children:
                first = args.named_children[0]
                names = [node_text(x) for x in (first.named_children if first.type == "tuple" else [first])]
                count += any(x.rsplit(".", 1)[-1] in _CATCH_ALL for x in names)
    return count


def _count(root: Node, pattern: str) -> int:
    return len(re.findall(pattern, node_text(root)))


def check_not_weakened(original: bytes, updated: bytes) -> str | None:
    """Why `updated` (a test file) is weaker than `original`, or None when it is not."""
    old_root, new_root = parse(original).root_node, parse(updated).root_node
    if new_root.has_error and not old_root.has_error:
        return "the updated test file does not parse"
    old_tests, new_tests = _tests(old_root), _tests(new_root)
    for name, fn in old_tests.items():
        new_fn = new_tests.get(name)
        if new_fn is None:
            return f"deletes test {name}"
        if len(_assertions(new_fn)) < len(_assertions(fn)):
            return f"removes an assertion from {name}"
        old_taut = sum(_tautology(a) for a in _assertions(fn))
        if sum(_tautology(a) for a in _assertions(new_fn)) > old_taut:
            return f"makes an assertion of {name} a tautology"
        if _count(new_fn, r"\bmatch\s*=") < _count(fn, r"\bmatch\s*="):
            return f"drops a match= pattern from {name}"
    if _catch_alls(new_root) > _catch_alls(old_root):
        return "adds a catch-all (bare except, except Exception or raises(Exception))"
    marks = (
        r"pytest\.mark\.(?:skip|skipif|xfail)|pytest\.(?:skip|xfail)\(|unittest\.skip|expectedFailure|@skip"
    )
    if _count(new_root, marks) > _count(old_root, marks):
        return "adds a skip or xfail"
    return None


@dataclass(frozen=True, slots=True)
class BaseCheckPlan:
    """Run `nodeids` on the base tree with `files` (the updated test files) overlaid; each must fail there."""

    files: Mapping[str, bytes]
    nodeids: tuple[str, ...]
    expect: str = "fail"


_BEHAVIOURAL = ("value", "exception", "message")


def base_check_plan(
    classifications: Mapping[str, Classification], updated_files: Mapping[str, bytes]
) -> BaseCheckPlan | None:
    """Which updated tests must fail on the old code. Renames and signature updates are not behavioural
    (the updated test cannot even import the old code); value and exception updates are: the updated test
    must distinguish the new behaviour from the old. None when nothing needs checking."""
    ids = tuple(
        nid
        for nid, c in classifications.items()
        if c.kind == "obsolete" and c.reason in _BEHAVIOURAL and split_nodeid(nid)[0] in updated_files
    )
    if not ids:
        return None
    return BaseCheckPlan(files=dict(updated_files), nodeids=ids)


def check_base_run(plan: BaseCheckPlan, run: TestRun) -> str | None:
    """A reason when an updated behavioural test passes on the old code (it no longer checks the change)."""
    for nid in plan.nodeids:
        o = run.outcome(nid)
        if o is not None and o.outcome == "passed":
            return f"{nid} passes on the base revision too: the update no longer checks the change"
    return None


def changed_definition_lines(changes: ChangeSet) -> set[tuple[str, int]]:
    """(path, line) of the changed lines that lie inside changed definitions of non-test files."""
    out: set[tuple[str, int]] = set()
    for c in changes.changes:
        d = c.new_def
        if d is None or c.kind in ("added",):
            continue
        lines = changes.changed_lines.get(c.path, frozenset())
        span = range(d.start_line, d.end_line + 1)
        hit = {ln for ln in lines if ln in span} or set(span)
        out |= {(c.path, ln) for ln in hit}
    return out


def coverage_not_dropped(
    changes: ChangeSet, before: TestRun, after: TestRun, nodeids: Sequence[str]
) -> str | None:
    """The updated tests must cover at least the lines of changed definitions the original tests covered."""
    if not before.coverage or not after.coverage:
        return None
    target = changed_definition_lines(changes)
    old = set().union(*(before.coverage.get(n, frozenset()) for n in nodeids)) & target
    new = set().union(*(after.coverage.get(n, frozenset()) for n in nodeids)) & target
    lost = old - new
    if lost:
        path, line = sorted(lost)[0]
        return f"updated tests no longer cover {len(lost)} changed line(s), e.g. {path}:{line}"
    return None


def weakening(originals: Mapping[str, bytes | None], updated: Mapping[str, bytes]) -> str | None:
    """Why an update of test files weakens one of them (checked before it is ever run), or None.
    `originals`: each updated path's bytes in the user's tree (None: a file the update adds)."""
    for path, old in originals.items():
        if old is not None:
            reason = check_not_weakened(old, updated[path])
            if reason:
                return reason
    return None


def review_update(
    analysis: ChangeAnalysis,
    updated_tests: Mapping[str, bytes],
    fixed: Sequence[str],
    run_at_base: Callable[[Path, tuple[str, ...]], TestRun],
    run_with_coverage: Callable[[tuple[str, ...]], TestRun],
    behavioural: bool = True,
) -> str | None:
    """The guards that need runs, once an update made the suite pass: why it is rejected, or None.
    `behavioural` False: the update only adapts the shape of a result (rule "update-shape": `list(...)`
    around a call that now returns an iterator), keeping every expected value: it need not fail on the
    base revision, the other guards stand.

    Behavioural updates must still fail on the base revision (`run_at_base(tree, nodeids)` runs them on the
    materialized base with the updated test files written over it), and the updated tests that now pass
    (`fixed`) must cover the changed lines the original ones covered (`run_with_coverage(nodeids)`)."""
    plan = base_check_plan(analysis.classifications, updated_tests) if behavioural else None
    if plan is not None:
        tree = analysis.base_tree
        saved: dict[str, bytes | None] = {}
        for rel in plan.files:  # test paths: checked under the tree (a node id can be forged)
            target = inside(tree, rel)
            saved[rel] = target.read_bytes() if target.is_file() and not target.is_symlink() else None
        for rel, data in plan.files.items():
            write_inside(tree, rel, data)
        try:
            run = run_at_base(tree, plan.nodeids)
        finally:
            for rel, old in saved.items():
                if old is None:
                    remove_inside(tree, rel)
                else:
                    write_inside(tree, rel, old)
        reason = check_base_run(plan, run)
        if reason:
            return reason
    nodeids = tuple(n for n in fixed if split_nodeid(n)[0] in updated_tests)
    if not nodeids:
        return None
    return coverage_not_dropped(analysis.changes, analysis.before, run_with_coverage(nodeids), nodeids)
