"""Mine verified real-bug cases (repository form) from git mirrors of real Python projects.

    python scripts/mine_realbugs.py --mirrors DIR --cache DIR [--out bench/realbugs/cases.jsonl]
                                    [--projects bench/realbugs/projects.json] [--only owner/name,...]
                                    [--max-cases N] [--max-tries N]

For each project of the projects file: walk the history since `since` (newest first, no merges) for commits
whose message says bug fix, that change 1-3 existing non-test Python files in at most 6 hunks and add or
change test modules, and touch nothing else but docs and change logs (a change to packaging or requirements
would make the one virtualenv per project wrong for the case). Each candidate is verified with the project's
virtualenv as `repairbot bench` makes it (repairbot.bench.repos): its test command, run on the buggy tree with
the fix's tests, fails some tests (twice, the same ones) and, with the fix's sources, passes all of them, in
under 60 s. A failing test module that does not even import on the buggy tree (the fix adds the name the test
imports) is a new API, not a bug: rejected. Verified cases are appended to --out as they are found; every
decision goes to <cache>/mine-log.jsonl.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from repairbot.bench.repos import (
    RepoCase,
    _git,
    find_mirror,
    overlay,
    parse_case,
    prepared,
    venv_environ,
)

FIX_WORDS = re.compile(
    r"\b(fix(e[sd]|ing)?|bugs?|bugfix|issue|crash(es)?|regression|incorrect(ly)?|wrong|broken|errors?|correct(ly|ed)?"
    r"|prevent|avoid|handle[sd]?|should|closes #\d+)\b",
    re.I,
)
TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$|(^|/)conftest\.py$")
TEST_MODULE = re.compile(r"(^|/)test_[^/]*\.py$|_test\.py$")
NOT_SOURCE = re.compile(
    r"^(docs?|examples?|benchmarks?|bench|scripts|tools|ci_tools|dev|\.github)/|(^|/)(setup|noxfile|conftest)\.py$"
)
DOCS = re.compile(r"^(docs?|changelog\.d|changes|\.github)/|^[^/]+\.(md|rst|txt)$|^[A-Z]+[A-Z_]*$")
PACKAGING = re.compile(r"(^|/)(requirements[^/]*|pyproject\.toml|setup\.(py|cfg)|tox\.ini|pytest\.ini)$")
MAX_HUNKS = 6
MAX_LINES = 60
MAX_RUN_S = 60.0


def candidates(mirror: Path, since: str) -> list[dict[str, Any]]:
    """Commits of the mirror's HEAD since `since` that look like small bug fixes with tests."""
    log = _git("-C", str(mirror), "log", "--no-merges", f"--since={since}", "--format=%H%x00%P%x00%B%x1e",
               "HEAD").stdout.decode("utf-8", "replace")  # fmt: skip
    found = []
    for record in log.split("\x1e"):
        parts = record.strip("\n").split("\x00")
        if len(parts) != 3:
            continue
        sha, parents, message = parts
        if len(parents.split()) != 1 or not FIX_WORDS.search(message):
            continue
        parent = parents.strip()
        status = _git("-C", str(mirror), "diff-tree", "-r", "--no-commit-id", "--name-status", "--no-renames",
                      parent, sha).stdout.decode("utf-8", "replace")  # fmt: skip
        src: list[str] = []
        tests: list[str] = []
        ok = True
        for line in status.splitlines():
            code, _, path = line.partition("\t")
            if TEST_PATH.search(path):
                tests.append(path)
            elif PACKAGING.search(path):
                ok = False
            elif path.endswith(".py") and not NOT_SOURCE.search(path):
                ok = ok and code == "M"
                src.append(path)
            elif not DOCS.search(path):
                ok = False
        modules = [t for t in tests if TEST_MODULE.search(t) and t.endswith(".py")]
        if not ok or not 1 <= len(src) <= 3 or not modules:
            continue
        diff = _git("-C", str(mirror), "diff", "-U0", parent, sha, "--", *src).stdout.decode(
            "utf-8", "replace"
        )
        hunks = sum(1 for d in diff.splitlines() if d.startswith("@@"))
        lines = sum(1 for d in diff.splitlines() if d[:1] in "+-" and not d.startswith(("+++", "---")))
        if not 1 <= hunks <= MAX_HUNKS or lines > MAX_LINES:
            continue
        subject = message.strip().splitlines()[0][:100]
        found.append({"fix": sha, "buggy": parent, "src": src, "tests": tests, "modules": modules,
                      "hunks": hunks, "lines": lines, "subject": subject})  # fmt: skip
    return found


