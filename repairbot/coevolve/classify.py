"""Is a failing test obsolete (it checks behaviour that was changed on purpose) or a regression (a bug)?

Safety first: a test is called obsolete only on positive evidence that ties its failure to an intended change.
Everything else is a regression, so the code gets repaired and the test stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

from tree_sitter import Node

from repairbot.models import ChangeSet, Classification, DefChange, TestOutcome
from repairbot.parsing import call_name, find_test, node_text, parse, split_nodeid, walk
from repairbot.parsing.definitions import definitions
from repairbot.workspace import is_test_path


def identifiers(node: Node) -> set[str]:
    return {node_text(n) for n in walk(node) if n.type == "identifier"}


_MISSING_NAME = [
    re.compile(r"NameError: name '(\w+)' is not defined"),
    re.compile(r"ImportError: cannot import name '(\w+)'"),
    re.compile(r"has no attribute '(\w+)'"),
]
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
_SIG_ERR = re.compile(
    r"TypeError: ([\w.]+)\(\) (?:missing \d+ required|got an unexpected keyword argument|takes |"
    r"got multiple values|got some positional-only)"
)
_ASSERT_HINT = re.compile(
    r"AssertionError|^E\s+assert |\bassert .* (?:==|!=|in|is) |!=|not less|not greater", re.M
)


def _intent_for_value(change: DefChange, changes: ChangeSet) -> tuple[bool, str]:
    """Does this behavioural change look deliberate? (True, why) or (False, why not)."""
    name = change.new_name
    tests_touch = any(
        re.search(rf"\b{re.escape(name)}\b", changes.new_sources.get(p, b"").decode("utf-8", "replace"))
        for p in changes.changed_test_files
    )
    if change.doc_changed:
        return True, f"{change.new} changed together with its docstring"
    if tests_touch:
        return True, f"tests using {name} were edited in the same change"
    if change.kind == "signature":
        return True, f"default changed: {change.signature.summary() if change.signature else ''}"
    if change.shape == "mutation":
        return (
            False,
            f"{change.new} changed like a bug (operator/off-by-one/name swap) with no sign of intent",
        )
    doc = change.new_def.docstring if change.new_def is not None else ""
    if ">>>" in doc:
        return False, f"{change.new} changed but its doctest was not updated"
    return True, f"{change.new} {change.summary.split(' ', 1)[-1]}"


def _reaches(
    test_ids: set[str],
    change: DefChange,
    changes: ChangeSet,
    covered: frozenset[tuple[str, int]] | None = None,
) -> bool:
    """The test runs the changed definition: per-test coverage says so when the pipeline measured it;
    otherwise the test calls it directly, or through one function of a changed module."""
    d = change.new_def
    if covered and d is not None:
        span = range(d.start_line, d.end_line + 1)
        lines = changes.changed_lines.get(change.path) or set(span)
        if any((change.path, ln) in covered for ln in lines if ln in span):
            return True
    name = change.new_name
    if name in test_ids:
        return True
    if change.new_def is not None and change.new_def.kind == "method":
        cls = change.new.rsplit(".", 2)[-2]
        if cls in test_ids and name in test_ids:
            return True
    # Callers in the changed modules, transitively (test -> api -> helper -> changed definition).
    bodies: dict[str, str] = {}
    for path, src in changes.new_sources.items():
        if not is_test_path(path):
            for q in definitions(src, path).values():
                bodies[q.name] = bodies.get(q.name, "") + " " + q.body_text
    frontier, seen = {name}, {name}
    for _ in range(4):
        callers = {
            n
            for n, body in bodies.items()
            if n not in seen and any(re.search(rf"\b{re.escape(f)}\b", body) for f in frontier)
        }
        if callers & test_ids:
            return True
        if not callers:
            break
        seen |= callers
        frontier = callers
    return False


def _expected_exceptions(node: Node | None) -> set[str]:
    if node is None:
        return set()
    out: set[str] = set()
    for n in walk(node):
        if n.type == "call":
            fn = node_text(n.child_by_field_name("function"))
            if fn.endswith(("raises", "assertRaises", "assertRaisesRegex")):
                args = n.child_by_field_name("arguments")
                if args is not None and args.named_children:
                    first = args.named_children[0]
                    targets = first.named_children if first.type == "tuple" else [first]
                    out.update(node_text(t).rsplit(".", 1)[-1] for t in targets)
    return out


def classify_one(
    outcome: TestOutcome,
    changes: ChangeSet,
    passed_at_base: AbstractSet[str] | None,
    test_sources: Mapping[str, bytes],
    coverage: Mapping[str, frozenset[tuple[str, int]]] | None = None,
) -> Classification:
    nid = outcome.nodeid
    covered = coverage.get(nid) if coverage else None

    def regression(why: str) -> Classification:
        return Classification(nid, "regression", why)

    collected = "::" not in nid  # a collection error of a whole test module
    if (
        passed_at_base is not None
        and nid not in passed_at_base
        and not (collected and any(p.startswith(nid + "::") for p in passed_at_base))
    ):
        return regression("did not pass at the base revision: the change did not break it")
    err = f"{outcome.message}\n{outcome.longrepr}"
    path, _ = split_nodeid(nid)
    src = test_sources.get(path, b"")
    node = find_test(src, nid) if src else None
    ids = identifiers(node) if node is not None else set()
    if src:
        # Module-level imports are part of what a test uses.
        ids |= {node_text(n) for n in walk(parse(src).root_node) if n.type in ("identifier", "dotted_name")}

    # 1. A renamed or moved symbol or module.
    renames = changes.renames()
    missing = [m.group(1) for rx in _MISSING_NAME for m in rx.finditer(err)]
    innermost = outcome.frames[-1][0] if outcome.frames else ""
    in_library = bool(innermost) and not is_test_path(innermost)
    for name in missing:
        c = renames.get(name)
        if c is not None and c.kind != "module_move":
            if in_library:
                return regression(
                    f"the library itself still uses {c.old} (renamed to {c.new}): a missed rename"
                )
            if not re.search(rf"\b{re.escape(name)}\b", src.decode("utf-8", "replace")):
                return regression(f"{name} is not used by the test file: the library lost it")
            verb = "moved" if c.kind == "move" else "renamed"
            return Classification(nid, "obsolete", f"uses {c.old}, {verb} to {c.new}", c, "rename")
        removed = [x for x in changes.of_kind("removed") if x.old_name == name]
        if removed:
            return regression(f"uses {removed[0].old}, which was removed with no replacement")
    for m in _NO_MODULE.finditer(err):
        mod = m.group(1)
        for c in changes.of_kind("module_move", "move"):
            if c.kind == "module_move" and (
                c.old == mod or c.old.startswith(mod + ".") or mod.startswith(c.old)
            ):
                return Classification(
                    nid, "obsolete", f"imports module {c.old}, moved to {c.new}", c, "rename"
                )

    # 2. An old signature.
    for m in _SIG_ERR.finditer(err):
        called = m.group(1).split(".")
        fname = called[-2] if called[-1] == "__init__" and len(called) > 1 else called[-1]
        for c in changes.of_kind("signature"):
            if c.new_name == fname or (c.new_def is not None and c.new_def.qualname == ".".join(called)):
                if in_library:
                    return regression(f"TypeError calling {fname} inside the library, not from the test")
                return Classification(
                    nid,
                    "obsolete",
                    f"calls {c.new} with its old signature ({c.signature.summary() if c.signature else ''})",
                    c,
                    "signature",
                )

    # A reordered signature breaks positional calls silently (wrong values, odd errors): only direct callers.
    if node is not None:
        called = {call_name(n) for n in walk(node) if n.type == "call"}
        for c in changes.of_kind("signature"):
            if c.signature is not None and c.signature.reordered and c.new_name in called:
                return Classification(
                    nid,
                    "obsolete",
                    f"calls {c.new} with its old parameter order ({c.signature.summary()})",
                    c,
                    "signature",
                )

    # 3. An old exception type or message.
    expected = _expected_exceptions(node)
    for c in changes.of_kind("raise"):
        if c.old_def is None or c.new_def is None or not _reaches(ids, c, changes, covered):
            continue
        old_types = {t.rsplit(".", 1)[-1] for t, _ in c.old_def.raises}
        new_types = {t.rsplit(".", 1)[-1] for t, _ in c.new_def.raises}
        gone = (old_types - new_types) & expected
        if gone:
            raised = [t for t in new_types - old_types if re.search(rf"\b{re.escape(t)}\b", err)]
            if raised:
                return Classification(
                    nid,
                    "obsolete",
                    f"expects {', '.join(sorted(gone))}; {c.new} now raises {raised[0]}",
                    c,
                    "exception",
                )
            if not new_types and not c.doc_changed:
                return regression(
                    f"{c.new} no longer raises {', '.join(sorted(gone))}: a lost check looks like a bug"
                )
        if old_types & new_types & expected and ("did not match" in err or "does not match" in err):
            return Classification(
                nid, "obsolete", f"expects the old message of {c.new}'s exception", c, "message"
            )

    # 4. An old value of a changed function.
    if _ASSERT_HINT.search(err) or "AssertionError" in outcome.message:
        candidates = [
            c
            for c in changes.of_kind("return", "body", "signature", "raise")
            if (c.kind != "signature" or (c.signature is not None and c.signature.defaults))
            and _reaches(ids, c, changes, covered)
        ]
        reasons: list[str] = []
        for c in candidates:
            if c.kind == "signature" and c.signature is not None:
                kws = {
                    node_text(k.child_by_field_name("name"))
                    for k in (walk(node) if node is not None else ())
                    if k.type == "keyword_argument"
                }
                passed = {n for n, _, _ in c.signature.defaults if n in kws}
                if passed and len(passed) == len(c.signature.defaults):
                    continue  # the test passes those arguments itself: the default cannot explain it
            ok, why = _intent_for_value(c, changes)
            if ok:
                return Classification(nid, "obsolete", f"asserts an old value: {why}", c, "value")
            reasons.append(why)
        if reasons:
            return regression(reasons[0])
    if not changes.changes:
        return regression("no definition changed since the base revision")
    return regression("the failure is not explained by an intended change")


def classify(
    changes: ChangeSet,
    failing: Sequence[TestOutcome],
    passed_at_base: AbstractSet[str] | None,
    test_sources: Mapping[str, bytes],
    coverage: Mapping[str, frozenset[tuple[str, int]]] | None = None,
) -> dict[str, Classification]:
    """Classify each failing test. `passed_at_base`: node ids that passed on the materialized base tree
    (None when that run was not possible; the evidence then rests on the failure alone). `coverage`: the
    per-test coverage of the failing run on the tree (TestRun.coverage), when measured: it proves that a
    test runs a changed definition even through deep call chains."""
    return {
        o.nodeid: classify_one(o, changes, passed_at_base, test_sources, coverage)
        for o in failing
        if not o.ok
    }
