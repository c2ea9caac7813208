"""The "tests" generator: updates of obsolete tests (test co-evolution).

It reads `ctx.extras["changes"]` (a ChangeSet, computed once per job by repairbot.changes.extract) and
`ctx.extras["classifications"]` (nodeid -> Classification; computed here when absent), and proposes byte-range
edits of test files for the tests judged obsolete: renamed/moved symbols and modules, calls adapted to new
signatures, expected values replaced by the new observed values, expected exception types and patterns.

Observed values come from the failure text (pytest's `assert 5 == 4`, unittest's `5 != 4`). When that text
is truncated or not a literal, an optional hook `ctx.extras["run_tests"]` lets the generator observe it:
    run_tests(files: Mapping[str, bytes], nodeids: Sequence[str]) -> TestRun
runs `nodeids` on the job's snapshot with `files` overlaid (new bytes per path) and returns the outcomes. The
generator overlays a *probe* version of the test whose failing assertion raises
`AssertionError("REPAIRBOT_OBSERVED <json>")` carrying `repr()` of the checked value.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from tree_sitter import Node

from repairbot.changes.classify import classify, split_nodeid, test_node
from repairbot.changes.model import ChangeSet, Classification, DefChange
from repairbot.changes.pyast import parse, text, walk
from repairbot.generate.base import GenerationContext
from repairbot.models import Candidate, Edit, Snapshot, TestOutcome, TestRun

RunTests = Callable[[Mapping[str, bytes], Sequence[str]], TestRun]


@dataclass(frozen=True, slots=True)
class _Repl:
    start: int
    end: int
    text: bytes


def apply_edits(src: bytes, edits: Iterable[_Repl | Edit]) -> bytes:
    out = src
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: e.start] + e.text + out[e.end :]
    return out


def _dedupe(repls: list[_Repl]) -> list[_Repl]:
    """Drop overlapping replacements (first wins) so edits stay well-defined."""
    out: list[_Repl] = []
    for r in repls:
        if all(r.end <= o.start or r.start >= o.end for o in out):
            out.append(r)
    return out


# ---------------------------------------------------------------- renames


def rename_edits(src: bytes, change: DefChange) -> list[_Repl]:
    """Edits of one test file for a renamed or moved symbol or module."""
    root = parse(src).root_node
    out: list[_Repl] = []
    if change.kind == "module_move":
        old, new = change.old, change.new
        for n in walk(root):
            if n.type == "dotted_name":
                t = text(n)
                if t == old or t.startswith(old + "."):
                    out.append(_Repl(n.start_byte, n.end_byte, (new + t[len(old) :]).encode()))
            elif (
                n.type == "attribute"
                and text(n) == old
                and n.parent is not None
                and n.parent.type != "attribute"
            ):
                out.append(_Repl(n.start_byte, n.end_byte, new.encode()))
        out += _dotted_string_edits(root, old, new)
        return _dedupe(out)
    old_name, new_name = change.old_name, change.new_name
    is_method = change.new_def is not None and change.new_def.kind == "method"
    old_mod = change.old.rsplit(".", 1)[0] if change.old_def is not None else ""
    new_mod = change.new.rsplit(".", 1)[0] if change.new_def is not None else ""
    if change.old_def is not None and "." in change.old_def.qualname:
        old_mod = change.old[: -len(change.old_def.qualname) - 1]
        new_mod = change.new[: -len(change.new_def.qualname) - 1] if change.new_def is not None else new_mod
    for n in walk(root):
        if n.type == "import_from_statement" and change.kind == "move":
            mod = n.child_by_field_name("module_name")
            names = [c for c in n.children_by_field_name("name")]
            hit = [c for c in names if _imported_name(c) == old_name]
            if mod is not None and text(mod) == old_mod and hit:
                if len(names) == 1:
                    out.append(_Repl(mod.start_byte, mod.end_byte, new_mod.encode()))
                    if old_name != new_name:
                        ident = _first_ident(hit[0])
                        out.append(_Repl(ident.start_byte, ident.end_byte, new_name.encode()))
                else:
                    # Drop the name from this import and import it from its new module on the next line.
                    c = hit[0]
                    start, end = c.start_byte, c.end_byte
                    prev, nxt = c.prev_sibling, c.next_sibling
                    if nxt is not None and nxt.type == ",":
                        end = nxt.end_byte
                        while end < len(src) and src[end : end + 1] in (b" ", b"\t"):
                            end += 1
                    elif prev is not None and prev.type == ",":
                        start = prev.start_byte
                    out.append(_Repl(start, end, b""))
                    alias = text(hit[0])
                    alias = alias.replace(old_name, new_name, 1) if old_name != new_name else alias
                    nl = b"\r\n" if b"\r\n" in src else b"\n"
                    indent = src[src.rfind(b"\n", 0, n.start_byte) + 1 : n.start_byte]
                    line = nl + indent + f"from {new_mod} import {alias}".encode()
                    out.append(_Repl(n.end_byte, n.end_byte, line))
            continue
        if n.type != "identifier" or text(n) != old_name or old_name == new_name:
            continue
        parent = n.parent
        if parent is None:
            continue
        if parent.type == "keyword_argument" and parent.child_by_field_name("name") == n:
            continue
        if (
            parent.type in ("function_definition", "class_definition")
            and parent.child_by_field_name("name") == n
        ):
            continue  # a test's own definition with the same name
        is_attr = parent.type == "attribute" and parent.child_by_field_name("attribute") == n
        if is_method and not is_attr:
            continue
        if parent.type == "dotted_name" and change.kind == "move":
            continue
        out.append(_Repl(n.start_byte, n.end_byte, new_name.encode()))
    if change.kind == "move":
        # `import old_mod` + `old_mod.name` → `new_mod.name` (module attribute access).
        for n in walk(root):
            if n.type == "attribute" and text(n) == f"{old_mod}.{old_name}":
                out.append(_Repl(n.start_byte, n.end_byte, f"{new_mod}.{new_name}".encode()))
        if any(r.text.startswith(new_mod.encode() + b".") for r in out) and not _imports_module(
            root, new_mod
        ):
            imp = _last_import(root)
            if imp is not None:
                nl = b"\r\n" if b"\r\n" in src else b"\n"
                out.append(_Repl(imp.end_byte, imp.end_byte, nl + f"import {new_mod}".encode()))
    if change.old_def is not None and change.new_def is not None and change.old != change.new:
        out += _dotted_string_edits(root, change.old, change.new)
    return _dedupe(out)


def _dotted_string_edits(root: Node, old: str, new: str) -> list[_Repl]:
    """Dotted paths in strings (`mock.patch("pkg.mod.func")`, `importlib.import_module("pkg.mod")`) that
    name the old module or symbol."""
    out: list[_Repl] = []
    for n in walk(root):
        if n.type != "string_content":
            continue
        t = text(n)
        if re.fullmatch(r"[\w.]+", t) and (t == old or t.startswith(old + ".")):
            out.append(_Repl(n.start_byte, n.end_byte, (new + t[len(old) :]).encode()))
    return out


def _imported_name(n: Node) -> str:
    return text(_first_ident(n))


def _first_ident(n: Node) -> Node:
    if n.type == "aliased_import":
        n = n.child_by_field_name("name") or n
    if n.type == "dotted_name" and n.named_children:
        return n.named_children[-1]
    return n


def _imports_module(root: Node, mod: str) -> bool:
    return any(n.type == "import_statement" and mod in text(n).split() for n in root.named_children)


def _last_import(root: Node) -> Node | None:
    last = None
    for n in root.named_children:
        if n.type in ("import_statement", "import_from_statement", "future_import_statement"):
            last = n
    return last


# ---------------------------------------------------------------- signatures


def _call_name(call: Node) -> str:
    fn = call.child_by_field_name("function")
    if fn is None:
        return ""
    if fn.type == "attribute":
        return text(fn.child_by_field_name("attribute"))
    return text(fn)


def value_hints(sources: Iterable[bytes], func: str, param: str, index: int) -> list[tuple[str, bool]]:
    """(value, passed as keyword) for `param` of `func` at other call sites (keyword or at positional
    `index`), most common first; then values passed to any `param=` keyword."""
    exact: Counter[tuple[str, bool]] = Counter()
    loose: Counter[tuple[str, bool]] = Counter()
    for src in sources:
        for n in walk(parse(src).root_node):
            if n.type == "keyword_argument" and text(n.child_by_field_name("name")) == param:
                v = text(n.child_by_field_name("value"))
                call = n.parent.parent if n.parent is not None else None
                if call is not None and call.type == "call" and _call_name(call) == func:
                    exact[(v, True)] += 1
                else:
                    loose[(v, True)] += 1
            elif n.type == "call" and _call_name(n) == func:
                args = n.child_by_field_name("arguments")
                pos = [
                    a
                    for a in (args.named_children if args else [])
                    if a.type not in ("keyword_argument", "comment")
                ]
                if 0 <= index < len(pos) and not any("splat" in a.type for a in pos):
                    exact[(text(pos[index]), False)] += 1
    return [v for v, _ in exact.most_common()] + [v for v, _ in loose.most_common() if v not in exact]


def signature_edits(src: bytes, change: DefChange, hints: Mapping[str, tuple[str, bool]]) -> list[_Repl]:
    """Adapt every call of the changed function in `src` to its new signature."""
    sig = change.signature
    if sig is None or change.new_def is None or change.old_def is None:
        return []
    name = change.new_name
    old_params = change.old_def.params
    new_params = change.new_def.params
    renamed = dict(sig.renamed)
    removed = {p.name for p in sig.removed}
    old_pos = [p.name for p in old_params if p.kind in ("pos", "posonly")]
    old_varargs = any(p.kind == "varargs" for p in old_params)
    out: list[_Repl] = []
    for call in walk(parse(src).root_node):
        if call.type != "call" or _call_name(call) != name:
            continue
        args = call.child_by_field_name("arguments")
        if args is None or args.type != "argument_list":
            continue
        items = [a for a in args.named_children if a.type != "comment"]
        if any(a.type in ("list_splat", "dictionary_splat") for a in items):
            continue
        positional = [a for a in items if a.type != "keyword_argument"]
        if len(positional) > len(old_pos) and not old_varargs:
            continue  # already the new shape (or not ours)
        bound: dict[str, str] = {}
        order: list[str] = []
        for i, a in enumerate(positional):
            if i >= len(old_pos):
                break
            bound[old_pos[i]] = text(a)
            order.append(old_pos[i])
        kw_order: list[str] = []
        for a in items:
            if a.type == "keyword_argument":
                k = text(a.child_by_field_name("name"))
                bound[k] = text(a.child_by_field_name("value"))
                kw_order.append(k)
        # Apply renames/removals, then lay the values out in the new order.
        new_bound: dict[str, str] = {}
        as_keyword: set[str] = set()
        for k, v in bound.items():
            k2 = renamed.get(k, k)
            if k in removed:
                continue
            new_bound[k2] = v
        for p in new_params:
            if p.required and p.name not in new_bound:
                hint = hints.get(p.name)
                if hint is None:
                    break
                new_bound[p.name] = hint[0]
                if hint[1]:
                    as_keyword.add(p.name)
        parts: list[str] = []
        positional_done = False
        used: set[str] = set()
        positional_names = {renamed.get(n, n) for n in order}
        for p in new_params:
            if p.kind not in ("pos", "posonly") or positional_done:
                break
            if (
                p.name in new_bound
                and p.name not in as_keyword
                and (p.name in positional_names or p.required)
            ):
                parts.append(new_bound[p.name])
                used.add(p.name)
            else:
                positional_done = True
        kw_names = [renamed.get(k, k) for k in kw_order] + [k for k in new_bound if k not in used]
        seen: set[str] = set()
        for k in kw_names:
            if k in used or k in seen or k not in new_bound:
                continue
            seen.add(k)
            parts.append(f"{k}={new_bound[k]}")
        new_text = "(" + ", ".join(parts) + ")"
        if new_text.replace(" ", "") != text(args).replace(" ", "").replace("\n", "").rstrip(",)") + ")":
            if "\n" in text(args) and not kw_order and positional == items and set(new_bound) == set(bound):
                continue
            out.append(_Repl(args.start_byte, args.end_byte, new_text.encode()))
    return _dedupe(out)


# ---------------------------------------------------------------- expected values


_OBSERVED_PROBE = re.compile(r"REPAIRBOT_OBSERVED (\".*?(?<!\\)\")")


_TRUNCATED = re.compile(r"\[\d+ chars\]|\.\.\.|…")


def _literal(s: str) -> tuple[bool, object]:
    s = s.strip()
    # pytest's saferepr and unittest's shortened reprs cut long values ("abc...xyz", "[12 chars]"): such a
    # repr still parses, but it is not the value.
    if len(s) > 60 and _TRUNCATED.search(s):
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
                if _literal(left)[0] and _literal(right)[0]:
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


def failing_line(outcome: TestOutcome, path: str) -> int | None:
    """The line of `path` where `outcome` failed (its innermost frame there)."""
    for p, line in reversed(outcome.frames):
        if p == path:
            return line
    found = re.findall(rf"^{re.escape(path)}:(\d+): ", outcome.longrepr, re.M)
    return int(found[-1]) if found else None


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
        or text(fn.child_by_field_name("attribute")) not in _EQUAL_METHODS
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
        and _literal(text(n))[0]
    )


def _approx_arg(n: Node) -> Node | None:
    if n.type == "call" and text(n.child_by_field_name("function")).endswith("approx"):
        args = n.child_by_field_name("arguments")
        if args is not None and args.named_children and _is_literal(args.named_children[0]):
            return args.named_children[0]
    return None


def _depends(n: Node, fn: Node, names: set[str]) -> bool:
    """Does the expression `n` (inside test `fn`) depend on one of `names`, directly or through locals?"""
    ids = {text(x) for x in walk(n) if x.type == "identifier"}
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
                and text(left) in ids
                and a.start_byte < n.start_byte
                and {text(x) for x in walk(right) if x.type == "identifier"} & names
            ):
                return True
        if a.type in ("with_item", "as_pattern"):
            # `with f(...) as x` / `with pytest.raises(E) as exc`
            alias = a.child_by_field_name("alias")
            if alias is not None and text(alias) in ids:
                return True
    return False


def _param_row_edit(src: bytes, fn: Node, nodeid: str, argname: str, observed: object) -> _Repl | None:
    """In `@pytest.mark.parametrize("a, expected", [...])`, the `expected` cell of the row of `nodeid`."""
    m = re.search(r"\[(.*)\]$", nodeid)
    if m is None:
        return None
    pid = m.group(1)
    deco = fn.parent
    if deco is None or deco.type != "decorated_definition":
        return None
    for d in deco.named_children:
        if d.type != "decorator" or "parametrize" not in text(d):
            continue
        call = d.named_children[0] if d.named_children else None
        args = call.child_by_field_name("arguments") if call is not None and call.type == "call" else None
        if args is None or len(args.named_children) < 2:
            continue
        ok, names_v = _literal(text(args.named_children[0]))
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
            if kw.type == "keyword_argument" and text(kw.child_by_field_name("name")) == "ids":
                ok_ids, ids_v = _literal(text(kw.child_by_field_name("value")))
                if ok_ids and isinstance(ids_v, (list, tuple)):
                    explicit = [str(x) for x in ids_v]
        for i, row in enumerate(rows.named_children):
            cells = row.named_children if (row.type == "tuple" and len(names) > 1) else [row]
            rid: str | None = explicit[i] if explicit is not None and i < len(explicit) else None
            if row.type == "call" and text(row.child_by_field_name("function")).endswith("param"):
                pa = row.child_by_field_name("arguments")
                cells = [c for c in (pa.named_children if pa else []) if c.type != "keyword_argument"]
                for kw in pa.named_children if pa else []:
                    if kw.type == "keyword_argument" and text(kw.child_by_field_name("name")) == "id":
                        ok_id, id_v = _literal(text(kw.child_by_field_name("value")))
                        rid = str(id_v) if ok_id else rid
            if len(cells) != len(names):
                continue
            if rid is None:
                rid = _param_id(cells, names, i)
            # Stacked parametrize decorators join their ids with "-".
            if pid == rid or pid.startswith(rid + "-") or pid.endswith("-" + rid) or f"-{rid}-" in pid:
                cell = cells[col]
                return _Repl(cell.start_byte, cell.end_byte, format_like(observed, text(cell)).encode())
    return None


def _param_id(cells: Sequence[Node], names: Sequence[str], i: int) -> str:
    parts = []
    for c, n in zip(cells, names, strict=False):
        ok, v = _literal(text(c))
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
    src: bytes, outcome: TestOutcome, path: str, changed_names: set[str], observed: str | None = None
) -> tuple[_Repl | None, str]:
    """The edit replacing the expected value of the failing equality assertion by the observed one.
    Returns (edit or None, why not)."""
    fn = test_node(src, outcome.nodeid)
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
    pair = observed_pair(err) if observed is None else (observed, "")
    if pair is None:
        return None, "observed value not in the failure text"
    # The expected side is the literal (or approx(literal), or a parametrized name); the other side must
    # depend on the changed code.
    for exp, act, act_repr_idx in ((right, left, 0), (left, right, 1)):
        if not _depends(act, fn, changed_names):
            continue
        act_repr = pair[act_repr_idx] if pair[1] != "" else pair[0]
        ok, val = _literal(act_repr)
        if not ok:
            continue
        target = _approx_arg(exp) or (exp if _is_literal(exp) else None)
        if target is not None:
            return _Repl(target.start_byte, target.end_byte, format_like(val, text(target)).encode()), ""
        if exp.type == "identifier":
            name = text(exp)
            # A local `expected = <literal>` before the assertion.
            for a in walk(fn):
                if (
                    a.type == "assignment"
                    and text(a.child_by_field_name("left")) == name
                    and a.end_byte <= stmt.start_byte
                ):
                    r = a.child_by_field_name("right")
                    if r is not None:
                        t = _approx_arg(r) or (r if _is_literal(r) else None)
                        if t is not None:
                            return _Repl(t.start_byte, t.end_byte, format_like(val, text(t)).encode()), ""
            rep = _param_row_edit(src, fn, outcome.nodeid, name, val)
            if rep is not None:
                return rep, ""
    return None, "the expected side is not a literal, or the checked value does not depend on the change"


def probe_source(src: bytes, outcome: TestOutcome, path: str) -> bytes | None:
    """A copy of the test file whose failing equality assertion reports `repr()` of its left (actual) side."""
    fn = test_node(src, outcome.nodeid)
    line = failing_line(outcome, path)
    if fn is None or line is None:
        return None
    stmt = _statement_at(fn, line)
    sides = _sides(stmt) if stmt is not None else None
    if stmt is None or sides is None:
        return None
    actual = text(sides[0])
    if _is_literal(sides[0]) or _approx_arg(sides[0]) is not None:
        actual = text(sides[1])
    probe = (
        f"raise AssertionError('REPAIRBOT_OBSERVED ' + __import__('json').dumps(repr({actual})))"
    ).encode()
    return src[: stmt.start_byte] + probe + src[stmt.end_byte :]


# ---------------------------------------------------------------- exceptions


_RAISES_FUNCS = ("raises", "assertRaises", "assertRaisesRegex", "assertRaisesRegexp")


def exception_edits(src: bytes, fn: Node, old_types: set[str], new_type: str) -> list[_Repl]:
    out: list[_Repl] = []
    for n in walk(fn):
        if n.type == "call" and text(n.child_by_field_name("function")).endswith(_RAISES_FUNCS):
            args = n.child_by_field_name("arguments")
            if args is None or not args.named_children:
                continue
            first = args.named_children[0]
            targets = first.named_children if first.type == "tuple" else [first]
            for t in targets:
                if text(t).rsplit(".", 1)[-1] in old_types:
                    out.append(_Repl(t.start_byte, t.end_byte, new_type.encode()))
    return out


_REGEX_MISMATCH = [
    re.compile(
        r"(?:Regex|Expected regex): (?P<pat>'.*'|\".*\")\s*\n\s*(?:E\s+)?"
        r"(?:Input|Actual message): (?P<inp>'.*'|\".*\")"
    ),
    re.compile(r"AssertionError: \"(?P<pat>.*)\" does not match \"(?P<inp>.*)\""),
]


def regex_escape(s: str) -> str:
    """Escape only what is special in a Python regex outside a character class (readable patterns)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", s)


