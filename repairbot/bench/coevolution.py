"""The co-evolution dev set (bench/coevolution/cases.jsonl): cases with a base revision whose failing tests
are obsolete (expect "test": the update is scored against `fixed`) or right (expect "code": any test edit is a
false update)."""

from __future__ import annotations

import ast
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from repairbot.bench.cases import COEVOLUTION_REQUIRED, Case, load_cases, materialize_repo
from repairbot.errors import RepairbotError
from repairbot.models import Job, Report
from repairbot.parsing.normalize import dump, strip_strings


def normalized_ast(src: str | bytes) -> str:
    """The module's normalized form (parsing.normalize: no docstrings or bare strings) with its imports as a
    set, for comparing test files. Raises SyntaxError when `src` does not parse."""
    tree = strip_strings(ast.parse(src))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            node.names.sort(key=lambda a: a.name)
    # Imports are a set: their order does not change what a test checks.
    body = tree.body if isinstance(tree, ast.Module) else []
    imports = sorted(dump(s) for s in body if isinstance(s, (ast.Import, ast.ImportFrom)))
    rest = [dump(s) for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    return "\n".join([*imports, *rest])


def _same(a: str | bytes, b: str | bytes) -> bool:
    try:
        return normalized_ast(a) == normalized_ast(b)
    except SyntaxError:
        return False


def score_case(case: Mapping[str, object], root: Path, report: Report) -> dict[str, object]:
    """Score one case after `run_repair` left its repaired tree in `root`.

    expect "test": *correct* when every file of `fixed` equals the tree's file after normalization (AST dump,
    docstrings dropped, import order ignored), *plausible* when the report is a validated test update (suite
    green) without being exact (e.g. an equivalent literal spelled otherwise). No code file may change.
    expect "code": *false update* when any test file was edited (or the report says kind "test");
    *correct* when the fixed sources match (scored by the main bench; here only the safety matters).
    """
    expect = case["expect"]
    tests: Mapping[str, str] = case["tests"]  # type: ignore[assignment]
    files: Mapping[str, str] = case["files"]  # type: ignore[assignment]
    fixed: Mapping[str, str] = case["fixed"]  # type: ignore[assignment]
    tests_changed = any(
        not (root / p).exists() or (root / p).read_text(encoding="utf-8") != s for p, s in tests.items()
    )
    code_changed = any(
        not (root / p).exists() or (root / p).read_text(encoding="utf-8") != s for p, s in files.items()
    )
    row: dict[str, object] = {
        "id": case["id"],
        "kind": case.get("kind", ""),
        "expect": expect,
        "report_kind": report.kind,
        "status": report.status,
    }
    if expect == "test":
        exact = not code_changed and all(
            (root / p).exists() and _same((root / p).read_bytes(), s) for p, s in fixed.items()
        )
        row["correct"] = exact
        row["plausible"] = exact or (report.status == "fixed" and report.kind == "test" and not code_changed)
    else:
        row["false_update"] = tests_changed or report.kind == "test"
        row["correct"] = not tests_changed and all(
            (root / p).exists() and _same((root / p).read_bytes(), s) for p, s in fixed.items()
        )
    return row


def score(
    cases: Sequence[Case], run_repair: Callable[[Path, str], Report], workdir: Path | None = None
) -> dict[str, object]:
    """Materialize each case as a git repository, call `run_repair(path, base_rev)` (which must leave the
    repaired tree in `path`, like `repairbot repair --apply`), and score it. Returns
    {"rows": [...], "per_kind": {kind: [correct, total]}, "obsolete_correct": x, "obsolete_total": n,
     "false_updates": f, "code_total": m, "false_update_rate": f/m}."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for case in cases:
            root = Path(tmp) / str(case["id"])
            rev = materialize_repo(case, root)
            try:
                report = run_repair(root, rev)
            except Exception as exc:  # a crash scores as a miss, with the reason in the row
                report = Report("error", error=f"{type(exc).__name__}: {exc}")
            row = score_case(case, root, report)
            row["error"] = report.error
            rows.append(row)
    per_kind: dict[str, list[int]] = {}
    for r in rows:
        k = str(r["kind"])
        per_kind.setdefault(k, [0, 0])
        per_kind[k][1] += 1
        if (r["expect"] == "test" and r["correct"]) or (r["expect"] == "code" and not r["false_update"]):
            per_kind[k][0] += 1
    tests_rows = [r for r in rows if r["expect"] == "test"]
    code_rows = [r for r in rows if r["expect"] == "code"]
    false_updates = sum(bool(r["false_update"]) for r in code_rows)
    return {
        "rows": rows,
        "per_kind": per_kind,
        "obsolete_correct": sum(bool(r["correct"]) for r in tests_rows),
        "obsolete_plausible": sum(bool(r["plausible"]) for r in tests_rows),
        "obsolete_total": len(tests_rows),
        "false_updates": false_updates,
        "code_total": len(code_rows),
        "false_update_rate": false_updates / len(code_rows) if code_rows else 0.0,
    }


def load_coevolution_cases(path: Path) -> list[Case]:
    return load_cases(path, COEVOLUTION_REQUIRED)


def run_coevolution_bench(
    cases: Sequence[Case], *, budget: float, sandbox: str, json_out: Path | None
) -> int:
    """Cases with a `base` revision: obsolete tests to update (expect "test") and real bugs whose test is
    right (expect "code"). Prints a row per case, the score per kind of change and the false-update rate."""
    from repairbot.pipeline import repair

    start = time.monotonic()

    def run_repair(root: Path, base: str) -> Report:
        job = Job(root=root, base=base, budget_s=budget, sandbox=sandbox, apply=True, job_id=root.name)
        try:
            return repair(job)
        except RepairbotError as err:
            return Report(status="error", error=str(err))

    summary = score(cases, run_repair)
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
