"""Updates driven by what the new code did (models.Observation, recorded by repairbot's pytest plugin): the
values a failing comparison or `assert*` method compared, a mock's actual calls, the message of an exception
that no longer matches its pattern. One edit per failing assertion, all the assertions of a test together.

A run stops a test at its first failing assertion; `observe_tests` reruns the obsolete tests once with each
assertion of theirs under the plugin's `soft()` (on the assertion's own line: no line moves), so one run
observes every obsolete assertion of a test, and the edits of a test are validated together.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping, Sequence

from tree_sitter import Node

from repairbot.coevolve.updaters.edits import Replacement, dedupe
from repairbot.coevolve.updaters.exception import pattern_literal
from repairbot.coevolve.updaters.value import (
    _EQUAL_METHODS,
    _sides,
    _statement_at,
    format_like,
    parse_literal,
    value_edit,
)
from repairbot.models import Call, Classification, Observation, Probe, Snapshot, TestOutcome, Value
from repairbot.parsing import call_name, find_test, node_text, parse, split_nodeid, walk

_MOCK_CHECKS = ("assert_called_with", "assert_called_once_with", "assert_any_call")
_SOFT = b'__import__("_repairbot_plugin").soft()'
_ASSERT_METHOD = re.compile(
    r"^assert(?!Raises|Warns|Logs|NoLogs)\w*$|^assert_(?:called|any_call|has_calls)\w*$"
)
_BEHAVIOURAL = ("value", "message", "exception")


def _assertion_statements(fn: Node) -> list[Node]:
    """The simple assertion statements of a test function: `assert ...`, `self.assert*(...)` and
    `mock.assert_*(...)` calls (not the `with pytest.raises` blocks: those are compound statements)."""
    out: list[Node] = []
    for n in walk(fn):
        if n.type == "assert_statement":
            out.append(n)
        elif n.type == "expression_statement" and n.named_children and n.named_children[0].type == "call":
            f = n.named_children[0].child_by_field_name("function")
            if (
                f is not None
                and f.type == "attribute"
                and _ASSERT_METHOD.match(node_text(f.child_by_field_name("attribute")))
            ):
                out.append(n)
    return out


def _helpers(src: bytes, tests: Sequence[Node]) -> list[Node]:
    """The module-level functions of `src` (not tests) that the `tests` call by name."""
    called = {call_name(n) for t in tests for n in walk(t) if n.type == "call"}
    out: list[Node] = []
    for top in parse(src).root_node.named_children:
        d = top.child_by_field_name("definition") if top.type == "decorated_definition" else top
        if d is not None and d.type == "function_definition":
            name = node_text(d.child_by_field_name("name"))
            if name in called and not name.startswith("test"):
                out.append(d)
    return out


def _enclosing_function(src: bytes, line: int) -> Node | None:
    best: Node | None = None
    for n in walk(parse(src).root_node):
        if n.type == "function_definition" and n.start_point.row + 1 <= line <= n.end_point.row + 1:
            best = n  # pre-order: the innermost comes last
    return best


def soft_probe_source(src: bytes, nodeids: Sequence[str]) -> bytes | None:
    """`src` with each assertion statement of the tests `nodeids` (and of the helpers of the file they
    call) under `soft()`, or None if there is none."""
    spots: set[int] = set()
    tests = [fn for fn in (find_test(src, nid) for nid in nodeids) if fn is not None]
    if any("::" not in nid for nid in nodeids):  # a module that did not import: all of its tests
        tests += [
            n
            for n in walk(parse(src).root_node)
            if n.type == "function_definition" and node_text(n.child_by_field_name("name")).startswith("test")
        ]
    for fn in [*tests, *_helpers(src, tests)]:
        for stmt in _assertion_statements(fn):
            # Only a statement that starts its line can take a prefix (not `x = 1; assert x`).
            line_start = src.rfind(b"\n", 0, stmt.start_byte) + 1
            if src[line_start : stmt.start_byte].strip() == b"":
                spots.add(stmt.start_byte)
    if not spots:
        return None
    out = src
    for at in sorted(spots, reverse=True):
        out = out[:at] + b"with " + _SOFT + b": " + out[at:]
    return out if not parse(out).root_node.has_error else None


def observe_tests(
    snapshot: Snapshot,
    failing: Sequence[TestOutcome],
    classes: Mapping[str, Classification],
    probe: Probe,
) -> dict[str, tuple[Observation, ...]]:
    """The observations of every failing assertion of each behaviourally obsolete test (one probe run per
    test file); tests the probe could not observe are left out (their own run's evidence stands)."""
    by_file: dict[str, list[str]] = {}
    for o in failing:
        cl = classes.get(o.nodeid)
        if cl is not None and cl.kind == "obsolete" and cl.reason in _BEHAVIOURAL:
            by_file.setdefault(split_nodeid(o.nodeid)[0], []).append(o.nodeid)
    out: dict[str, tuple[Observation, ...]] = {}
    for path, nodeids in by_file.items():
        try:
            probe_src = soft_probe_source(snapshot.read(path), nodeids)
        except OSError:
            continue
        if probe_src is None:
            continue
        run = probe({path: probe_src}, nodeids)
        for nid in nodeids:
            res = run.outcome(nid)
            if res is not None and res.observations:
                out[nid] = res.observations
    return out


# ------------------------------------------------------------------------------------------- the edits


def _ref_edit(expected: Node, actual: Value) -> Replacement | None:
    """`Mode.FAST` → `Mode.SAFE` when the new value is another member (attribute) of the same owner."""
    if actual.ref is None or expected.type != "attribute":
        return None
    qualname = actual.ref.split(":", 1)[1]
    if "." not in qualname:
        return None
    owner, member = qualname.rsplit(".", 1)
    obj = expected.child_by_field_name("object")
    attr = expected.child_by_field_name("attribute")
    if obj is None or attr is None or node_text(obj).rsplit(".", 1)[-1] != owner.rsplit(".", 1)[-1]:
        return None
    if node_text(attr) == member:
        return None
    return Replacement(attr.start_byte, attr.end_byte, member.encode())


def _comparison_edit(
    src: bytes, fn: Node, stmt: Node, outcome: TestOutcome, path: str, obs: Observation
) -> Replacement | None:
    if obs.kind == "assert_method":
        left, right = obs.values.get("first"), obs.values.get("second")
    else:
        left, right = obs.values.get("left"), obs.values.get("right")
    if left is None or right is None:
        return None
    sides = _comparison_sides(stmt, obs)
    if sides is None:
        return None
    # The side the test computes is the one whose text is not a literal; the literal side is replaced.
    for exp_node, act in ((sides[1], left), (sides[0], right)):
        rep = _ref_edit(exp_node, act)
        if rep is not None:
            return rep
    # A value with no literal form cannot be written into the test: "<?>" never parses as one.
    pair = (left.source or left.plain or "<?>", right.source or right.plain or "<?>")
    line_outcome = TestOutcome(outcome.nodeid, outcome.outcome, frames=((path, obs.line),))
    rep, _ = value_edit(src, line_outcome, path, set(), pair=pair, fn=fn)
    return rep


# Lazy iterables a function may return instead of the list or tuple it returned before.
_LAZY = {
    "builtins.generator", "builtins.map", "builtins.filter", "builtins.zip", "builtins.range",
    "builtins.reversed", "builtins.enumerate", "builtins.list_iterator", "builtins.tuple_iterator",
    "builtins.dict_keys", "builtins.dict_values", "builtins.dict_items",
}  # fmt: skip


def _shape_edit(stmt: Node, obs: Observation) -> Replacement | None:
    """The checked call now returns a lazy iterable (a generator, a map, a dict view) where it returned a
    list or a tuple: the test materializes it (`list(...)`) and keeps its expected value. This is not a
    change of behaviour: the updated test passes on the old code too (see guards.review_update)."""
    if obs.op not in ("==", *_EQUAL_METHODS) or obs.op in ("assertCountEqual", "assertAlmostEqual"):
        return None
    names = ("first", "second") if obs.kind == "assert_method" else ("left", "right")
    left, right = obs.values.get(names[0]), obs.values.get(names[1])
    sides = _comparison_sides(stmt, obs)
    if left is None or right is None or sides is None:
        return None
    for lazy, other, node in ((left, right, sides[0]), (right, left, sides[1])):
        if lazy.type not in _LAZY and not lazy.type.startswith("itertools."):
            continue
        ok, want = parse_literal(other.source or "<?>", whole=True)
        if ok and type(want) in (list, tuple):
            wrap = type(want).__name__
            return Replacement(node.start_byte, node.end_byte, f"{wrap}({node_text(node)})".encode())
    return None


def _membership_edit(stmt: Node, obs: Observation) -> Replacement | None:
    """`assert "old text" in output` where the output (a string) now says it differently: the literal
    becomes the passage of the output that corresponds to it (the most similar line, the part aligned
    with the old text, out to whole words), so it still checks that part and no more."""
    left, right = obs.values.get("left"), obs.values.get("right")
    cond = stmt.named_children[0] if stmt.type == "assert_statement" and stmt.named_children else None
    if left is None or right is None or cond is None or cond.type != "comparison_operator":
        return None
    target = cond.named_children[0] if len(cond.named_children) == 2 else None
    ok_old, old = parse_literal(left.source or "<?>", whole=True)
    ok_text, text = parse_literal(right.source or "<?>", whole=True)
    if target is None or target.type != "string" or not (ok_old and ok_text):
        return None
    if not isinstance(old, str) or not isinstance(text, str) or not old.strip():
        return None
    best: tuple[float, str] = (0.0, "")
    for line in text.splitlines() or [text]:
        span = _aligned_span(old, line)
        ratio = difflib.SequenceMatcher(None, old, span).ratio() if span else 0.0
        if ratio > best[0]:
            best = (ratio, span)
    ratio, new = best
    if ratio < 0.6:
        return None
    if not new.strip() or new == old or new not in text:
        return None
    return Replacement(target.start_byte, target.end_byte, format_like(new, node_text(target)).encode())


def _aligned_span(old: str, line: str) -> str:
    """The part of `line` aligned with `old`: from its first to its last matching block, widened by what
    `old` has beyond them, out to whole words."""
    blocks = [
        b for b in difflib.SequenceMatcher(None, old, line, autojunk=False).get_matching_blocks() if b.size
    ]
    if not blocks or sum(b.size for b in blocks) * 2 < len(old):
        return ""
    first, last = blocks[0], blocks[-1]
    start = max(0, first.b - first.a)
    end = min(len(line), last.b + last.size + (len(old) - last.a - last.size))
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_") and line[start].isalnum():
        start -= 1
    while end < len(line) and (line[end].isalnum() or line[end] == "_") and line[end - 1].isalnum():
        end += 1
    return line[start:end]


def _comparison_sides(stmt: Node, obs: Observation) -> tuple[Node, Node] | None:
    if obs.kind == "compare" and obs.op in ("is", "=="):
        cond = stmt.named_children[0] if stmt.type == "assert_statement" and stmt.named_children else None
        if cond is not None and cond.type == "comparison_operator" and len(cond.named_children) == 2:
            return cond.named_children[0], cond.named_children[1]
        return None
    if obs.kind == "assert_method" and obs.op in (*_EQUAL_METHODS, "assertIs"):
        return _sides(stmt) if obs.op != "assertIs" else _call_sides(stmt)
    return None


def _call_sides(stmt: Node) -> tuple[Node, Node] | None:
    call = stmt.named_children[0] if stmt.named_children else None
    args = call.child_by_field_name("arguments") if call is not None and call.type == "call" else None
    pos = [a for a in (args.named_children if args else []) if a.type not in ("keyword_argument", "comment")]
    return (pos[0], pos[1]) if len(pos) >= 2 else None


def _arg_text(v: Value, like: str) -> str | None:
    """Source for an argument the code now passes: its literal (a string quoted like `like`), else a name
    the test binds to that very object."""
    if v.source is not None:
        ok, val = parse_literal(v.source, whole=True)
        return format_like(val, like) if ok and isinstance(val, str) else v.source
    names = [n for n in v.names if not n.startswith("@")]
    return names[0] if names else None


def _pick_call(obs: Observation) -> Call | None:
    if not obs.calls or not obs.expected:
        return None
    if obs.op == "assert_called_once_with":
        return obs.calls[0] if len(obs.calls) == 1 else None
    if obs.op == "assert_called_with":
        return obs.calls[-1]
    # assert_any_call: the actual call closest to the expected one
    want = obs.expected[0]

    def score(c: Call) -> tuple[int, int]:
        same = sum(1 for a, b in zip(c.args, want.args, strict=False) if a.repr == b.repr)
        same += sum(1 for k, v in c.kwargs.items() if k in want.kwargs and want.kwargs[k].repr == v.repr)
        return same, -abs(len(c.args) - len(want.args))

    return max(obs.calls, key=score)


def _mock_edit(stmt: Node, obs: Observation) -> Replacement | None:
    """The arguments of `m.assert_called_with(...)` and the like, set to the call the code now makes: an
    argument the test wrote and the code still passes keeps its expression."""
    if obs.op not in _MOCK_CHECKS:
        return None
    actual = _pick_call(obs)
    call = stmt.named_children[0] if stmt.named_children else None
    args = call.child_by_field_name("arguments") if call is not None and call.type == "call" else None
    if actual is None or args is None or args.type != "argument_list":
        return None
    want = obs.expected[0]
    items = [a for a in args.named_children if a.type != "comment"]
    if any(a.type in ("list_splat", "dictionary_splat") for a in items):
        return None
    positional = [a for a in items if a.type != "keyword_argument"]
    keywords = {
        node_text(a.child_by_field_name("name")): a.child_by_field_name("value")
        for a in items
        if a.type == "keyword_argument"
    }
    strings = [n for n in walk(args) if n.type == "string"]
    like = node_text(strings[0]) if strings else "''"
    parts: list[str] = []
    for i, a in enumerate(actual.args):
        if i < len(positional) and i < len(want.args) and want.args[i].repr == a.repr:
            parts.append(node_text(positional[i]))
            continue
        text = _arg_text(a, like)
        if text is None:
            return None
        parts.append(text)
    for k, v in actual.kwargs.items():
        node = keywords.get(k)
        if node is not None and k in want.kwargs and want.kwargs[k].repr == v.repr:
            parts.append(f"{k}={node_text(node)}")
            continue
        text = _arg_text(v, like)
        if text is None:
            return None
        parts.append(f"{k}={text}")
    new = "(" + ", ".join(parts) + ")"
    if new == node_text(args):
        return None
    return Replacement(args.start_byte, args.end_byte, new.encode())


def _raises_call(stmt: Node, line: int) -> Node | None:
    """The `pytest.raises(...)`/`assertRaisesRegex(...)` call of a `with` statement starting at `line`."""
    node: Node | None = stmt
    while node is not None and node.type != "with_statement":
        node = node.parent
    if node is None:
        return None
    for n in walk(node):
        if n.type == "call" and node_text(n.child_by_field_name("function")).endswith(
            ("raises", "assertRaisesRegex", "assertRaisesRegexp", "assertRaises")
        ):
            return n
    return None


def _pattern_edit(fn: Node, obs: Observation) -> Replacement | None:
    """A `match=` / `assertRaisesRegex` pattern set to the new message; `^`/`$` anchors are kept."""
    message = obs.values.get("message")
    if obs.pattern is None or message is None or message.source is None:
        return None
    ok, new_msg = parse_literal(message.source, whole=True)
    if not ok or not isinstance(new_msg, str) or re.search(obs.pattern, new_msg):
        return None
    call = None
    for n in walk(fn):
        if n.type == "with_statement" and n.start_point.row + 1 == obs.line:
            call = _raises_call(n, obs.line)
            break
    if call is None:
        return None
    args = call.child_by_field_name("arguments")
    pat: Node | None = None
    for a in args.named_children if args is not None else ():
        if a.type == "keyword_argument" and node_text(a.child_by_field_name("name")) in (
            "match",
            "expected_regex",
        ):
            pat = a.child_by_field_name("value")
    if pat is None and node_text(call.child_by_field_name("function")).endswith(("Regex", "Regexp")):
        pos = [a for a in (args.named_children if args is not None else ()) if a.type != "keyword_argument"]
        pat = pos[1] if len(pos) > 1 else None
    if pat is None or pat.type != "string":
        return None
    try:
        old = ast.literal_eval(node_text(pat))
    except (ValueError, SyntaxError):
        return None
    if old != obs.pattern:
        return None
    literal = pattern_literal(new_msg, node_text(pat), obs.pattern.startswith("^"), obs.pattern.endswith("$"))
    return Replacement(pat.start_byte, pat.end_byte, literal.encode())


def observed_edits(
    src: bytes, path: str, outcome: TestOutcome, observations: Sequence[Observation]
) -> list[Replacement]:
    """One edit per failing assertion of `outcome` that the observations explain (in `path`)."""
    return evidence_edits(src, path, outcome, observations)[0]


def evidence_edits(
    src: bytes, path: str, outcome: TestOutcome, observations: Sequence[Observation]
) -> tuple[list[Replacement], bool]:
    """`observed_edits`, and whether they only adapt the shape of the result (`list(...)`) rather than an
    expected value: such an update does not have to fail on the old code."""
    test = find_test(src, outcome.nodeid)
    if test is None:
        return [], False
    out: list[Replacement] = []
    shapes = 0
    for obs in observations:
        if obs.path != path:
            continue
        fn = test
        if not test.start_point.row + 1 <= obs.line <= test.end_point.row + 1:
            helper = _enclosing_function(src, obs.line)  # a helper of the file: its edit is shared (once)
            if helper is None:
                continue
            fn = helper
        rep: Replacement | None = None
        if obs.kind == "raises":
            rep = _pattern_edit(fn, obs)
        else:
            stmt = _statement_at(fn, obs.line)
            if stmt is None:
                continue
            if obs.kind == "compare" and obs.op == "in":
                rep = _membership_edit(stmt, obs)
            elif obs.kind in ("compare", "assert_method"):
                rep = _shape_edit(stmt, obs)
                if rep is not None:
                    shapes += 1
                else:
                    rep = _comparison_edit(src, fn, stmt, outcome, path, obs)
            elif obs.kind == "mock":
                rep = _mock_edit(stmt, obs)
        if rep is not None:
            out.append(rep)
    out = dedupe(out)
    return out, bool(out) and shapes == len(out)