def message_edits(src: bytes, fn: Node, err: str) -> list[_Repl]:
    """Update `match=` / assertRaisesRegex patterns to the new exception message."""
    new_msg: str | None = None
    for rx in _REGEX_MISMATCH:
        m = rx.search(err)
        if m:
            inp = m.group("inp")
            ok, v = _literal(inp)
            new_msg = v if ok and isinstance(v, str) else inp.strip("'\"")
            break
    if new_msg is None:
        return []
    out: list[_Repl] = []
    for n in walk(fn):
        if n.type != "call" or not text(n.child_by_field_name("function")).endswith(_RAISES_FUNCS):
            continue
        args = n.child_by_field_name("arguments")
        if args is None:
            continue
        pat: Node | None = None
        for a in args.named_children:
            if a.type == "keyword_argument" and text(a.child_by_field_name("name")) in (
                "match",
                "expected_regex",
            ):
                pat = a.child_by_field_name("value")
        if pat is None and text(n.child_by_field_name("function")).endswith(("Regex", "Regexp")):
            pos = [a for a in args.named_children if a.type != "keyword_argument"]
            pat = pos[1] if len(pos) > 1 else None
        if pat is None or pat.type != "string":
            continue
        escaped = regex_escape(new_msg)
        q = "'" if text(pat).endswith("'") else '"'
        literal = (
            f"r{q}{escaped}{q}" if "\\" in escaped and q not in escaped else format_like(escaped, text(pat))
        )
        out.append(_Repl(pat.start_byte, pat.end_byte, literal.encode()))
    return out


