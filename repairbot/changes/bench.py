"""Dev-set scorer for test co-evolution (bench/coevolution/cases.jsonl) and the repository materializer."""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from repairbot.models import Report, TestOutcome, TestRun

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "repairbot",
    "GIT_AUTHOR_EMAIL": "repairbot@localhost",
    "GIT_COMMITTER_NAME": "repairbot",
    "GIT_COMMITTER_EMAIL": "repairbot@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV}
    proc = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, env=env, check=True, timeout=60
    )
    return proc.stdout.decode().strip()


def _write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)


def make_repo(
    root: Path,
    base: Mapping[str, str | bytes],
    tree: Mapping[str, str | bytes],
    *,
    commit_tree: bool = False,
    message: str = "change",
) -> str:
    """A git repository at `root` whose first commit holds `base`; then the files become `tree` (files of
    `base` missing from `tree` are deleted). With `commit_tree` the change is committed too. Returns the
    base commit id."""
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    _write(root, base)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    rev = _git(root, "rev-parse", "HEAD")
    for rel in base:
        if rel not in tree:
            (root / rel).unlink()
    _write(root, tree)
    if commit_tree:
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", message)
    return rev


# ---------------------------------------------------------------- co-evolution loop without the pipeline


def _diff(path: str, old: bytes, new: bytes) -> str:
    import difflib

    return "".join(
        difflib.unified_diff(
            old.decode("utf-8", "replace").splitlines(keepends=True),
            new.decode("utf-8", "replace").splitlines(keepends=True),
            f"a/{path}",
            f"b/{path}",
        )
    )


def _overlay_run(
    root: Path, changed: Mapping[str, bytes], files: Mapping[str, bytes], ids: Sequence[str]
) -> TestRun:
    from repairbot.changes.runner import run_with_overlay

    return run_with_overlay(root, {**changed, **files}, ids)


def _progress(first: TestRun, current: Sequence[TestOutcome], new: TestRun) -> bool:
    """A candidate helps when it breaks no test that passed at first and fixes or changes a failure
    (a collection error that became a single assertion failure counts: the next round takes it on)."""
    now_failing = {o.nodeid: o.message for o in new.outcomes if not o.ok}
    if set(first.passing) & set(now_failing):
        return False
    before = {o.nodeid: o.message for o in current}
    if len(now_failing) < len(before) and set(now_failing) <= set(before):
        return True
    return now_failing != before and not any(before.get(n) == m for n, m in now_failing.items())


def coevolve(root: Path, base: str | None = None, rounds: int = 3, apply: bool = True) -> Report:
    """Test co-evolution only, with the local runner: classify failing tests against the change from `base`
    and update the obsolete ones (guards enforced). Regressions are left to the code generators: the report
    then says kind "code", status "not_fixed". The pipeline does the same with its sandbox and budgets."""
    import tempfile
    import time

    from repairbot.changes.classify import classify, split_nodeid
    from repairbot.changes.extract import default_base, extract_changes, materialize
    from repairbot.changes.guards import base_check_plan, check_base_run, check_not_weakened
    from repairbot.changes.pyast import is_test_path
    from repairbot.changes.runner import run_pytest, run_with_overlay
    from repairbot.generate.tests import apply_edits, observe_values, update_candidates
    from repairbot.models import Patch, Snapshot, Stats

    t0 = time.monotonic()
    base = base or default_base(root)
    run = run_pytest(root)
    failing = [o for o in run.outcomes if not o.ok]
    if not failing:
        return Report("not_fixed", "none", notes=("the suite passes",))
    if base is None:
        return Report(
            "not_fixed",
            "code",
            failing_tests=tuple(o.nodeid for o in failing),
            notes=("no base revision: every failure is treated as a regression",),
        )
    changes = extract_changes(root, base)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = materialize(root, base, Path(tmp) / "base")
        passed_at_base = set(run_pytest(base_dir).passing)
    test_files = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if ".git" not in p.parts and is_test_path(p.relative_to(root).as_posix())
    )
    sources = {p: (root / p).read_bytes() for p in test_files}
    classes = dict(classify(changes, failing, passed_at_base, sources))
    notes = [f"{n}: {c.kind}: {c.evidence}" for n, c in classes.items()]
    if not any(c.kind == "obsolete" for c in classes.values()):
        return Report("not_fixed", "code", failing_tests=tuple(o.nodeid for o in failing), notes=tuple(notes))
    snapshot = Snapshot(root)
    originals = dict(sources)
    generated = validated = 0
    current = failing
    for _ in range(rounds):
        observed = observe_values(
            snapshot,
            current,
            classes,
            functools.partial(_overlay_run, root, dict(snapshot.changed)),
        )
        cands = update_candidates(snapshot, changes, current, classes, test_files, observed)
        generated += len(cands)
        progressed = False
        done: set[str] = set()  # edits are offsets into this round's files: one accepted candidate per file
        for cand in cands:
            path = cand.edits[0].path
            if path in done:
                continue
            new = apply_edits(snapshot.read(path), cand.edits)
            if check_not_weakened(originals[path], new) is not None:
                continue
            validated += 1
            trial = snapshot.with_files({path: new})
            r = run_with_overlay(root, dict(trial.changed))
            if _progress(run, current, r):
                snapshot = trial
                current = [o for o in r.outcomes if not o.ok]
                progressed = True
                done.add(path)
        if not current or not progressed:
            break
        # Newly exposed failures (e.g. a value change behind a rename) get classified on the updated tree.
        sources = {p: snapshot.read(p) for p in test_files}
        for o in current:
            c = classify(changes, [o], passed_at_base, sources).get(o.nodeid)
            if c is not None:
                classes[o.nodeid] = c
    if current or not snapshot.changed:
        return Report(
            "not_fixed",
            "test",
            failing_tests=tuple(o.nodeid for o in failing),
            notes=tuple(notes),
            stats=Stats(generated, validated, None, rounds, time.monotonic() - t0),
        )
    plan = base_check_plan(classes, dict(snapshot.changed))
    if plan is not None:
        with tempfile.TemporaryDirectory() as tmp:
            base_dir = materialize(root, base, Path(tmp) / "base")
            reason = check_base_run(plan, run_with_overlay(base_dir, plan.files, plan.nodeids))
        if reason is not None:
            return Report(
                "not_fixed", "test", failing_tests=tuple(o.nodeid for o in failing), notes=(*notes, reason)
            )
    diff = "".join(_diff(p, originals[p], b) for p, b in sorted(snapshot.changed.items()))
    if apply:
        for p, b in snapshot.changed.items():
            (root / p).write_bytes(b)
    patch = Patch(
        diff,
        "tests",
        None,
        tuple(sorted(snapshot.changed)),
        True,
        1.0,
        kind="test",
        evidence="; ".join(c.evidence for c in classes.values() if c.kind == "obsolete")[:1000],
    )
    _ = split_nodeid
    return Report(
        "fixed",
        "test",
        failing_tests=tuple(o.nodeid for o in failing),
        patches=(patch,),
        stats=Stats(generated, validated, validated, rounds, time.monotonic() - t0),
        notes=tuple(notes),
    )


