"""`repairbot action` as GitHub Actions runs it: inputs from INPUT_*, results in the summary and outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "moving_average"


def test_action_writes_summary_outputs_patch_and_report(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    summary, outputs, temp = tmp_path / "summary.md", tmp_path / "out.txt", tmp_path / "runner"
    temp.mkdir()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": "0" * 40, "ref": "refs/heads/main"}))
    env = {
        **os.environ,
        "GITHUB_WORKSPACE": str(root),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_EVENT_NAME": "push",
        "RUNNER_TEMP": str(temp),
        "INPUT_SANDBOX": "local",
        "INPUT_BUDGET": "120",
        "INPUT_GITHUB_TOKEN": "ghs_secret_token_value",
    }
    proc = subprocess.run([sys.executable, "-m", "repairbot", "action"], env=env, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert values["status"] == "fixed" and values["kind"] == "code"
    patch = Path(values["patch-file"]).read_text()
    assert "+    for start in range(len(values) - window + 1):" in patch
    report = json.loads(Path(values["report-file"]).read_text())
    assert report["schema_version"] == 1 and report["status"] == "fixed"
    text = summary.read_text()
    assert "## repairbot" in text and "```diff" in text and "whole test suite passes" in text
    assert "ghs_secret_token_value" not in text + proc.stdout + proc.stderr
    assert (root / "stats.py").read_text() == (EXAMPLE / "stats.py").read_text()  # no --apply in the Action


def test_action_bad_budget_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "GITHUB_WORKSPACE": str(tmp_path), "INPUT_BUDGET": "soon"}
    proc = subprocess.run([sys.executable, "-m", "repairbot", "action"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 2 and "input budget must be a number" in proc.stderr
    assert "Traceback" not in proc.stderr
