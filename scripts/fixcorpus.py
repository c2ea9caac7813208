#!/usr/bin/env python
"""The fix corpus: small real bug fixes mined from the history of many Python projects, kept as coordinates.

    python scripts/fixcorpus.py mine         # bench/fixcorpus/corpus.jsonl (+ corpus.meta.json)
    python scripts/fixcorpus.py prune        # drop projects excluded since mining (now in the dev set)
    python scripts/fixcorpus.py materialize --out DIR [--limit N]   # buggy/fixed file pairs to read
    python scripts/fixcorpus.py coverage     # bench/fixcorpus/coverage.jsonl: what each rule makes of a fix
    python scripts/fixcorpus.py report       # bench/fixcorpus/README.md tables (coverage by rule, by shape)
    python scripts/fixcorpus.py learn        # rules/learned.json and every rule's `prior`

Projects come from bench/fixcorpus/projects.txt; their git mirrors from --mirrors (default $REPAIRBOT_MIRRORS
or /work/.mirror), laid out as OWNER+NAME/repo (a bare mirror or a clone's .git). Without one:
`git clone --bare https://github.com/OWNER/NAME MIRRORS/OWNER+NAME/repo`. Each project's HEAD at mining time
is recorded in corpus.meta.json, so the same commits can be mined again. No fetched code is kept here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repairbot.generate import fixmine  # noqa: E402
from repairbot.generate.fixmatch import MATCHER_VERSION, FixResult, HunkResult, match_fix  # noqa: E402
from repairbot.generate.fixmine import FixCommit, Git  # noqa: E402

SCRIPT_VERSION = "1"
CORPUS_DIR = ROOT / "bench" / "fixcorpus"
CORPUS = CORPUS_DIR / "corpus.jsonl"
META = CORPUS_DIR / "corpus.meta.json"
COVERAGE = CORPUS_DIR / "coverage.jsonl"
DETAIL = CORPUS_DIR / "cache" / "coverage-detail.jsonl"
LEARNED = ROOT / "rules" / "learned.json"
RULES_DIR = ROOT / "rules" / "python"

# Never mined (HELPERS.md): held-out projects, every BugsInPy project, and forks of them.
HELD_OUT_FILE = ROOT / "bench" / "held-out-projects.txt"


def held_out() -> frozenset[str]:
    lines = HELD_OUT_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip().lower() for ln in lines if ln.strip() and not ln.startswith("#"))


def die(msg: str) -> None:
    print(f"fixcorpus: {msg}", file=sys.stderr)
    raise SystemExit(2)


# ------------------------------------------------------------------------------------------ projects


def dev_set_projects() -> set[str]:
    """Projects of the real-bug dev set (bench/realbugs): kept out of the corpus so that its bugs never
    shape the learned priors (their own history is what the repository-history priors learn from)."""
    out: set[str] = set()
    realbugs = ROOT / "bench" / "realbugs"
    projects = realbugs / "projects.json"
    if projects.is_file():
        for p in json.loads(projects.read_text(encoding="utf-8")).get("projects", []):
            if isinstance(p, dict) and isinstance(p.get("repo"), str):
                out.add(p["repo"].lower())
    for path in sorted(realbugs.rglob("*.jsonl")) if realbugs.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                case = json.loads(line)
            except json.JSONDecodeError:
                continue
            for key in ("repo", "repository", "project", "url"):
                value = case.get(key) if isinstance(case, dict) else None
                m = re.search(r"([\w.-]+)/([\w.-]+?)(?:\.git)?/?$", value) if isinstance(value, str) else None
                if m:
                    out.add(f"{m.group(1)}/{m.group(2)}".lower())
    return out


def is_excluded(repo: str, dev: set[str]) -> bool:
    name = repo.split("/")[-1].lower()
    return name in held_out() or repo.lower() in dev


def read_projects(path: Path) -> list[str]:
    if not path.is_file():
        die(f"no project list at {path}")
    return [ln.split("#")[0].strip() for ln in path.read_text().splitlines() if ln.split("#")[0].strip()]


def mirror_of(mirrors: Path, repo: str) -> str | None:
    base = mirrors / repo.replace("/", "+")
    for cand in (base / "repo" / ".git", base / "repo", base.with_name(base.name + ".git"), base):
        if (cand / "objects").is_dir() and (cand / "HEAD").is_file():
            return str(cand)
    return None


def default_mirrors() -> Path:
    return Path(os.environ.get("REPAIRBOT_MIRRORS", "/work/.mirror"))


# ---------------------------------------------------------------------------------------------- mine


def _sample_key(repo: str, sha: str) -> str:
    return hashlib.sha256(f"{repo}@{sha}".encode()).hexdigest()


def mine_project(args: tuple[str, str, int]) -> tuple[str, str, list[dict[str, Any]], int]:
    repo, git_dir, cap = args
    with Git(git_dir) as git:
        head = git.run("rev-parse", "HEAD").decode().strip()
        cands = sorted(fixmine.log_candidates(git, head), key=lambda c: _sample_key(repo, c.sha))
        fixes = []
        for fix in fixmine.select(git, repo, cands):
            fixes.append(fix.to_json())
            if len(fixes) >= cap:
                break
    return repo, head, fixes, len(cands)


def cmd_mine(ns: argparse.Namespace) -> None:
    dev = dev_set_projects()
    projects = read_projects(ns.projects)
    jobs: list[tuple[str, str, int]] = []
    for repo in projects:
        if is_excluded(repo, dev):
            print(f"skip {repo}: held out or in the real-bug dev set", file=sys.stderr)
            continue
        git_dir = mirror_of(ns.mirrors, repo)
        if git_dir is None:
            die(f"no mirror of {repo} under {ns.mirrors} (git clone --bare https://github.com/{repo} ...)")
        jobs.append((repo, git_dir, ns.per_project))
    heads: dict[str, str] = {}
    candidates: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=ns.jobs) as pool:
        for repo, head, fixes, n in pool.map(mine_project, jobs):
            heads[repo] = head
            candidates[repo] = n
            rows += fixes
            print(f"{repo}: {len(fixes)} fixes of {n} candidates", file=sys.stderr, flush=True)
    rows.sort(key=lambda r: (r["repo"].lower(), _sample_key(r["repo"], r["sha"])))
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    with CORPUS.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    meta = {
        "script_version": SCRIPT_VERSION,
        "miner_version": fixmine.MINER_VERSION,
        "selection": {
            "subject": fixmine.FIX_SUBJECT.pattern,
            "subject_not": fixmine.NOT_FIX_SUBJECT.pattern,
            "max_hunks": fixmine.MAX_HUNKS,
            "max_added": fixmine.MAX_ADDED,
            "max_removed": fixmine.MAX_REMOVED,
            "max_changed": fixmine.MAX_CHANGED,
            "per_project": ns.per_project,
            "order": "sha256(repo@sha) within a project (a fixed pseudo-random sample)",
        },
        "commits": len(rows),
        "projects": len({r["repo"] for r in rows}),
        "heads": heads,
        "candidates": candidates,
    }
    META.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"corpus: {len(rows)} fix commits from {meta['projects']} projects -> {CORPUS}", file=sys.stderr)


def cmd_prune(ns: argparse.Namespace) -> None:
    """Drop the projects excluded since mining (a project that joined the real-bug dev set): what `mine` would
    now give, since each project's sample is drawn on its own."""
    dev = dev_set_projects()
    rows = [json.loads(ln) for ln in CORPUS.read_text(encoding="utf-8").splitlines()]
    kept = [r for r in rows if not is_excluded(r["repo"], dev)]
    gone = sorted({r["repo"] for r in rows} - {r["repo"] for r in kept})
    meta = json.loads(META.read_text(encoding="utf-8"))
    for repo in gone:
        meta["heads"].pop(repo, None)
        meta["candidates"].pop(repo, None)
    meta["excluded_since_mining"] = sorted({*meta.get("excluded_since_mining", []), *gone})
    meta["commits"] = len(kept)
    meta["projects"] = len({r["repo"] for r in kept})
    with CORPUS.open("w", encoding="utf-8") as fh:
        for row in kept:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    META.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if COVERAGE.is_file():  # its rows of the pruned projects too: the data keeps no trace of them
        lines = COVERAGE.read_text(encoding="utf-8").splitlines()
        kept_lines = [
            ln for ln in lines if "header" in json.loads(ln) or not is_excluded(json.loads(ln)["repo"], dev)
        ]
        COVERAGE.write_text("".join(ln + "\n" for ln in kept_lines), encoding="utf-8")
    print(f"pruned {len(rows) - len(kept)} fixes of {', '.join(gone) or 'no project'}", file=sys.stderr)


