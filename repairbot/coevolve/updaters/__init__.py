"""Updates of obsolete tests (test co-evolution), one module per kind of change: `rename`, `signature`,
`value`, `exception`. `update_candidates` gathers, per test file, every update its obsolete tests need into
one candidate (byte-range edits, DESIGN §8).

The "tests" generator works from `ctx.changes` (the job's ChangeAnalysis) and uses `ctx.probe` to observe
the values that failure messages do not show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from repairbot.coevolve.classify import classify
from repairbot.coevolve.updaters.edits import Replacement, apply_edits, dedupe
from repairbot.coevolve.updaters.exception import exception_edits, import_for, message_edits
from repairbot.coevolve.updaters.observed import (
    evidence_edits,
    observe_tests,
    observed_edits,
    soft_probe_source,
)
from repairbot.coevolve.updaters.rename import rename_edits
from repairbot.coevolve.updaters.signature import signature_edits, signature_hints
from repairbot.coevolve.updaters.value import observe_values, parse_literal, value_edit
from repairbot.models import (
    Candidate,
    ChangeAnalysis,
    ChangeSet,
    Classification,
    Edit,
    GenerationContext,
    Observation,
    Probe,
    Snapshot,
    TestOutcome,
)
from repairbot.parsing import find_test, parse, split_nodeid

_BEHAVIOURAL = ("value", "message", "exception")


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
    observations: Mapping[str, tuple[Observation, ...]] | None = None,
) -> list[Candidate]:
    """Candidate edits of test files for the obsolete tests among `failing`, best first.

    One candidate per test file gathers every update that file needs (renames and signatures file-wide,
    values/exceptions per test); the self-debugging loop reruns the generator on the partially fixed
    snapshot for what is left. `observations`: every failing assertion of a test, as a probe observed
    them (updaters/observed.py); a test's own run evidence otherwise.
    """
    obsolete = [
        o for o in failing if classes.get(o.nodeid) is not None and classes[o.nodeid].kind == "obsolete"
    ]
    by_file: dict[str, list[tuple[TestOutcome, Classification]]] = {}
    for o in obsolete:
        by_file.setdefault(split_nodeid(o.nodeid)[0], []).append((o, classes[o.nodeid]))
    names = _changed_names(changes)
    out: list[Candidate] = []
    wholes: list[Candidate] = []
    for path, items in by_file.items():
        try:
            src = snapshot.read(path)
        except OSError:
            continue
        whole = _file_candidate(
            snapshot, changes, path, src, items, test_files, names, observed, observations
        )
        if whole is not None:
            out.append(whole)
            wholes.append(whole)
        # Per-test alternatives: one wrong update must not sink the others (partial fixes are kept).
        if len(items) > 1:
            for item in items:
                alt = _file_candidate(
                    snapshot, changes, path, src, [item], test_files, names, observed, observations
                )
                if alt is not None and (whole is None or alt.edits != whole.edits):
                    out.append(replace(alt, score=alt.score - 0.1))
    together = _together(wholes)
    if together is not None:
        out.insert(0, together)
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
    observations: Mapping[str, tuple[Observation, ...]] | None = None,
) -> Candidate | None:
    repls: list[Replacement] = []
    evidence: list[str] = []
    reasons: list[str] = []
    line = 0
    seen_changes: set[int] = set()
    for o, cl in items:
        c = cl.change
        err = f"{o.message}\n{o.longrepr}"
        fn = find_test(src, o.nodeid)
        if c is None:
            continue
        seen = (observations or {}).get(o.nodeid) or o.observations
        by_evidence, shape = evidence_edits(src, path, o, seen) if cl.reason in _BEHAVIOURAL else ([], False)
        if by_evidence:
            # What the new code did, assertion by assertion (all the test's failing ones, together).
            repls += by_evidence
        elif cl.reason == "rename" and id(c) not in seen_changes:
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
            hints = signature_hints(snapshot, c, test_files, changes)
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
                repls += import_for(src, raised[0].rsplit(".", 1)[-1], c, snapshot)
        elif cl.reason == "message" and fn is not None:
            repls += message_edits(src, fn, err)
        evidence.append(f"{o.nodeid}: {cl.evidence}")
        reasons.append("shape" if by_evidence and shape else cl.reason)
        if fn is not None and not line:
            line = fn.start_point.row + 1
    repls = dedupe(repls)
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
        score=0.9 if set(reasons) <= {"rename", "signature", "shape"} else 0.8,
        description=f"update obsolete tests in {path}: " + ", ".join(sorted(set(reasons))),
        kind="test",
        line=line,
        evidence="; ".join(evidence)[:1000],
    )


class TestsGenerator:
    """Generator "tests": updates of the tests that `ctx.changes` judged obsolete."""

    name = "tests"

    def generate(self, ctx: GenerationContext) -> Iterable[Candidate]:
        analysis = ctx.changes
        if analysis is None:
            return []
        classes: dict[str, Classification] = dict(analysis.classifications)
        # Failures the pipeline has not classified (failures exposed by the partial fix of an earlier round,
        # such as a value change behind a rename) are classified here.
        todo = [o for o in ctx.failing if o.nodeid not in classes]
        if todo:
            sources: dict[str, bytes] = {}
            for p in ctx.test_files:
                try:
                    sources[p] = ctx.snapshot.read(p)
                except OSError:
                    continue
            coverage = analysis.before.coverage
            classes.update(classify(analysis.changes, todo, analysis.passed_at_base, sources, coverage))
        observed: dict[str, str] = {}
        observations: dict[str, tuple[Observation, ...]] = {}
        if ctx.probe is not None:
            observations = observe_tests(ctx.snapshot, ctx.failing, classes, ctx.probe)
            rest = [o for o in ctx.failing if o.nodeid not in observations and not o.observations]
            observed = observe_values(ctx.snapshot, rest, classes, ctx.probe)
        changes = analysis.changes
        out = update_candidates(
            ctx.snapshot, changes, ctx.failing, classes, ctx.test_files, observed, observations
        )
        if ctx.probe is not None:
            more = _and_then(ctx, analysis, out, ctx.probe)
            together = _together(more + out) if more else None
            out = ([together] if together is not None else []) + more + out
        return out[: ctx.limit]


def _together(cands: Sequence[Candidate]) -> Candidate | None:
    """One change often obsoletes several test files (a renamed class every module imports): updating one
    file alone leaves the others failing to import, which no validation takes for progress. The best
    single-file candidate of each file, as one candidate."""
    best: dict[str, Candidate] = {}
    for c in cands:
        if len(c.edits) == 1 and (c.edits[0].path not in best or c.score > best[c.edits[0].path].score):
            best[c.edits[0].path] = c
    if len(best) < 2:
        return None
    parts = list(best.values())
    return Candidate(
        edits=tuple(e for c in parts for e in c.edits),
        generator="tests",
        rule="+".join(dict.fromkeys(c.rule or "" for c in parts)),
        score=max(c.score for c in parts) + 0.05,
        description=f"update obsolete tests in {len(parts)} files",
        kind="test",
        line=parts[0].line,
        evidence="; ".join(c.evidence for c in parts)[:1000],
    )


def renamed_text(observations: Sequence[Observation], changes: ChangeSet) -> bool:
    """Every failing comparison of a test compares strings that differ only by the renames of the change
    (a message or a traceback that names the renamed class): the rename itself explains the new text."""
    pairs: list[tuple[str, str]] = []
    for c in changes.of_kind("rename", "move", "module_move"):
        if c.old != c.new:
            pairs.append((c.old, c.new))
        if c.kind != "module_move" and c.old_name != c.new_name:
            pairs.append((c.old_name, c.new_name))
    pairs.sort(key=lambda p: -len(p[0]))  # dotted paths before the bare names they end with
    seen = 0
    for o in observations:
        if o.kind not in ("compare", "assert_method"):
            return False
        names = ("first", "second") if o.kind == "assert_method" else ("left", "right")
        values = [o.values.get(n) for n in names]
        texts = [
            parse_literal(v.source, whole=True) if v is not None and v.source else (False, None)
            for v in values
        ]
        if not all(ok and isinstance(t, str) for ok, t in texts):
            return False
        a, b = (str(t) for _, t in texts)
        if not any(_rename_all(x, pairs) == y for x, y in ((a, b), (b, a))):
            return False
        seen += 1
    return seen > 0


def _rename_all(text: str, pairs: Sequence[tuple[str, str]]) -> str:
    for old, new in pairs:
        text = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new, text)
    return text


def _and_then(
    ctx: GenerationContext, analysis: ChangeAnalysis, cands: list[Candidate], probe: Probe
) -> list[Candidate]:
    """A rename or signature update often only uncovers the next obsolete assertion (the value behind the
    import): the updated file's failing tests are probed, what fails there is classified again, and the
    edits the new code's evidence calls for join the same candidate (validated together)."""
    out: list[Candidate] = []
    probed: set[str] = set()
    for cand in cands:
        kinds = set((cand.rule or "").removeprefix("update-").split("+"))
        if not kinds & {"rename", "signature"} or len(cand.edits) != 1 or cand.edits[0].path in probed:
            continue
        if len(probed) >= 4:
            break
        probed.add(cand.edits[0].path)
        edit = cand.edits[0]
        try:
            src = ctx.snapshot.read(edit.path)
        except OSError:
            continue
        new = apply_edits(src, [edit])
        nodeids = [o.nodeid for o in ctx.failing if split_nodeid(o.nodeid)[0] == edit.path]
        probe_src = soft_probe_source(new, nodeids)
        if probe_src is None:
            continue
        run = probe({edit.path: probe_src}, nodeids)
        now = [
            o for o in run.outcomes if not o.ok and split_nodeid(o.nodeid)[0] == edit.path and o.observations
        ]
        if not now:
            continue
        sources: dict[str, bytes] = {}
        for p in ctx.test_files:
            try:
                sources[p] = new if p == edit.path else ctx.snapshot.read(p)
            except OSError:
                continue
        classes = classify(analysis.changes, now, analysis.passed_at_base, sources, analysis.before.coverage)
        repls: list[Replacement] = []
        for o in now:
            cl = classes.get(o.nodeid)
            obsolete = cl is not None and cl.kind == "obsolete" and cl.reason in _BEHAVIOURAL
            if obsolete or renamed_text(o.observations, analysis.changes):
                repls += observed_edits(new, edit.path, o, o.observations)
        repls = dedupe(repls)
        final = apply_edits(new, repls) if repls else new
        if final == new or parse(final).root_node.has_error:
            continue
        start = 0
        while start < min(len(src), len(final)) and src[start] == final[start]:
            start += 1
        end = 0
        while end < min(len(src), len(final)) - start and src[-1 - end] == final[-1 - end]:
            end += 1
        out.append(
            replace(
                cand,
                edits=(Edit(edit.path, start, len(src) - end, final[start : len(final) - end]),),
                rule=f"{cand.rule}+value",
                score=cand.score + 0.05,
                description=f"{cand.description}, then the values the new code gives",
            )
        )
    return out
