"""The analysis half of scripts/fixcorpus.py: the coverage report and the learned priors and orderings.

`report` writes bench/fixcorpus/README.md: each rule's coverage (fixes it produces, fixes it fires on) and the
fix shapes no rule produces. `learn` writes rules/learned.json (orderings of alternatives, symptom weights,
produce rates, provenance) and sets each rule file's `prior`:

- priors: the log-rank of the developer's fix among all candidates at the fix's statements, under
  score = prior x fill, minimized by coordinate descent over a log grid (starting from each rule's smoothed
  precision, produced / fired). Checked by 2-fold cross-validation over projects against the hand-set priors.
- symptom weights: how much likelier each fix family is among fixes whose subject names a symptom (a hang,
  unbounded recursion, an index or key error, None), as a smoothed lift over all fixes, clamped to [0.5, 2].
- orderings: operator, literal and callee substitutions, wrapping calls and guard forms, counted over the
  corpus's single-token changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import fixcorpus as fc
from fixshapes import SHAPES

from repairbot.generate.learned import LEARNED_VERSION, literal_alternative_key, literal_kind
from repairbot.generate.patterns import load_rules

SHAPE_FAMILY = {
    "missing guard or branch": "insert-null-check",
    "exception handling": "insert-missing-statement",
    "new statement": "insert-missing-statement",
    "removed statement": "remove-statement",
    "condition": "mutate-conditional-expression",
    "operator": "mutate-operator",
    "literal": "mutate-literal",
    "wrong variable": "mutate-variable",
    "wrong call or attribute": "mutate-method-invocation",
    "argument": "mutate-method-invocation",
    "wrap in a call": "wrap-expression",
    "return value": "mutate-return-stmt",
}
SYMPTOM_WORDS = {
    "hang": r"\b(hang(s|ing)?|hung|infinite(ly)?|loops? forever|deadlocks?|freez\w*|stuck|never ends)\b",
    "recursion": r"\b(recursion(error)?|recursive(ly)?|stack overflow)\b",
    "index": r"\b(index ?error|key ?error|out of (range|bounds)|off[- ]by[- ]one|indices|index)\b",
    "none": r"(nonetype|\bnone\b|\bnull\b|attributeerror)",
}
HAND_SCALE = 0.8  # the largest prior (other generators' scores are on the scale of the old hand priors)
GRID = [round(0.0005 * (1000 ** (i / 30)), 6) for i in range(31)]  # 0.0005 .. 0.5, log-spaced
PULL = 2.0  # log2-rank units per squared natural-log step away from the starting prior


# ------------------------------------------------------------------------------------------------ report


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}%" if b else "-"


def coverage_tables(rows: Sequence[Mapping[str, Any]], rule_ids: Sequence[str]) -> str:
    total = len(rows)
    produced = Counter()
    fired = Counter()
    projects: dict[str, set[str]] = defaultdict(set)
    only = Counter()
    for r in rows:
        w = r["whole"]
        makers = set(w["produced"])
        for h in r.get("hunks", []):
            makers |= set(h["produced"])
        for rule in makers:
            produced[rule] += 1
            projects[rule].add(r["repo"])
        if len(set(w["produced"])) == 1:
            only[next(iter(w["produced"]))] += 1
        for rule in w["fired"]:
            fired[rule] += 1
    lines = [
        "| rule | fixes it produces | no other rule does | projects | fixes it fires on | produced / fired |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rule in sorted(rule_ids, key=lambda x: (-produced[x], -fired[x], x)):
        lines.append(
            f"| `{rule}` | {produced[rule]} | {only[rule]} | {len(projects[rule])} | {fired[rule]} | "
            f"{_pct(produced[rule], fired[rule])} |"
        )
    family = {r.id: r.family for r in load_rules(fc.RULES_DIR)}
    fam_made: dict[str, set[int]] = defaultdict(set)
    fam_projects: dict[str, set[str]] = defaultdict(set)
    for i, r in enumerate(rows):
        makers = set(r["whole"]["produced"]).union(*(h["produced"] for h in r.get("hunks", [])))
        for rule in makers:
            fam_made[family.get(rule, "?")].add(i)
            fam_projects[family.get(rule, "?")].add(r["repo"])
    fams = sorted({family.get(x, "?") for x in rule_ids}, key=lambda f: (-len(fam_made[f]), f))
    lines += [
        "",
        "By family (TBar's fix-pattern families; a fix counts once per family):",
        "",
        "| family | rules | fixes its rules produce | projects |",
        "| --- | ---: | ---: | ---: |",
    ]
    for fam in fams:
        n_rules = sum(1 for x in rule_ids if family.get(x) == fam)
        lines.append(f"| {fam} | {n_rules} | {len(fam_made[fam])} | {len(fam_projects[fam])} |")
    any_whole = sum(1 for r in rows if r["whole"]["produced"])
    any_fix = sum(1 for r in rows if r["produced"])
    lines += [
        "",
        f"Fixes one candidate makes whole: {any_whole} of {total} ({_pct(any_whole, total)}); with a "
        f"candidate for each hunk (one per round of the repair loop): {any_fix} ({_pct(any_fix, total)}).",
    ]
    return "\n".join(lines)


def shape_table(rows: Sequence[Mapping[str, Any]]) -> str:
    by = Counter(r["shape"] for r in rows)
    made = Counter(r["shape"] for r in rows if r["produced"])
    lines = ["| fix shape | fixes | produced by some rule | not produced |", "| --- | ---: | ---: | ---: |"]
    for shape in sorted(SHAPES, key=lambda s: -(by[s] - made[s])):
        if by[shape]:
            lines.append(f"| {shape} | {by[shape]} | {made[shape]} ({_pct(made[shape], by[shape])}) | "
                         f"{by[shape] - made[shape]} |")  # fmt: skip
    return "\n".join(lines)


ABLATION_TEXT = {
    "no-partners": "names compared with the replaced one first (value donors)",
}


def ablation_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Each donor heuristic turned off: fixes its rules make (whole) with and without it, and the ranks."""
    lines = [
        "| donor heuristic | fixes made with it | without it | rank better with it | rank better without |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    found = False
    for variant, text in ABLATION_TEXT.items():
        path = fc.DETAIL.parent / f"ablate-{variant}.jsonl"
        if not path.is_file():
            continue
        found = True
        _, abl = fc.read_jsonl(path)
        rules = set().union(*(set(a.get("rules", [])) for a in abl)) if abl else set()
        off = {(a["repo"], a["sha"], a["path"]): a["whole"] for a in abl}
        made_on = made_off = better_on = better_off = 0
        for r in rows:
            key = (r["repo"], r["sha"], r["path"])
            if key not in off:
                continue
            on = {x: v for x, v in r["whole"]["produced"].items() if not rules or x in rules}
            without = off[key]
            made_on += bool(on)
            made_off += bool(without)
            for rule in set(on) & set(without):
                if on[rule][1] < without[rule][1]:
                    better_on += 1
                elif on[rule][1] > without[rule][1]:
                    better_off += 1
        lines.append(f"| {text} | {made_on} | {made_off} | {better_on} | {better_off} |")
    pending = ", ".join(fc.ABLATIONS)
    return "\n".join(lines) if found else f"(not run yet: `python scripts/fixcorpus.py ablate` {pending})"


def in_corpus(rows: Sequence[dict[str, Any]], rule_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of fixes still in the corpus and what the current rules did there (coverage may have been
    measured before a `prune`, or with a rule since removed: rules do not affect each other's candidates)."""
    keys = {(f.repo, f.sha, f.path) for f in fc.read_corpus()}
    ids = set(rule_ids)
    out = []
    for r in rows:
        if (r["repo"], r["sha"], r["path"]) not in keys or "error" in r:
            continue
        for edit in [r["whole"], *r.get("hunks", [])]:
            for part in ("produced", "fired", "hist"):
                if part in edit:
                    edit[part] = {k: v for k, v in edit[part].items() if k in ids}
        if "produced" in r and not isinstance(r["produced"], dict):
            hunks = r.get("hunks", [])
            r["produced"] = bool(r["whole"]["produced"]) or (
                bool(hunks) and all(h["produced"] for h in hunks)
            )
        out.append(r)
    return out


def cmd_report(ns: argparse.Namespace) -> None:
    header, rows = fc.read_jsonl(fc.COVERAGE)
    rule_ids = [r.id for r in load_rules(fc.RULES_DIR)]
    rows = in_corpus(rows, rule_ids)
    meta = json.loads(fc.META.read_text(encoding="utf-8"))
    learned = json.loads(fc.LEARNED.read_text(encoding="utf-8")) if fc.LEARNED.is_file() else {}
    text = README_TEMPLATE.format(
        commits=meta["commits"],
        projects=meta["projects"],
        script_version=meta["script_version"],
        miner_version=meta["miner_version"],
        per_project=meta["selection"]["per_project"],
        matcher=header.get("matcher_version", "?"),
        rules_digest=header.get("rules", "?"),
        covered=len(rows),
        coverage=coverage_tables(rows, rule_ids),
        shapes=shape_table(rows),
        cv=learned.get("provenance", {}).get("cv_table", "(run `python scripts/fixcorpus.py learn`)"),
        ablations=ablation_table(rows),
    )
    out = fc.CORPUS_DIR / "README.md"
    out.write_text(text, encoding="utf-8")
    print(f"report -> {out}")


README_TEMPLATE = """# Fix corpus: small real bug fixes, as coordinates

{commits} fix commits from {projects} Python projects (`corpus.jsonl`: repo, commit, parent, path, hunks,
subject), mined by `python scripts/fixcorpus.py mine` (script version {script_version}, miner version
{miner_version}) from the projects of `projects.txt` (none of the held-out projects, none of the real-bug dev
set's). `corpus.meta.json` records the selection and each project's HEAD at mining time.

Selection (`repairbot/generate/fixmine.py`, the same one the repository-history priors use): the subject says
fix (fix, bug, issue, wrong, typo, crash, regression, incorrect, ...) and not refactor/style/lint/typing/
release/revert/merge; exactly one Python source file changes (not a test, docs, example or vendored file;
tests and other files may change with it); 1-3 hunks, at most 6 lines added, 6 removed, 8 in all; both
versions parse and every kept hunk changes the normalized AST (docstrings, comments and layout are not code).
At most {per_project} fixes per project, a fixed pseudo-random sample (sha256 of repo@sha).

To read the fixes: `python scripts/fixcorpus.py materialize --out DIR` (needs the mirrors, see the script).

## Rule coverage

`python scripts/fixcorpus.py coverage` runs every rule (the engine's own code path: tree-sitter query,
constraints, fix template, donor fills for `<mask>` holes) at the statements of each fix's changed lines in
the buggy version (for an insertion, the statements on either side) and compares each candidate with the fixed
version after normalization. A rule *produces* a fix when one of its candidates equals it (or, for a
multi-hunk fix, equals one of its hunks: the repair loop fixes one hunk per round); it *fires* when it
proposes any candidate there. {covered} fixes, matcher version {matcher}, rules digest `{rules_digest}`
(`coverage.jsonl`; `report` writes this file).

{coverage}

## Rules removed or generalized

The nine rules that mapped one-to-one onto single QuixBugs programs, and the QuixBugs-era orderings, measured
on this corpus (an experimental pass, `coverage --rules DIR`, with the old rules and candidate generalizations
side by side; fixes produced / fixes fired on):

| rule | real fixes | decision |
| --- | ---: | --- |
| `scale-operand` | 0 / 196 | removed |
| `assign-to-operand` | 0 / 499 | removed |
| `slice-argument` | 0 / 1259 | removed |
| `offset-argument` | 0 / 1269 | removed (generalized, `offset-by-name`: 2 / 3359, not kept) |
| `widen-base-case` | 0 / 46 | removed (generalized, `comparison-bound`: 0 / 52, not kept) |
| `add-operand` | 2 / 1925 | removed: 0.1% of the places it fires (those 2 fixes are lost) |
| `update-to-assignment` | 1 / 43 | removed (that fix is lost) |
| `operand-to-name` | 2 / 280 | generalized to `expression-to-name` (an operand or argument to a name): 23 |
| `swap-ordering-operands` | 2 / 397 | merged into `swap-comparison-operands` (every comparison, no chains) |
| `empty-container` (`[]` -> `[[]]` first) | 2 / 105 | generalized (below): 5 when its fixes are re-matched |
| `wrap-with-donor` | 0 | removed: `wrap-call` wraps in the calls real fixes add (`learned.json`) |
| `wrap-accumulate` (`max(0, ...)`) | 0 | removed (no real fix added `max`/`min` around a value) |

Donor heuristics added after QuixBugs misses, removed because turning them off on this corpus loses no real
fix (`python scripts/fixcorpus.py ablate VARIANT` before their removal):
- `prev = cur` statements for the names a loop reads but never updates (loop-carried donors): the
  statement-hole rules make the same 14 real fixes without them; the developer's fix ranks better without
  them at 2, with them at none.
- collections drained in the code (`pop`) first among the names guards are built from: the condition-hole
  rules make the same 30 real fixes without it; the fix ranks better with it at 2 and without it at 2.
- membership-tested collections first for missing updates (`seen.add(x)`): the statement-hole rules make the
  same 14 real fixes without it (measured after the loop-carried donors were gone, so its rank figures, 0
  better with it and 2 without, cannot be told apart from theirs).

`empty-container` now offers what real fixes of empty literals did (`[]` -> `{{}}` twice, `None`, `[0]`;
`{{}}` -> `[]`) instead of `[[]]` first, which no real fix made.

Orderings: operator, literal, callee, wrapper and guard alternatives are tried in the order real fixes made
them (`rules/learned.json`); the catalogue order only breaks ties among alternatives no real fix made
(`[]` -> `[[]]` is no longer first: real fixes turned `[]` into `{{}}` or `None`; no real fix replaced `^=`).

## Fix shapes no rule produces

Shapes are read from the changed tokens (`scripts/fixshapes.py`).

{shapes}

## Learned priors

`python scripts/fixcorpus.py learn` writes `rules/learned.json` and each rule's `prior`. Rank of the
developer's fix among all candidates at its statements (2-fold cross-validation by project: priors fitted on
one half of the projects, measured on the other):

{cv}

## Repository-history priors, leave-one-out on the real-bug dev set

`python scripts/fixcorpus.py history-loo` (bench/realbugs, 68 cases of 14 projects, none in this corpus): for
each bug, the rules that make its developer's fix, ranked among the rules firing at the fix's statements by
prior alone and by prior x the project's own history (its small fixes before the bug's parent commit only,
26.7 read per case on average; its rows, as written to stdout, in `history-loo.jsonl`):

history leave-one-out: 6/68 cases have a rule that makes the fix; its rank among the rules firing there: mean
3.33 by prior, 1.83 with the project's history (1 better, 1 worse)

(markdown-07dfa4eb: `add-argument` from rank 13 to 3, its project had used it before; validators-7c0e6053:
`remove-subcondition` from 3 to 4; the other four stay first.) Six cases are too few to call it an
improvement: the rules make too few of these real fixes (multi-statement, multi-hunk), whatever their order.

## Donor heuristics on real fixes

Heuristics of the donor pools that were added after a QuixBugs miss, each turned off on its own
(`python scripts/fixcorpus.py ablate VARIANT`, only the rules with holes of the kinds it orders):

{ablations}
"""


# ------------------------------------------------------------------------------------------------- learn


Site = tuple[dict[str, list[tuple[int, int]]], dict[str, float]]  # rule -> [(bin, count)], producer -> fill


def sites_of(
    details: Iterable[Mapping[str, Any]], rule_ids: Iterable[str], keep: set[str] | None = None
) -> list[tuple[str, Site]]:
    """The edits some current rule makes, with every current rule's candidates there (a rule removed since
    the coverage run is left out, as if it had not run: rules do not affect each other's candidates)."""
    ids = set(rule_ids)
    out: list[tuple[str, Site]] = []
    for d in details:
        if keep is not None and d["repo"] not in keep:
            continue
        for edit in [d["whole"], *d.get("hunks", [])]:
            correct = {r: max(v[0], 1e-6) for r, v in edit["produced"].items() if r in ids}
            if correct:
                hist = {r: [tuple(x) for x in v] for r, v in edit["hist"].items() if r in ids}
                out.append((d["repo"], (hist, correct)))
    return out


def site_rank(site: Site, logp: Mapping[str, float]) -> float:
    """1-based rank of the best correct candidate (ties share the place)."""
    hist, correct = site
    best_rule = max(correct, key=lambda r: logp[r] + math.log(correct[r]))
    best = logp[best_rule] + math.log(correct[best_rule])
    above = 0.0
    for rule, bins in hist.items():
        lp = logp[rule]
        for b, n in bins:
            s = lp - 0.05 * b
            if s > best + 1e-9:
                above += n
            elif s > best - 1e-9:
                above += 0.5 * n
    return max(1.0, above + 0.5)


def objective(sites: Sequence[Site], logp: Mapping[str, float]) -> float:
    return sum(math.log2(site_rank(s, logp)) for s in sites) / max(len(sites), 1)


def precision_priors(rows: Sequence[Mapping[str, Any]], rule_ids: Sequence[str]) -> dict[str, float]:
    """produced / fired per rule, shrunk towards the rate over all rules (a rule that fires at few fixes
    keeps about the common rate instead of an extreme one)."""
    produced = Counter()
    fired = Counter()
    for r in rows:
        for rule in r["whole"]["fired"]:
            fired[rule] += 1
        for rule in r["whole"]["produced"]:
            produced[rule] += 1
    ids = set(rule_ids)
    mean = sum(produced[r] for r in ids) / max(1, sum(fired[r] for r in ids))
    m = 20.0
    return {rule: (produced[rule] + m * mean) / (fired[rule] + m) for rule in rule_ids}


def fit_priors(sites: Sequence[Site], start: Mapping[str, float], passes: int = 3) -> dict[str, float]:
    """Coordinate descent over a log grid: the total log-rank of the fixes plus a pull towards the starting
    prior (a rule seen at few fixes cannot move far on their evidence alone)."""
    start_log = {r: math.log(max(min(p, 1.0), GRID[0])) for r, p in start.items()}
    logp = dict(start_log)
    involved: dict[str, list[int]] = defaultdict(list)
    for i, (hist, correct) in enumerate(sites):
        for rule in set(hist) | set(correct):
            involved[rule].append(i)

    def cost(rule: str, sub: Sequence[Site]) -> float:
        pull = PULL * (logp[rule] - start_log[rule]) ** 2
        return sum(math.log2(site_rank(s, logp)) for s in sub) + pull

    for _ in range(passes):
        moved = False
        for rule in sorted(logp):
            idx = involved.get(rule)
            if not idx:
                continue
            sub = [sites[i] for i in idx]
            current = logp[rule]
            best_v, best_cost = current, cost(rule, sub)
            for g in GRID:
                logp[rule] = math.log(g)
                c = cost(rule, sub)
                if c < best_cost - 1e-9:
                    best_v, best_cost = logp[rule], c
            logp[rule] = best_v
            moved |= best_v != current
        if not moved:
            break
    return {r: math.exp(v) for r, v in logp.items()}


def _fold(repo: str) -> int:
    return int(hashlib.sha256(repo.encode()).hexdigest(), 16) % 2


def _summary(sites: Sequence[Site], priors: Mapping[str, float]) -> tuple[float, float, float, float]:
    logp = {r: math.log(max(p, 1e-6)) for r, p in priors.items()}
    ranks = [site_rank(s, logp) for s in sites]
    return (
        statistics.median(ranks),
        sum(math.log2(x) for x in ranks) / len(ranks),
        sum(1 for x in ranks if x <= 10) / len(ranks),
        sum(1 for x in ranks if x <= 100) / len(ranks),
    )


def cross_validate(
    details: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]], hand: Mapping[str, float]
) -> tuple[str, dict[str, Any]]:
    rule_ids = list(hand)
    repos = sorted({d["repo"] for d in details})
    results: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
    n_test = 0
    for fold in (0, 1):
        train = {r for r in repos if _fold(r) != fold}
        test = {r for r in repos if _fold(r) == fold}
        tr_sites = [s for _, s in sites_of(details, rule_ids, train)]
        te_sites = [s for _, s in sites_of(details, rule_ids, test)]
        n_test += len(te_sites)
        prec = precision_priors([r for r in rows if r["repo"] in train], rule_ids)
        fitted = fit_priors(tr_sites, prec)
        for name, pri in (
            ("hand-set (before)", hand),
            ("precision produced/fired", prec),
            ("fitted", fitted),
        ):
            results[name].append(_summary(te_sites, pri))
    lines = [
        "| priors | median rank | mean log2 rank | fix in top 10 | fix in top 100 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    summary: dict[str, Any] = {}
    for name, folds in results.items():
        med = statistics.mean(f[0] for f in folds)
        lg = statistics.mean(f[1] for f in folds)
        t10 = statistics.mean(f[2] for f in folds)
        t100 = statistics.mean(f[3] for f in folds)
        lines.append(f"| {name} | {med:.1f} | {lg:.2f} | {100 * t10:.1f}% | {100 * t100:.1f}% |")
        summary[name] = {"median_rank": med, "mean_log2_rank": lg, "top10": t10, "top100": t100}
    lines.append("")
    lines.append(
        f"({n_test} test sites over both folds: edits some rule produces; the mean over the two folds.)"
    )
    return "\n".join(lines), summary


def learn_symptoms(corpus: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]],
                   families: Mapping[str, str]) -> dict[str, dict[str, float]]:  # fmt: skip
    """Per symptom and family: the smoothed lift of the family among fixes whose subject names the symptom."""
    subject = {(c["repo"], c["sha"]): c.get("subject", "") for c in corpus}
    fam_of_fix: list[tuple[set[str], str]] = []
    for r in rows:
        fams = {families[x] for x in r["whole"]["produced"] if x in families}
        if not fams and r["shape"] in SHAPE_FAMILY:
            fams = {SHAPE_FAMILY[r["shape"]]}
        fam_of_fix.append((fams, subject.get((r["repo"], r["sha"]), "")))
    total = len(fam_of_fix)
    base = Counter(f for fams, _ in fam_of_fix for f in fams)
    out: dict[str, dict[str, float]] = {}
    strength = 5.0  # pseudo-fixes at the expected count: a family seen rarely stays near 1
    for symptom, pattern in SYMPTOM_WORDS.items():
        rx = re.compile(pattern, re.IGNORECASE)
        hits = [fams for fams, subj in fam_of_fix if rx.search(subj)]
        if not hits:
            continue
        counts = Counter(f for fams in hits for f in fams)
        weights = {}
        for fam, n in base.items():
            expected = len(hits) * n / total
            lift = (counts[fam] + strength) / (expected + strength)
            weights[fam] = round(min(2.0, max(0.5, lift)), 3)
        out[symptom] = {f: w for f, w in sorted(weights.items()) if abs(w - 1.0) >= 0.02}
        out[symptom]["_fixes"] = len(hits)
    return out