# ---------------------------------------------------------------- the generator


def _changed_names(changes: ChangeSet) -> set[str]:
    names = {c.new_name for c in changes.changes if c.new}
    for c in changes.changes:
        if c.new_def is not None and c.new_def.kind == "method":
            names.add(c.new.rsplit(".", 2)[-2])
    return names


def update_candidates(
    snapshot: Snapshot,
    changes: ChangeSet,
    failing: Sequence[TestOutcome],
    classes: Mapping[str, Classification],
    test_files: Sequence[str],
    observed: Mapping[str, str] | None = None,
) -> list[Candidate]:
    """Candidate edits of test files for the obsolete tests among `failing`, best first.

    One candidate per test file gathers every update that file needs (renames and signatures file-wide,
    values/exceptions per test); the self-debugging loop reruns the generator on the partially fixed
    snapshot for what is left.
    """
    obsolete = [
        o for o in failing if classes.get(o.nodeid) is not None and classes[o.nodeid].kind == "obsolete"
    ]
    by_file: dict[str, list[tuple[TestOutcome, Classification]]] = {}
    for o in obsolete:
        by_file.setdefault(split_nodeid(o.nodeid)[0], []).append((o, classes[o.nodeid]))
    names = _changed_names(changes)
    out: list[Candidate] = []
    for path, items in by_file.items():
        try:
            src = snapshot.read(path)
        except OSError:
            continue
        whole = _file_candidate(snapshot, changes, path, src, items, test_files, names, observed)
        if whole is not None:
            out.append(whole)
        # Per-test alternatives: one wrong update must not sink the others (partial fixes are kept).
        if len(items) > 1:
            for item in items:
                alt = _file_candidate(snapshot, changes, path, src, [item], test_files, names, observed)
                if alt is not None and (whole is None or alt.edits != whole.edits):
                    out.append(replace(alt, score=alt.score - 0.1))
    return out


