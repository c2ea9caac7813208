"""`repairbot bench FILE.jsonl`: materialize each case, repair it, score it (DESIGN §6)."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from repairbot.bench.cases import REQUIRED, Case, is_coevolution, load_cases, materialize
from repairbot.bench.rows import confidence_line, run_rows
from repairbot.errors import BadInput, RepairbotError
from repairbot.models import Job
from repairbot.parsing import normalized_key


@dataclass(frozen=True, slots=True)
class CaseResult:
    id: str
    plausible: bool
    exact: bool
    seconds: float
    npc: int | None
    validated: int
    rule: str | None
    generator: str | None
    error: str | None = None
    first_plausible_s: float | None = None
    confidence: str | None = None  # the assessment of the chosen patch
    diff: str = ""  # the chosen patch (in the JSON rows, for inspection)


def _exact(case: Case, root: Path) -> bool:
    fixed = case.get("fixed") or {}
    if not fixed:
        return False
    for rel, text in fixed.items():
        path = root / rel
        if not path.exists():
            return False
        ours = normalized_key(path.read_bytes())
        if ours is None or ours != normalized_key(text.encode("utf-8")):
            return False
    return True


def run_case(
    case: Case,
    budget: float,
    sandbox: str,
    predictor: str | None = None,
    llm_url: str | None = None,
) -> CaseResult:
    from repairbot.pipeline import repair

    start = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="repairbot-bench-"))
    try:
        materialize(case, tmp)
        timeout = float(case.get("timeout_s", 60))
        job = Job(
            root=tmp,
            budget_s=budget,
            sandbox=sandbox,
            apply=True,
            predictor=predictor,
            llm_url=llm_url,
            job_id=str(case["id"]).replace("/", "-"),
            test_timeout_s=max(10.0, 3 * timeout),
            per_test_timeout_s=min(5.0, timeout),
        )
        try:
            report = repair(job)
        except RepairbotError as err:
            return CaseResult(
                case["id"], False, False, time.monotonic() - start, None, 0, None, None, str(err)
            )
        fixed = report.status == "fixed"
        best = report.patches[0] if report.patches else None
        return CaseResult(
            id=case["id"],
            plausible=fixed,
            exact=fixed and _exact(case, tmp),
            seconds=time.monotonic() - start,
            npc=report.stats.first_plausible_at,
            validated=report.stats.candidates_validated,
            rule=best.rule if best else None,
            generator=best.generator if best else None,
            first_plausible_s=report.stats.first_plausible_s if fixed else None,
            confidence=best.confidence if best else None,
            diff=best.diff if best else "",
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summary_line(results: Sequence[CaseResult], total_s: float) -> str:
    n = len(results)
    plausible = [r for r in results if r.plausible]
    exact = sum(r.exact for r in results)
    npcs = [r.npc for r in plausible if r.npc is not None]
    npc = f"{statistics.median(npcs):g}" if npcs else "-"
    ttf = f"{statistics.median(r.seconds for r in plausible):.1f}s" if plausible else "-"
    firsts = [r.first_plausible_s for r in plausible if r.first_plausible_s is not None]
    ttfp = f"{statistics.median(firsts):.1f}s" if firsts else "-"
    return (
        f"summary: plausible {len(plausible)}/{n}, exact {exact}/{n}, NPC median {npc}, "
        f"median time to fix {ttf}, median time to first plausible {ttfp}, total {total_s:.0f}s"
    )


def _row(res: CaseResult) -> str:
    status = "exact" if res.exact else "plausible" if res.plausible else "error" if res.error else "no fix"
    npc = "-" if res.npc is None else str(res.npc)
    detail = res.rule or res.error or ""
    conf = res.confidence or "-"
    return f"{res.id:<40} {status:<10} {res.seconds:6.1f}s {npc:>5} {res.validated:>6} {conf:<6}  {detail}"


def run_bench(
    path: Path,
    *,
    budget: float,
    jobs: int,
    sandbox: str,
    only: Sequence[str] = (),
    json_out: Path | None = None,
    predictor: str | None = None,
    llm_url: str | None = None,
    mirrors: Path | None = None,
    cache: Path | None = None,
) -> int:
    from repairbot.bench.repo_coevolution import is_commit_case, parse_commit_case, run_commit_bench
    from repairbot.bench.repos import default_cache, is_repo_case, resolve_mirrors, run_repo_bench

    cases = load_cases(path, required=("id",))
    coevolution = any(is_coevolution(c) for c in cases) and not any(is_repo_case(c) for c in cases)
    if coevolution:
        from repairbot.bench.coevolution import load_coevolution_cases, run_coevolution_bench

        cases = load_coevolution_cases(path)
    if only:
        cases = [c for c in cases if any(c["id"] == o or c["id"].endswith(o) for o in only)]
        if not cases:
            raise BadInput(f"no case matches --only {','.join(only)}")
    if any(is_commit_case(c) for c in cases):  # real commits that made tests obsolete (repository form)
        if not all(is_commit_case(c) for c in cases):
            raise BadInput(f"{path}: mixes coevolution cases with other kinds (one kind per file)")
        commits = [parse_commit_case(c, f"{path}: case {n}") for n, c in enumerate(cases, 1)]
        return run_commit_bench(commits, budget=budget, jobs=jobs, sandbox=sandbox,
                                mirrors=resolve_mirrors(mirrors), cache=(cache or default_cache()).resolve(),
                                json_out=json_out, llm_url=llm_url)  # fmt: skip
    if any(is_repo_case(c) for c in cases):  # coordinates of a real project (repository form)
        return run_repo_bench(cases, source=path, budget=budget, jobs=jobs, sandbox=sandbox,
                              mirrors=mirrors, cache=cache, json_out=json_out, predictor=predictor,
                              llm_url=llm_url)  # fmt: skip
    if coevolution:
        return run_coevolution_bench(cases, budget=budget, sandbox=sandbox, json_out=json_out)
    for n, case in enumerate(cases, 1):
        missing = [k for k in REQUIRED if k not in case]
        if missing:
            raise BadInput(f"{path}: case {n} ({case['id']}) lacks {', '.join(missing)}")
    start = time.monotonic()
    print(f"{'case':<40} {'result':<10} {'time':>7} {'NPC':>5} {'valid.':>6} {'conf.':<6}  rule", flush=True)
    results = run_rows(cases, lambda c: run_case(c, budget, sandbox, predictor, llm_url), jobs=jobs, row=_row,
                       json_out=json_out)  # fmt: skip
    print(summary_line(results, time.monotonic() - start), flush=True)
    print(confidence_line(results), flush=True)
    sys.stdout.flush()
    return 0