# Outcomes come from a tiny pytest plugin, not pytest's summary lines: parametrized node ids may hold spaces.
_PLUGIN = """
import json, os
def _put(nodeid, when, outcome):
    with open(os.environ["REALDATA_OUTCOMES"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps([nodeid, when, outcome]) + "\\n")
def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        _put(report.nodeid, report.when, "xfail" if hasattr(report, "wasxfail") else report.outcome)
def pytest_collectreport(report):
    if report.failed:
        _put(report.nodeid, "collect", "failed")
"""


def run_tests(argv: tuple[str, ...], tree: Path, venv: Path) -> tuple[dict[str, str], float, str]:
    """node id -> PASSED, FAILED, ERROR (setup, teardown or collection), SKIPPED or XFAIL for one run of the
    case's command; its seconds; the tail of its output."""
    work = tree.parent / "mine"
    work.mkdir(exist_ok=True)
    (work / "_realdata_outcomes.py").write_text(_PLUGIN, encoding="utf-8")
    events = work / "outcomes.jsonl"
    events.unlink(missing_ok=True)
    env = {**venv_environ(venv), "PYTHONPATH": str(work), "REALDATA_OUTCOMES": str(events)}
    start = time.monotonic()
    try:
        cmd = [*argv, "-p", "_realdata_outcomes", "-p", "no:cacheprovider"]
        proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=90, check=False)
        out = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        return {}, float("inf"), "timeout"
    outcomes: dict[str, str] = {}
    lines = events.read_text(encoding="utf-8").splitlines() if events.exists() else []
    for nodeid, when, outcome in map(json.loads, lines):
        if outcome == "failed":
            verdict = "FAILED" if when == "call" else "ERROR"
        else:
            verdict = {"passed": "PASSED", "skipped": "SKIPPED", "xfail": "XFAIL"}[outcome]
        if outcomes.get(nodeid) not in ("FAILED", "ERROR"):
            outcomes[nodeid] = verdict
    return outcomes, time.monotonic() - start, out[-1500:]


def verify(case: RepoCase, mirrors: Path | None, cache: Path) -> tuple[list[str] | None, str]:
    """The case's failing tests when it verifies, else None and why."""
    with prepared(case, mirrors, cache) as prep:
        before, _, out_before = run_tests(prep.test_cmd, prep.tree, prep.venv)
        overlay(prep.tree, case.fix_commit, case.src_files)
        after, seconds, out_after = run_tests(prep.test_cmd, prep.tree, prep.venv)
        overlay(prep.tree, case.buggy_commit, case.src_files)
        again, _, _ = run_tests(prep.test_cmd, prep.tree, prep.venv)
    if not after:
        return None, f"no outcome after the fix: {out_after[-300:]!r}"
    bad_after = sorted(n for n, o in after.items() if o in ("FAILED", "ERROR"))
    if bad_after:
        return None, f"fails after the fix: {bad_after[:3]}"
    if seconds > MAX_RUN_S:
        return None, f"test command takes {seconds:.0f}s"
    if any(o == "ERROR" and "::" not in n for n, o in before.items()):
        return None, "a test module does not import on the buggy tree (new API)"
    failing = sorted(n for n, o in before.items() if o in ("FAILED", "ERROR") and after.get(n) == "PASSED")
    if not failing:
        return None, f"no test fails before the fix: {out_before[-200:]!r}"
    if sorted(n for n, o in again.items() if o in ("FAILED", "ERROR")) != sorted(
        n for n, o in before.items() if o in ("FAILED", "ERROR")
    ):
        return None, "flaky: the buggy tree's failures differ between two runs"
    return failing, "verified"