def _file_candidate(
    snapshot: Snapshot,
    changes: ChangeSet,
    path: str,
    src: bytes,
    items: Sequence[tuple[TestOutcome, Classification]],
    test_files: Sequence[str],
    names: set[str],
    observed: Mapping[str, str] | None,
) -> Candidate | None:
    repls: list[_Repl] = []
    evidence: list[str] = []
    reasons: list[str] = []
    line = 0
    seen_changes: set[int] = set()
    for o, cl in items:
        c = cl.change
        err = f"{o.message}\n{o.longrepr}"
        fn = test_node(src, o.nodeid)
        if c is None:
            continue
        if cl.reason == "rename" and id(c) not in seen_changes:
            seen_changes.add(id(c))
            repls += rename_edits(src, c)
            # Other renames of the same change set are likely needed by this file too.
            for other in changes.of_kind("rename", "move", "module_move"):
                if other is not c and re.search(
                    rf"\b{re.escape(other.old_name)}\b", src.decode("utf-8", "replace")
                ):
                    repls += rename_edits(src, other)
        elif cl.reason == "signature" and id(c) not in seen_changes:
            seen_changes.add(id(c))
            hints = _signature_hints(snapshot, c, test_files, changes)
            repls += signature_edits(src, c, hints)
        elif cl.reason == "value":
            obs = observed.get(o.nodeid) if observed else None
            rep, _why = value_edit(src, o, path, names, obs)
            if rep is None:
                rep, _why = value_edit(src, o, path, set(), obs)
            if rep is not None:
                repls.append(rep)
        elif cl.reason == "exception" and fn is not None and c.old_def is not None and c.new_def is not None:
            old_types = {t.rsplit(".", 1)[-1] for t, _ in c.old_def.raises}
            new_types = [t for t, _ in c.new_def.raises if t.rsplit(".", 1)[-1] not in old_types]
            raised = [t for t in new_types if re.search(rf"\b{re.escape(t.rsplit('.', 1)[-1])}\b", err)]
            if raised:
                repls += exception_edits(src, fn, old_types, raised[0].rsplit(".", 1)[-1])
                repls += _import_for(src, raised[0].rsplit(".", 1)[-1], c, snapshot)
        elif cl.reason == "message" and fn is not None:
            repls += message_edits(src, fn, err)
        evidence.append(f"{o.nodeid}: {cl.evidence}")
        reasons.append(cl.reason)
        if fn is not None and not line:
            line = fn.start_point.row + 1
    repls = _dedupe(repls)
    if not repls:
        return None
    new = apply_edits(src, repls)
    if new == src or parse(new).root_node.has_error:
        return None
    # One edit spanning the changed region keeps candidates simple to apply and diff.
    start = min(r.start for r in repls)
    end_old = max(r.end for r in repls)
    end_new = end_old + (len(new) - len(src))
    return Candidate(
        edits=(Edit(path, start, end_old, new[start:end_new]),),
        generator="tests",
        rule=f"update-{'+'.join(sorted(set(reasons)))}",
        score=0.9 if set(reasons) <= {"rename", "signature"} else 0.8,
        description=f"update obsolete tests in {path}: " + ", ".join(sorted(set(reasons))),
        kind="test",
        line=line,
        evidence="; ".join(evidence)[:1000],
    )


