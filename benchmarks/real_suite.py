"""Measure repairbot on a real project's suite: baseline time against plain pytest, cost per validated
candidate, and disk used by the job's scratch directory.

    python benchmarks/real_suite.py --project DIR --python VENV/bin/python --bug FILE OLD NEW \
        [--paths P ...] [--sandbox local|docker] [--budget S]

The project (a checkout installed in its virtualenv as its users have it, e.g. editable) first runs with
plain pytest; then OLD is replaced by NEW in FILE (the injected bug), repairbot repairs it, and FILE is put
back. Progress lines are timestamped to split the phases; the job's scratch folder is sampled with `du`
(hard links counted once) while it runs. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _du_kib(path: str) -> int:
    out = subprocess.run(["du", "-sk", path], capture_output=True, text=True, check=False).stdout.split()
    return int(out[0]) if out else 0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("--python", required=True)
    p.add_argument("--bug", nargs=3, metavar=("FILE", "OLD", "NEW"), required=True)
    p.add_argument("--paths", nargs="*", default=[])
    p.add_argument("--sandbox", default="local")
    p.add_argument("--budget", type=float, default=900)
    args = p.parse_args()
    project = args.project.resolve()
    pytest_args = ["-q", "-p", "no:cacheprovider", *args.paths]

    t0 = time.monotonic()
    plain = subprocess.run([args.python, "-m", "pytest", *pytest_args], cwd=project, capture_output=True,
                           text=True, check=False)  # fmt: skip
    plain_s = time.monotonic() - t0
    summary = [line for line in plain.stdout.splitlines() if " passed" in line or " failed" in line][-1:]

    target = project / args.bug[0]
    original = target.read_bytes()
    buggy = original.replace(args.bug[1].encode(), args.bug[2].encode(), 1)
    assert buggy != original, "the bug's OLD text is not in FILE"
    private_tmp = tempfile.mkdtemp(prefix="real-suite-")  # the job's scratch lands here, apart from others'
    peak = {"kib": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(2.0):
            for d in glob.glob(os.path.join(private_tmp, "repairbot-*")):
                peak["kib"] = max(peak["kib"], _du_kib(d))

    sampler = threading.Thread(target=sample, daemon=True)
    report_path = Path(tempfile.mkdtemp()) / "report.json"
    lines: list[tuple[float, str]] = []
    try:
        target.write_bytes(buggy)
        sampler.start()
        cmd = [sys.executable, "-m", "repairbot", "repair", str(project), "--sandbox", args.sandbox,
               "--budget", str(args.budget), "--json", str(report_path), "--test-cmd",
               " ".join([args.python, "-m", "pytest", *args.paths])]  # fmt: skip
        t1 = time.monotonic()
        env = {**os.environ, "TMPDIR": private_tmp}
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.monotonic() - t1, line.rstrip()))
        proc.wait()
        total_s = time.monotonic() - t1
    finally:
        target.write_bytes(original)
        done.set()
    report = json.loads(report_path.read_text())

    def first(text: str) -> float | None:
        return next((t for t, line in lines if text in line), None)

    baseline_s = first("failing test(s) of")
    validating = first("candidate(s) to validate")
    validated = report["stats"]["candidates_validated"]
    end = first("plausible patch") or total_s
    print(json.dumps({
        "plain_pytest_s": round(plain_s, 1),
        "plain_summary": summary[0] if summary else plain.stdout[-200:],
        "baseline_s": baseline_s and round(baseline_s, 1),
        "time_to_first_plausible_s": first("plausible patch") and round(end, 1),
        "total_s": round(total_s, 1),
        "candidates_validated": validated,
        "per_candidate_s": round((end - validating) / validated, 2) if validating and validated else None,
        "scratch_peak_mib": round(peak["kib"] / 1024, 1),
        "project_mib": round(_du_kib(str(project)) / 1024, 1),
        "status": report["status"],
        "notes": report["notes"],
        "localization_top": report["localization"][:3],
        "progress": [f"{t:7.1f}s {line}" for t, line in lines],
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