# A wrapping call whose other arguments are literals (`max(0,$)`), not names of one project's code.
_LIT = r"(?:-?\d+|None|True|False|\"\"|'')"
PORTABLE_WRAPPER = re.compile(rf"[\w.]+\((?:{_LIT},)?\$(?:,{_LIT})?\)")


def learn_orderings(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    ops: dict[str, Counter[str]] = defaultdict(Counter)
    lits: dict[str, Counter[str]] = defaultdict(Counter)
    callees: dict[str, Counter[str]] = defaultdict(Counter)
    callee_projects: dict[tuple[str, str], set[str]] = defaultdict(set)
    wrappers: Counter[str] = Counter()
    wrapper_projects: dict[str, set[str]] = defaultdict(set)
    guards: Counter[str] = Counter()
    for r in rows:
        for kind, old, new in r.get("substitutions", []):
            if kind == "operator":
                ops[old][new] += 1
            elif kind == "literal":
                k = literal_kind(old)
                alt = literal_alternative_key(old, new)
                if k and alt:
                    lits[k][alt] += 1
            elif kind in ("callee", "attribute"):
                callees[old][new] += 1
                callee_projects[(old, new)].add(r["repo"])
            elif kind == "wrapper":
                if PORTABLE_WRAPPER.fullmatch(new):
                    wrappers[new] += 1
                    wrapper_projects[new].add(r["repo"])
            elif kind == "guard":
                guards[new] += 1
    # A callee or wrapper seen in one project only is that project's vocabulary, not a general confusion.
    pairs = {
        old: {new: n for new, n in c.most_common() if len(callee_projects[(old, new)]) >= 2}
        for old, c in sorted(callees.items())
    }
    return {
        "operators": {o: dict(c.most_common()) for o, c in sorted(ops.items())},
        "literals": {k: dict(c.most_common()) for k, c in sorted(lits.items())},
        "callees": {o: p for o, p in pairs.items() if p},
        "wrappers": {w: n for w, n in wrappers.most_common() if len(wrapper_projects[w]) >= 2},
        "guards": dict(guards.most_common(40)),
    }


def write_priors(priors: Mapping[str, float]) -> None:
    for rule, value in priors.items():
        path = fc.RULES_DIR / f"{rule}.yml"
        text = path.read_text(encoding="utf-8")
        new, n = re.subn(r"(?m)^prior: .*$", f"prior: {value}", text)
        if n != 1:
            fc.die(f"{path}: no single `prior:` line to set")
        path.write_text(new, encoding="utf-8")


COMMIT_REF = re.compile(r"^  - ([\w.-]+/[\w.-]+@[0-9a-f]{7,40})\n", re.MULTILINE)
EXAMPLES_PER_RULE = 3


def write_sources(examples: Mapping[str, Sequence[str]]) -> None:
    """Each rule's `source` lists its catalogue patterns, then up to three corpus fixes it makes."""
    for path in sorted(fc.RULES_DIR.glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        m = re.search(r"(?m)^source:\n((?:  - .*\n)*)", text)
        refs = [f"  - {ref}\n" for ref in examples.get(path.stem, [])[:EXAMPLES_PER_RULE]]
        if m is None:
            if refs:
                text = text + ("" if text.endswith("\n") else "\n") + "source:\n" + "".join(refs)
        else:
            kept = COMMIT_REF.sub("", m.group(1))
            text = text[: m.start(1)] + kept + "".join(refs) + text[m.end(1) :]
        path.write_text(text, encoding="utf-8")


def cmd_learn(ns: argparse.Namespace) -> None:
    header, rows = fc.read_jsonl(fc.COVERAGE)
    dheader, details = fc.read_jsonl(fc.DETAIL)
    if header.get("rules") != dheader.get("rules"):
        fc.die("coverage.jsonl and the detail cache come from different rules: run `coverage` again")
    rules = load_rules(fc.RULES_DIR)
    rule_ids = [r.id for r in rules]
    rows = in_corpus(rows, rule_ids)
    details = in_corpus(details, rule_ids)
    corpus = [json.loads(ln) for ln in fc.CORPUS.read_text(encoding="utf-8").splitlines()]
    meta = json.loads(fc.META.read_text(encoding="utf-8"))
    prev = json.loads(fc.LEARNED.read_text(encoding="utf-8")) if fc.LEARNED.is_file() else {}
    hand = prev.get("provenance", {}).get("hand_priors") or {r.id: r.prior for r in rules}
    hand = {r: hand.get(r, 0.3) for r in rule_ids}
    cv_table, cv = cross_validate(details, rows, hand)
    print(cv_table)
    sites = [s for _, s in sites_of(details, rule_ids)]
    fitted = fit_priors(sites, precision_priors(rows, rule_ids))
    top = max(fitted.values())
    priors = {r: round(max(0.005, HAND_SCALE * fitted[r] / top), 3) for r in rule_ids}
    produced = Counter()
    for r in rows:
        makers = set(r["whole"]["produced"])
        for h in r.get("hunks", []):
            makers |= set(h["produced"])
        produced.update(makers)
    families = {r.id: r.family for r in rules}
    data = {
        "version": LEARNED_VERSION,
        "provenance": {
            "script_version": fc.SCRIPT_VERSION,
            "corpus_commits": meta["commits"],
            "corpus_projects": meta["projects"],
            "covered": len(rows),
            "rules_digest": header.get("rules"),
            "matcher_version": header.get("matcher_version"),
            "cv": cv,
            "cv_table": cv_table,
            "hand_priors": hand,
        },
        "priors": priors,
        "produce_rate": {r: round((produced[r] + 0.5) / (len(rows) + 1), 5) for r in rule_ids},
        "symptoms": learn_symptoms(corpus, rows, families),
        **learn_orderings(rows),
    }
    fc.LEARNED.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    write_priors(priors)
    examples: dict[str, list[str]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: fc._sample_key(r["repo"], r["sha"])):
        for rule in r["whole"]["produced"]:
            ref = f"{r['repo']}@{r['sha'][:12]}"
            if all(not x.startswith(r["repo"] + "@") for x in examples[rule]):  # one per project
                examples[rule].append(ref)
    write_sources(examples)
    print(f"learned -> {fc.LEARNED}; priors set in {len(priors)} rule files")


__all__ = ["cmd_learn", "cmd_report"]