def _import_for(src: bytes, exc: str, change: DefChange, snapshot: Snapshot) -> list[_Repl]:
    """An import of the exception the test must now name, unless it is a builtin or already in scope:
    added to an existing `from mod import ...` whose module defines it, else a new `from mod import exc`
    line, where `mod` is where the changed code gets it from (its own imports) or the changed module."""
    import builtins

    if hasattr(builtins, exc) or re.search(rf"\b{re.escape(exc)}\b", src.decode("utf-8", "replace")):
        return []
    root = parse(src).root_node
    for n in root.named_children:
        if n.type == "import_from_statement":
            names = n.children_by_field_name("name")
            mod = text(n.child_by_field_name("module_name"))
            module_src = _module_source(snapshot, mod) if names else None
            if module_src is not None and re.search(rf"^class {re.escape(exc)}\b", module_src, re.M):
                last = names[-1]
                return [_Repl(last.end_byte, last.end_byte, f", {exc}".encode())]
    module = ""
    try:
        changed_src = snapshot.read(change.path).decode("utf-8", "replace")
    except OSError:
        changed_src = ""
    m = re.search(rf"^from\s+([\w.]+)\s+import\s+[^\n]*\b{re.escape(exc)}\b", changed_src, re.M)
    if m and not m.group(1).startswith("."):
        module = m.group(1)
    elif re.search(rf"^class {re.escape(exc)}\b", changed_src, re.M) and change.new_def is not None:
        module = change.new[: -len(change.new_def.qualname) - 1]
    anchor = _last_import(root)
    if not module or anchor is None:
        return []
    nl = b"\r\n" if b"\r\n" in src else b"\n"
    return [_Repl(anchor.end_byte, anchor.end_byte, nl + f"from {module} import {exc}".encode())]