# ---------------------------------------------------------------- the dev-set scorer


def normalized_ast(src: str | bytes) -> str:
    """AST dump without docstrings/bare strings and without import order, for comparing test files."""
    import ast

    tree = ast.parse(src)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            node.body = [  # type: ignore[attr-defined]
                s
                for s in body
                if not (
                    isinstance(s, ast.Expr)
                    and isinstance(s.value, ast.Constant)
                    and isinstance(s.value.value, str)
                )
            ] or body
        if isinstance(node, ast.ImportFrom):
            node.names.sort(key=lambda a: a.name)
    # Imports are a set: their order does not change what a test checks.
    imports = sorted(ast.dump(s) for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom)))
    rest = [ast.dump(s) for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    return "\n".join([*imports, *rest])


def _same(a: str | bytes, b: str | bytes) -> bool:
    try:
        return normalized_ast(a) == normalized_ast(b)
    except SyntaxError:
        return False


def load_cases(path: Path) -> list[dict[str, Any]]:
    from repairbot.bench import load_cases as load_jsonl

    return load_jsonl(path, required=("id", "base", "files", "tests", "expect", "fixed"))


def materialize_case(case: Mapping[str, object], dest: Path) -> str:
    """A git repository for `case`: base committed, the tree holding files + tests. Returns the base rev."""
    files: Mapping[str, str] = case["files"]  # type: ignore[assignment]
    tests: Mapping[str, str] = case["tests"]  # type: ignore[assignment]
    base: Mapping[str, str] = case["base"]  # type: ignore[assignment]
    return make_repo(dest, base, {**files, **tests})


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
    cases_path: Path, run_repair: Callable[[Path, str], Report], workdir: Path | None = None
) -> dict[str, object]:
    """Materialize each case as a git repository, call `run_repair(path, base_rev)` (which must leave the
    repaired tree in `path`, like `repairbot repair --apply`), and score it. Returns
    {"rows": [...], "per_kind": {kind: [correct, total]}, "obsolete_correct": x, "obsolete_total": n,
     "false_updates": f, "code_total": m, "false_update_rate": f/m}."""
    import tempfile

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for case in load_cases(cases_path):
            root = Path(tmp) / str(case["id"])
            rev = materialize_case(case, root)
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


def main(argv: list[str] | None = None) -> int:
    """python -m repairbot.changes.bench CASES.jsonl: score the co-evolution loop alone (no code repair)."""
    import json
    import sys

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path("bench/coevolution/cases.jsonl")
    summary = score(path, lambda root, base: coevolve(root, base))
    for r in summary["rows"]:  # type: ignore[attr-defined]
        print(json.dumps(r))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