def read_corpus() -> list[FixCommit]:
    if not CORPUS.is_file():
        die(f"no corpus at {CORPUS}: run `python scripts/fixcorpus.py mine` first")
    return [FixCommit.from_json(json.loads(ln)) for ln in CORPUS.read_text(encoding="utf-8").splitlines()]


def by_repo(fixes: Iterable[FixCommit]) -> dict[str, list[FixCommit]]:
    out: dict[str, list[FixCommit]] = defaultdict(list)
    for f in fixes:
        out[f.repo].append(f)
    return out


def chunks(fixes: Sequence[FixCommit], mirrors: Path) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(repo, git dir, rows) work items of ten fixes (small chunks keep both workers busy to the end)."""
    out = []
    for repo, group in by_repo(fixes).items():
        git_dir = mirror_of(mirrors, repo)
        if git_dir is None:
            die(f"no mirror of {repo} under {mirrors}")
        rows = [f.to_json() for f in group]
        out += [(repo, git_dir, rows[i : i + 10]) for i in range(0, len(rows), 10)]
    return out


def cmd_materialize(ns: argparse.Namespace) -> None:
    fixes = read_corpus()[: ns.limit or None]
    out: Path = ns.out
    for repo, group in by_repo(fixes).items():
        git_dir = mirror_of(ns.mirrors, repo)
        if git_dir is None:
            die(f"no mirror of {repo} under {ns.mirrors}")
        with Git(git_dir) as git:
            for fix in group:
                pair = fixmine.materialize(git, fix)
                if pair is None:
                    print(f"missing: {repo}@{fix.sha} {fix.path}", file=sys.stderr)
                    continue
                d = out / repo.replace("/", "+") / fix.sha[:12]
                d.mkdir(parents=True, exist_ok=True)
                name = Path(fix.path).name
                (d / f"buggy_{name}").write_bytes(pair[0])
                (d / f"fixed_{name}").write_bytes(pair[1])
                (d / "fix.json").write_text(json.dumps(fix.to_json(), indent=1) + "\n")
    print(f"materialized {len(fixes)} fixes under {out}", file=sys.stderr)


# ------------------------------------------------------------------------------------------ coverage


def _bin(fill: float) -> int:
    """Fill scores in bins of 5% on a log scale (what the prior optimization needs of each candidate)."""
    return round(-math.log(max(fill, 1e-6)) / 0.05)


def _edit_json(res: HunkResult, hist: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sites": res.sites,
        "fired": {r: x.candidates for r, x in sorted(res.rules.items())},
        "produced": {r: [x.fill, x.rank] for r, x in sorted(res.rules.items()) if x.produced},
    }
    if hist:
        out["hist"] = {
            r: sorted(Counter(_bin(f) for f in x.fills).items()) for r, x in sorted(res.rules.items())
        }
    return out


def cover_repo(
    args: tuple[str, str, list[dict[str, Any]], bool],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    from fixshapes import analyse

    from repairbot.generate.patterns import load_rules

    _repo, git_dir, rows, hist = args
    rules = load_rules(RULES_DIR)
    out = []
    with Git(git_dir) as git:
        for row in rows:
            fix = FixCommit.from_json(row)
            pair = fixmine.materialize(git, fix)
            key = {"repo": fix.repo, "sha": fix.sha, "path": fix.path}
            if pair is None:
                out.append(({**key, "error": "missing objects"}, key))
                continue
            t0 = time.monotonic()
            res: FixResult = match_fix(pair[0], pair[1], fix.hunks, rules, fix.path, keep_fills=hist)
            shape = analyse(pair[0], pair[1], fix.hunks)
            line = {
                **key,
                "shape": shape.shape,
                "substitutions": [list(x) for x in shape.substitutions],
                "produced": res.produced(),
                "whole": _edit_json(res.whole, False),
                "hunks": [
                    {"produced": {r: [x.fill, x.rank] for r, x in h.rules.items() if x.produced}}
                    for h in res.hunks
                ],
                "seconds": round(time.monotonic() - t0, 2),
            }
            detail = {
                **key,
                "whole": _edit_json(res.whole, True),
                "hunks": [_edit_json(h, True) for h in res.hunks],
            }
            out.append((line, detail))
    return out


def cmd_coverage(ns: argparse.Namespace) -> None:
    global RULES_DIR, COVERAGE, DETAIL
    if ns.rules is not None:
        if not ns.rules.is_dir():
            die(f"no rules directory {ns.rules}")
        RULES_DIR = ns.rules.resolve()
        COVERAGE = DETAIL.parent / f"coverage-{RULES_DIR.parent.name}.jsonl"
        DETAIL = DETAIL.parent / f"coverage-detail-{RULES_DIR.parent.name}.jsonl"
    fixes = read_corpus()
    if ns.limit:
        fixes = fixes[: ns.limit]
    jobs = [(*job, True) for job in chunks(fixes, ns.mirrors)]
    DETAIL.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    t0 = time.monotonic()
    lines: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=ns.jobs) as pool:
        for chunk in pool.map(cover_repo, jobs):
            for line, detail in chunk:
                lines.append(line)
                details.append(detail)
            done += len(chunk)
            print(
                f"\r{done}/{len(fixes)} fixes, {time.monotonic() - t0:.0f}s",
                end="",
                file=sys.stderr,
                flush=True,
            )
    print(file=sys.stderr)
    order = {(f.repo, f.sha, f.path): i for i, f in enumerate(fixes)}
    lines.sort(key=lambda r: order[(r["repo"], r["sha"], r["path"])])
    details.sort(key=lambda r: order[(r["repo"], r["sha"], r["path"])])
    header = {"script_version": SCRIPT_VERSION, "matcher_version": MATCHER_VERSION, "rules": rules_digest()}
    with COVERAGE.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"header": header}, sort_keys=True) + "\n")
        for line in lines:
            fh.write(json.dumps(line, sort_keys=True) + "\n")
    with DETAIL.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"header": header}, sort_keys=True) + "\n")
        for d in details:
            fh.write(json.dumps(d, sort_keys=True) + "\n")
    print(f"coverage of {len(lines)} fixes -> {COVERAGE}", file=sys.stderr)


# ------------------------------------------------------------------------------------------ ablations

# Donor heuristics that were added after a QuixBugs miss, each turned off on its own: the corpus says whether
# it earns its place (more real fixes made, or made with a better rank) or not.
ABLATIONS = ("no-partners",)
# The hole kinds each heuristic orders (only the rules with such holes can make a different fix without it).
ABLATION_HOLES = {
    "no-partners": ("name", "arg", "index", "expr", "cond", "stmt"),
}


def apply_ablation(variant: str) -> None:
    from repairbot.generate import donors
    from repairbot.parsing.scope import NameInfo, ScopeFacts

    if variant == "no-partners":

        def value_names(facts: ScopeFacts, original: str = "") -> list[NameInfo]:
            ref = facts.get(original)
            names = [n for n in facts.names if n.kind in donors._VALUE_KINDS and n.name != original]
            names.sort(key=lambda n: (n.distance, -donors._compat(ref, n), -n.count, n.name))
            return names

        donors.value_names = value_names  # type: ignore[assignment]
    elif variant != "baseline":
        die(f"unknown ablation {variant!r} (known: {', '.join(ABLATIONS)})")


def _hole_kinds(rule: Any) -> set[str]:
    from repairbot.generate.patterns import _DEFAULT_HOLE, _HOLE

    kinds: set[str] = set()
    for t in rule.templates(holes=True):
        for m in _HOLE.finditer(t):
            kinds.add(m.group(1) or "expr")
            if not m.group(1):
                kinds.update(_DEFAULT_HOLE.values())
    return kinds


def ablate_repo(args: tuple[str, str, list[dict[str, Any]], str]) -> list[dict[str, Any]]:
    from repairbot.generate.patterns import load_rules

    _repo, git_dir, rows, variant = args
    wanted = set(ABLATION_HOLES.get(variant, ())) or None
    rules = [r for r in load_rules(RULES_DIR) if r.templates(holes=True)]
    if wanted is not None:
        rules = [r for r in rules if _hole_kinds(r) & wanted]
    out = []
    with Git(git_dir) as git:
        for row in rows:
            fix = FixCommit.from_json(row)
            pair = fixmine.materialize(git, fix)
            if pair is None:
                continue
            res = match_fix(pair[0], pair[1], fix.hunks, rules, fix.path)
            out.append({
                "repo": fix.repo, "sha": fix.sha, "path": fix.path, "produced": res.produced(),
                "rules": sorted(r.id for r in rules),
                "whole": {r: [x.fill, x.rank] for r, x in res.whole.rules.items() if x.produced},
            })  # fmt: skip
    return out


def cmd_ablate(ns: argparse.Namespace) -> None:
    fixes = read_corpus()
    jobs = [(*job, ns.variant) for job in chunks(fixes, ns.mirrors)]
    out = DETAIL.parent / f"ablate-{ns.variant}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=ns.jobs, initializer=apply_ablation, initargs=(ns.variant,)) as pool:
        for chunk in pool.map(ablate_repo, jobs):
            lines += chunk
            print(f"\r{len(lines)}/{len(fixes)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with out.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"header": {"variant": ns.variant, "rules": rules_digest()}}) + "\n")
        for line in lines:
            fh.write(json.dumps(line, sort_keys=True) + "\n")
    print(f"ablation {ns.variant} -> {out}", file=sys.stderr)


# ------------------------------------------------------------------------------- history leave-one-out


def _rule_rank(
    producers: set[str], fired: set[str], prior: dict[str, float], weights: dict[str, float]
) -> int | None:
    """1-based rank of the best rule that makes the fix, among those firing there, by prior x weight."""
    if not producers:
        return None
    order = sorted(fired | producers, key=lambda r: -prior.get(r, 0.0) * weights.get(r, 1.0))
    return 1 + min(order.index(r) for r in producers)


def cmd_history_loo(ns: argparse.Namespace) -> None:
    """For each real-bug case: the rules that make its developer's fix, and where they rank among the rules
    firing at the fix's statements by prior alone and by prior x the project's history (only commits before
    the bug's parent, as a checkout of the bug would have it)."""
    from repairbot.generate.history import history_priors
    from repairbot.generate.patterns import load_rules

    rules = load_rules(RULES_DIR)
    prior = {r.id: r.prior for r in rules}
    cases = [json.loads(ln) for ln in ns.cases.read_text(encoding="utf-8").splitlines() if ln.strip()]
    out_rows = []
    for case in cases:
        git_dir = mirror_of(ns.mirrors, case["repo"])
        if git_dir is None:
            die(f"no mirror of {case['repo']} under {ns.mirrors}")
        producers: set[str] = set()
        fired: set[str] = set()
        with Git(git_dir) as git:
            for path in case["src_files"]:
                buggy, fixed = git.blob(case["buggy_commit"], path), git.blob(case["fix_commit"], path)
                if buggy is None or fixed is None:
                    continue
                diff = git.run("diff", "-U0", case["buggy_commit"], case["fix_commit"], "--", path)
                hunks = fixmine.code_hunks(buggy, fixed, fixmine.parse_hunks(diff))
                if not hunks:
                    continue
                res = match_fix(buggy, fixed, hunks, rules, path)
                producers |= set(res.whole.producers)
                for h in res.hunks:
                    producers |= set(h.producers)
                fired |= set(res.whole.rules)
        hist = history_priors(Path(git_dir), rules, seconds=600.0, rev=case["buggy_commit"])

        row = {
            "id": case["id"], "producers": sorted(producers), "history_fixes": hist.fixes,
            "raised": sorted(r for r in producers if hist.weights.get(r, 1.0) > 1.0),
            "rank_prior": _rule_rank(producers, fired, prior, {}),
            "rank_history": _rule_rank(producers, fired, prior, dict(hist.weights)),
        }  # fmt: skip
        out_rows.append(row)
        print(json.dumps(row), flush=True)
    made = [r for r in out_rows if r["producers"]]
    if made:
        before = statistics.mean(r["rank_prior"] for r in made)
        after = statistics.mean(r["rank_history"] for r in made)
        better = sum(r["rank_history"] < r["rank_prior"] for r in made)
        worse = sum(r["rank_history"] > r["rank_prior"] for r in made)
        print(
            f"history leave-one-out: {len(made)}/{len(out_rows)} cases have a rule that makes the fix; "
            f"its rank among the rules firing there: mean {before:.2f} by prior, {after:.2f} with the "
            f"project's history ({better} better, {worse} worse)",
            file=sys.stderr,
        )


def rules_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(RULES_DIR.glob("*.yml")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def read_jsonl(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not path.is_file():
        die(f"no {path.name}: run `python scripts/fixcorpus.py coverage` first")
    rows = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    header = rows[0].get("header", {}) if rows else {}
    return header, [r for r in rows if "header" not in r]


# ---------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirrors", type=Path, default=default_mirrors())
    ap.add_argument("--jobs", type=int, default=1)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mine")
    m.add_argument("--projects", type=Path, default=CORPUS_DIR / "projects.txt")
    m.add_argument("--per-project", type=int, default=40)
    mat = sub.add_parser("materialize")
    mat.add_argument("--out", type=Path, required=True)
    mat.add_argument("--limit", type=int, default=0)
    cov = sub.add_parser("coverage")
    cov.add_argument("--limit", type=int, default=0)
    cov.add_argument(
        "--rules", type=Path, help="another rules directory (to try rules out); writes under cache/"
    )
    ab = sub.add_parser("ablate")
    ab.add_argument("variant", choices=("baseline", *ABLATIONS))
    loo = sub.add_parser("history-loo")
    loo.add_argument("--cases", type=Path, default=ROOT / "bench" / "realbugs" / "cases.jsonl")
    sub.add_parser("prune")
    sub.add_parser("report")
    sub.add_parser("learn")
    ns = ap.parse_args(argv)
    from fixcorpus_learn import cmd_learn, cmd_report  # the analysis half lives beside this file

    {
        "mine": cmd_mine,
        "prune": cmd_prune,
        "history-loo": cmd_history_loo,
        "materialize": cmd_materialize,
        "coverage": cmd_coverage,
        "ablate": cmd_ablate,
        "report": cmd_report,
        "learn": cmd_learn,
    }[ns.cmd](ns)


if __name__ == "__main__":
    main()