def _module_source(snapshot: Snapshot, mod: str) -> str | None:
    rel = mod.replace(".", "/")
    for cand in (f"{rel}.py", f"{rel}/__init__.py", f"src/{rel}.py", f"src/{rel}/__init__.py"):
        try:
            return snapshot.read(cand).decode("utf-8", "replace")
        except OSError:
            continue
    return None


def _signature_hints(
    snapshot: Snapshot, change: DefChange, test_files: Sequence[str], changes: ChangeSet
) -> dict[str, tuple[str, bool]]:
    if change.signature is None or change.new_def is None:
        return {}
    sources: list[bytes] = []
    for p in [*changes.new_sources, *test_files]:
        try:
            sources.append(snapshot.read(p))
        except OSError:
            continue
    hints: dict[str, tuple[str, bool]] = {}
    new_params = change.new_def.params
    for param in change.signature.added:
        if not param.required:
            continue
        idx = [q.name for q in new_params].index(param.name)
        vals = value_hints(sources, change.new_name, param.name, idx)
        if vals:
            hints[param.name] = vals[0]
    return hints


def observe_values(
    snapshot: Snapshot,
    failing: Sequence[TestOutcome],
    classes: Mapping[str, Classification],
    run_tests: RunTests,
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


class TestsGenerator:
    """Generator "tests": updates of obsolete tests (see module docstring for the extras it reads)."""

    name = "tests"

    def generate(self, ctx: GenerationContext) -> Iterable[Candidate]:
        changes = ctx.extras.get("changes")
        if not isinstance(changes, ChangeSet):
            return []
        given = ctx.extras.get("classifications")
        classes: dict[str, Classification] = dict(given) if isinstance(given, Mapping) else {}
        # Failures the pipeline has not classified (first round without a classification, or failures exposed
        # by the partial fix of an earlier round, such as a value change behind a rename) are classified here.
        todo = [o for o in ctx.failing if o.nodeid not in classes]
        if todo:
            sources: dict[str, bytes] = {}
            for p in ctx.test_files:
                try:
                    sources[p] = ctx.snapshot.read(p)
                except OSError:
                    continue
            passed = ctx.extras.get("passed_at_base")
            coverage = ctx.extras.get("coverage")
            classes.update(
                classify(
                    changes,
                    todo,
                    passed if isinstance(passed, set) else None,
                    sources,
                    coverage if isinstance(coverage, Mapping) else None,
                )
            )
        observed: dict[str, str] = {}
        run_tests = ctx.extras.get("run_tests")
        if callable(run_tests):
            observed = observe_values(ctx.snapshot, ctx.failing, classes, run_tests)
        return update_candidates(ctx.snapshot, changes, ctx.failing, classes, ctx.test_files, observed)[
            : ctx.limit
        ]


def _register() -> None:
    try:
        from repairbot.generate import registry
    except ImportError:  # the registry is written by another stage; the lead registers us then
        return
    register = getattr(registry, "register", None)
    if callable(register):
        with contextlib.suppress(Exception):  # already registered (re-import)
            register("tests", TestsGenerator)


_register()
