"""Wall time of the GitHub Action on the bundled example (examples/moving_average with its bug), as a runner
runs it: action.yml's steps through tests/support/actions_runner.py, a push event, the Docker sandbox.

Three cases: `warm` (the cache holds repairbot's virtualenv for exactly this source: restore, no install),
`new-source` (the cache holds the dependencies of an earlier source: restore, reinstall repairbot itself
without its dependencies), `cold` (no cache: a virtualenv and every dependency from the package index; only
with --cold, it depends on the network). Prints one line per run and the median per case.

    python benchmarks/action_walltime.py [--runs 3] [--cold] [--image offline]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.actions_runner import ActionRunner, Machine, RunResult, base_python, copy_action  # noqa: E402
from tests.support.github_server import commit_push, init_remote, run_git  # noqa: E402

EXAMPLE = ROOT / "examples" / "moving_average"


def _run(runner: ActionRunner, work: Path, image: str) -> RunResult:
    files = {str(p.relative_to(EXAMPLE)): p.read_text() for p in EXAMPLE.rglob("*") if p.is_file()
             and "__pycache__" not in p.parts}  # fmt: skip
    fixed = dict(files, **{"stats.py": files["stats.py"].replace("- window):", "- window + 1):")})
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    bare, dev, before = init_remote(work, fixed)
    after = commit_push(dev, {"stats.py": files["stats.py"]}, "main", "bug")
    ws = work / "ws"
    run_git(work, "clone", "--quiet", str(bare), str(ws))
    event = {"ref": "refs/heads/main", "before": before, "after": after,
             "repository": {"full_name": "octo/stats", "default_branch": "main"}}  # fmt: skip
    result = runner.run(workspace=ws, event_name="push", event=event, repository="octo/stats", sha=after,
                        ref="refs/heads/main", token="ghs_unused", api_url="http://127.0.0.1:9",
                        inputs={"budget": "300"}, env={"REPAIRBOT_IMAGE": image})  # fmt: skip
    if not result.succeeded or result.outputs.get("status") != "fixed":
        raise SystemExit(f"the action did not fix the example:\n{result.log}")
    return result


def _steps(result: RunResult) -> float:
    return sum(s.seconds for s in result.steps)


def _line(case: str, result: RunResult) -> str:
    steps = ", ".join(f"{s.id} {s.seconds:.1f}s" for s in result.steps if s.outcome != "skipped")
    return f"{case:10s} steps {_steps(result):5.1f}s, with the harness {result.seconds:5.1f}s  ({steps})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--cold", action="store_true", help="also time a run with an empty cache")
    p.add_argument("--image", default="offline", help="REPAIRBOT_IMAGE for the Docker sandbox")
    args = p.parse_args()
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    machine = Machine(Path(f"/tmp/repairbot-runner-bench-{tag}"), base_python())
    with tempfile.TemporaryDirectory() as tmp:
        action = copy_action(ROOT, Path(tmp) / "action")
        runner = ActionRunner(action, machine)
        timings: dict[str, list[float]] = {}  # the steps' wall time: what a runner spends on the action
        if args.cold:
            shutil.rmtree(machine.cache_store, ignore_errors=True)
            result = _run(runner, Path(tmp) / "work", args.image)
            print(_line("cold", result), flush=True)
            timings["cold"] = [_steps(result)]
        else:
            _run(runner, Path(tmp) / "work", args.image)  # make sure the cache holds this source
        for n in range(args.runs):
            result = _run(runner, Path(tmp) / "work", args.image)
            print(_line("warm", result), flush=True)
            timings.setdefault("warm", []).append(_steps(result))
            # The same dependencies under an older source: the restore-keys path reinstalls repairbot only.
            # A marker never written before: an earlier invocation's cache must not hold this source.
            (action / "repairbot" / "_bench_marker.py").write_text(f"RUN = {n!r}, {uuid.uuid4().hex!r}\n")
            result = _run(runner, Path(tmp) / "work", args.image)
            print(_line("new-source", result), flush=True)
            timings.setdefault("new-source", []).append(_steps(result))
            (action / "repairbot" / "_bench_marker.py").unlink()
        for case, values in timings.items():
            print(f"median {case}: {statistics.median(values):.1f}s (steps) over {len(values)} run(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
