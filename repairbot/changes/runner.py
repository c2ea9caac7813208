"""A small local pytest runner for the co-evolution dev bench and tests (the pipeline uses its sandbox)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from repairbot.models import TestOutcome, TestRun


def run_pytest(root: Path, nodeids: Sequence[str] = (), timeout_s: float = 120.0) -> TestRun:
    """Run pytest in `root` (a subprocess, no cache, no bytecode) and return per-test outcomes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        env = {
            **os.environ,
            "RB_CHANGES_OUT": str(out),
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(root)]),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "_collect_plugin",
            "--rootdir",
            str(root),
            *nodeids,
        ]
        try:
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return TestRun(timed_out=True, killed="timeout", exit_code=-1)
        outcomes: list[TestOutcome] = []
        if out.exists():
            for line in out.read_text(encoding="utf-8").splitlines():
                r = json.loads(line)
                outcomes.append(
                    TestOutcome(
                        r["nodeid"],
                        r["outcome"],
                        r["message"],
                        r["longrepr"],
                        tuple((p, int(n)) for p, n in r["frames"]),
                    )
                )
        return TestRun(
            outcomes=tuple(outcomes),
            exit_code=proc.returncode,
            output=(proc.stdout + proc.stderr).decode("utf-8", "replace")[-4000:],
        )


def run_with_overlay(root: Path, files: Mapping[str, bytes], nodeids: Sequence[str] = ()) -> TestRun:
    """Run with `files` temporarily written over the tree, restoring the originals afterwards."""
    saved: dict[str, bytes | None] = {}
    try:
        for rel, data in files.items():
            p = root / rel
            saved[rel] = p.read_bytes() if p.exists() else None
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return run_pytest(root, nodeids)
    finally:
        for rel, old in saved.items():
            p = root / rel
            if old is None:
                p.unlink(missing_ok=True)
            else:
                p.write_bytes(old)
