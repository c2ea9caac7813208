"""The CLI contract on the bundled example: diff on stdout, report schema, --apply, user files untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.test_bad_input import _hashes, repairbot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "moving_average"
SCHEMA_KEYS = {
    "schema_version",
    "status",
    "kind",
    "failing_tests",
    "patches",
    "localization",
    "stats",
    "error",
}
STATS_KEYS = {"candidates_generated", "candidates_validated", "first_plausible_at", "rounds", "seconds"}
PATCH_KEYS = {"diff", "generator", "rule", "files", "suite_passed", "score"}


def test_repair_prints_a_validated_diff_and_leaves_the_tree_alone(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(EXAMPLE, root)
    before = _hashes(root)
    proc = repairbot(
        "repair", str(root), "--sandbox", "local", "--budget", "120", "--json", str(tmp_path / "r.json")
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("--- a/stats.py\n+++ b/stats.py\n")
    assert "+    for start in range(len(values) - window + 1):" in proc.stdout
    assert "fixed: code fix" in proc.stderr and "Traceback" not in proc.stderr
    assert _hashes(root) == before

    report = json.loads((tmp_path / "r.json").read_text())
    assert set(report) >= SCHEMA_KEYS and report["schema_version"] == 1
    assert report["status"] == "fixed" and report["kind"] == "code" and report["error"] is None
    assert set(report["stats"]) >= STATS_KEYS and report["stats"]["first_plausible_at"] is not None
    assert 0 < report["stats"]["first_plausible_s"] <= report["stats"]["seconds"]  # an extension of stats
    patch = report["patches"][0]
    assert set(patch) >= PATCH_KEYS and patch["files"] == ["stats.py"] and patch["suite_passed"] is True
    assert patch["diff"] == proc.stdout
    assert report["failing_tests"] == ["tests/test_stats.py::test_moving_average_pairs",
                                       "tests/test_stats.py::test_moving_average_whole_window"]  # fmt: skip
    assert report["localization"][0]["path"] == "stats.py"


def test_apply_leaves_exactly_the_patch_applied(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(EXAMPLE, root)
    before = _hashes(root)
    proc = repairbot("repair", str(root), "--sandbox", "local", "--budget", "120", "--apply", "--quiet")
    assert proc.returncode == 0, proc.stderr
    after = _hashes(root)
    assert {k for k in before if before[k] != after.get(k)} == {"stats.py"}
    assert set(after) == set(before)  # nothing added, nothing removed
    text = (root / "stats.py").read_text()
    assert "range(len(values) - window + 1)" in text
    original = (EXAMPLE / "stats.py").read_text()
    assert text == original.replace("range(len(values) - window)", "range(len(values) - window + 1)")


def test_localize_prints_ranked_lines(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(EXAMPLE, root)
    proc = repairbot("localize", str(root), "--sandbox", "local")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["score", "location"]
    assert lines[1].split()[1].startswith("stats.py:")
