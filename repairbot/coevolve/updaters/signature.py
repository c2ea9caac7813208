"""Calls adapted to a changed signature: renamed, removed, reordered and added parameters (values for added
required ones come from other call sites)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from repairbot.coevolve.updaters.edits import Replacement, dedupe
from repairbot.models import ChangeSet, DefChange, Snapshot
from repairbot.parsing import call_name, node_text, parse, walk


def value_hints(sources: Iterable[bytes], func: str, param: str, index: int) -> list[tuple[str, bool]]:
    """(value, passed as keyword) for `param` of `func` at other call sites (keyword or at positional
    `index`), most common first; then values passed to any `param=` keyword."""
    exact: Counter[tuple[str, bool]] = Counter()
    loose: Counter[tuple[str, bool]] = Counter()
    for src in sources:
        for n in walk(parse(src).root_node):
            if n.type == "keyword_argument" and node_text(n.child_by_field_name("name")) == param:
                v = node_text(n.child_by_field_name("value"))
                call = n.parent.parent if n.parent is not None else None
                if call is not None and call.type == "call" and call_name(call) == func:
                    exact[(v, True)] += 1
                else:
                    loose[(v, True)] += 1
            elif n.type == "call" and call_name(n) == func:
                args = n.child_by_field_name("arguments")
                pos = [
                    a
                    for a in (args.named_children if args else [])
                    if a.type not in ("keyword_argument", "comment")
                ]
                if 0 <= index < len(pos) and not any("splat" in a.type for a in pos):
                    exact[(node_text(pos[index]), False)] += 1
    return [v for v, _ in exact.most_common()] + [v for v, _ in loose.most_common() if v not in exact]


def signature_edits(
    src: bytes, change: DefChange, hints: Mapping[str, tuple[str, bool]]
) -> list[Replacement]:
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
    out: list[Replacement] = []
    for call in walk(parse(src).root_node):
        if call.type != "call" or call_name(call) != name:
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
            bound[old_pos[i]] = node_text(a)
            order.append(old_pos[i])
        kw_order: list[str] = []
        for a in items:
            if a.type == "keyword_argument":
                k = node_text(a.child_by_field_name("name"))
                bound[k] = node_text(a.child_by_field_name("value"))
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
        if new_text.replace(" ", "") != node_text(args).replace(" ", "").replace("\n", "").rstrip(",)") + ")":
            if (
                "\n" in node_text(args)
                and not kw_order
                and positional == items
                and set(new_bound) == set(bound)
            ):
                continue
            out.append(Replacement(args.start_byte, args.end_byte, new_text.encode()))
    return dedupe(out)


def signature_hints(
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
