"""`repairbot bench FILE.jsonl`: materialize each case, repair it, score it (DESIGN §6)."""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from repairbot.errors import BadInput, RepairbotError
from repairbot.models import Job, Report
from repairbot.parsing import normalized_key

REQUIRED = ("id", "files", "tests")


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


def load_cases(path: Path, required: tuple[str, ...] = REQUIRED) -> list[dict[str, Any]]:
    """The cases of a JSON Lines benchmark file; a bad line is a BadInput naming it."""
    if not path.is_file():
        raise BadInput(f"{path}: no such benchmark file")
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}:{n}: not JSON ({exc.msg})") from None
        missing = [k for k in required if k not in case]
        if missing:
            raise BadInput(f"{path}:{n}: case lacks {', '.join(missing)}")
        cases.append(case)
    if not cases:
        raise BadInput(f"{path}: no cases")
    return cases


def materialize(case: dict[str, Any], dest: Path) -> None:
    for rel, text in {**case["files"], **case["tests"]}.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))  # newline="" semantics: CRLF lines stay CRLF


def _exact(case: dict[str, Any], root: Path) -> bool:
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
    case: dict[str, Any],
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
    return (
        f"summary: plausible {len(plausible)}/{n}, exact {exact}/{n}, NPC median {npc}, "
        f"median time to fix {ttf}, total {total_s:.0f}s"
    )


def run_coevolution_bench(path: Path, *, budget: float, sandbox: str, json_out: Path | None) -> int:
    """Cases with a `base` revision: obsolete tests to update (expect "test") and real bugs whose test is
    right (expect "code"). Prints a row per case, the score per kind of change and the false-update rate."""
    from repairbot.changes.bench import score
    from repairbot.pipeline import repair

    start = time.monotonic()

    def run_repair(root: Path, base: str) -> Report:
        job = Job(root=root, base=base, budget_s=budget, sandbox=sandbox, apply=True, job_id=root.name)
        try:
            return repair(job)
        except RepairbotError as err:
            return Report(status="error", error=str(err))

    summary = score(path, run_repair)
    rows: list[dict[str, Any]] = summary["rows"]  # type: ignore[assignment]
    print(f"{'case':<40} {'kind':<22} {'expect':<6} result", flush=True)
    for row in rows:
        if row["expect"] == "test":
            result = "updated" if row["correct"] else "plausible" if row["plausible"] else "missed"
        else:
            result = "FALSE UPDATE" if row["false_update"] else "test kept"
        print(f"{row['id']!s:<40} {row['kind']!s:<22} {row['expect']!s:<6} {result}")
    if json_out:
        json_out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    per_kind: dict[str, list[int]] = summary["per_kind"]  # type: ignore[assignment]
    print("per kind: " + ", ".join(f"{k} {c}/{t}" for k, (c, t) in sorted(per_kind.items())))
    updated = f"{summary['obsolete_correct']}/{summary['obsolete_total']}"
    false = f"{summary['false_updates']}/{summary['code_total']}"
    rate = summary["false_update_rate"]
    print(
        f"summary: obsolete tests updated correctly {updated}, false updates {false} "
        f"(rate {rate:.2f}), total {time.monotonic() - start:.0f}s",
        flush=True,
    )
    return 0


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
) -> int:
    cases = load_cases(path)
    if only:
        cases = [c for c in cases if any(c["id"] == o or c["id"].endswith(o) for o in only)]
        if not cases:
            raise BadInput(f"no case matches --only {','.join(only)}")
    if any("base" in c for c in cases):
        return run_coevolution_bench(path, budget=budget, sandbox=sandbox, json_out=json_out)
    start = time.monotonic()
    print(f"{'case':<40} {'result':<10} {'time':>7} {'NPC':>5} {'valid.':>6}  rule", flush=True)
    results: list[CaseResult] = []
    out = json_out.open("w", encoding="utf-8") if json_out else None
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for res in pool.map(lambda c: run_case(c, budget, sandbox, predictor, llm_url), cases):
                results.append(res)
                status = (
                    "exact"
                    if res.exact
                    else "plausible"
                    if res.plausible
                    else "error"
                    if res.error
                    else "no fix"
                )
                npc = "-" if res.npc is None else str(res.npc)
                detail = res.rule or res.error or ""
                print(f"{res.id:<40} {status:<10} {res.seconds:6.1f}s {npc:>5} {res.validated:>6}  {detail}",
                      flush=True)  # fmt: skip
                if out:
                    out.write(json.dumps(asdict(res)) + "\n")
                    out.flush()
    finally:
        if out:
            out.close()
    print(summary_line(results, time.monotonic() - start), flush=True)
    sys.stdout.flush()
    return 0