def recheck(path: Path, ids: set[str], mirrors: Path, cache: Path) -> int:
    """Verify the cases `ids` of `path` again: their failing tests are replaced, a case that no longer
    verifies is dropped (and said so)."""
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        if raw["id"] in ids:
            failing, why = verify(parse_case(raw), mirrors, cache)
            print(f"  {raw['id']:<32} {why[:110]}", flush=True)
            if failing is None:
                continue
            raw["failing_tests"] = failing
        kept.append(json.dumps(raw) + "\n")
    path.write_text("".join(kept), encoding="utf-8")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--projects", type=Path, default=Path("bench/realbugs/projects.json"))
    ap.add_argument("--out", type=Path, default=Path("bench/realbugs/cases.jsonl"))
    ap.add_argument("--only", default="")
    ap.add_argument("--max-cases", type=int, default=8, help="verified cases per project")
    ap.add_argument("--max-tries", type=int, default=30, help="candidates verified per project")
    ap.add_argument("--recheck", default="", help="comma-separated ids of --out to verify again in place")
    args = ap.parse_args()
    if args.recheck:
        return recheck(args.out, set(args.recheck.split(",")), args.mirrors, args.cache)
    spec = json.loads(args.projects.read_text(encoding="utf-8"))
    only = {x for x in args.only.split(",") if x}
    done = set()
    if args.out.exists():
        done = {json.loads(line)["fix_commit"] for line in args.out.read_text().splitlines() if line.strip()}
    log = (args.cache / "mine-log.jsonl").open("a", encoding="utf-8")
    for project in spec["projects"]:
        repo = project["repo"]
        if only and repo not in only:
            continue
        name = repo.split("/")[1]
        stub = RepoCase("probe", repo, "0" * 40, "0" * 40, ("x",), ("x",), ("x",), "python", (), "3")
        mirror = find_mirror(stub, args.mirrors, args.cache)
        env_commit = _git("-C", str(mirror), "rev-parse", "HEAD").stdout.decode().strip()
        found = candidates(mirror, project.get("since", spec["since"]))
        print(f"{repo}: {len(found)} candidate(s)", flush=True)
        kept = sum(1 for c in found if c["fix"] in done)
        tries = 0
        for cand in found:
            if kept >= args.max_cases or tries >= args.max_tries:
                break
            if cand["fix"] in done:
                continue
            tries += 1
            raw = {
                "id": f"{name}-{cand['fix'][:8]}",
                "kind": "repair",
                "repo": repo,
                "url": f"https://github.com/{repo}",
                "fix_commit": cand["fix"],
                "buggy_commit": cand["buggy"],
                "env_commit": env_commit,
                "src_files": cand["src"],
                "test_files": cand["tests"],
                "failing_tests": ["pending"],
                "test_cmd": "python -m pytest " + " ".join(cand["modules"]),
                "install": project["install"],
                "python": spec["python"],
                "hunks": cand["hunks"],
                "lines_changed": cand["lines"],
                "notes": cand["subject"],
            }
            case = parse_case(raw)
            t0 = time.monotonic()
            try:
                failing, why = verify(case, args.mirrors, args.cache)
            except Exception as exc:  # one bad candidate never stops the mining
                failing, why = None, f"{type(exc).__name__}: {exc}"
            log.write(
                json.dumps({"id": raw["id"], "verdict": why, "s": round(time.monotonic() - t0, 1)}) + "\n"
            )
            log.flush()
            print(f"  {raw['id']:<32} {why[:110]}", flush=True)
            if failing is None:
                continue
            raw["failing_tests"] = failing
            with args.out.open("a", encoding="utf-8") as out:
                out.write(json.dumps(raw) + "\n")
            kept += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
