"""Benchmark: validate the same K candidates of one QuixBugs case three ways.

(a) naive:  a fresh hardened `docker run` + pytest per candidate;
(b) docker: the per-job container design (DockerSandbox: one container, warm fork servers exec'd inside);
(c) local:  the local backend (LocalSandbox, no isolation).

Goals (issue 3): (b) at least 10x faster than (a), and within 1.5x of (c).

    python benchmarks/sandbox_modes.py [--bench ../shared/bench/quixbugs.jsonl] [--case quixbugs/quicksort]
                                       [-k 30] [--parallel 1] [--timeout 10]

Candidates are simple mutants of the buggy file (operator swaps), plus the reference fix: measurement
plumbing only, nothing here is used by repairbot.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
import tokenize
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repairbot.models import RunSpec
from repairbot.sandbox.docker import DockerSandbox, Limits, connect_engine
from repairbot.sandbox.images import offline_image
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.runs import parse_test_cmd

DEFAULT_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "quixbugs.jsonl"
SWAPS = {
    "+": "-",
    "-": "+",
    "*": "//",
    "//": "*",
    "<": "<=",
    "<=": "<",
    ">": ">=",
    ">=": ">",
    "==": "!=",
    "!=": "==",
    "and": "or",
    "or": "and",
    "0": "1",
    "1": "0",
}


def mutants(source: str, k: int) -> list[str]:
    """Up to k-1 single-token swaps of `source`, in order of position."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out: list[str] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.string in SWAPS and tok.type in (tokenize.OP, tokenize.NAME, tokenize.NUMBER):
            start = offsets[tok.start[0] - 1] + tok.start[1]
            end = offsets[tok.end[0] - 1] + tok.end[1]
            out.append(source[:start] + SWAPS[tok.string] + source[end:])
            if len(out) >= k - 1:
                break
    return out


def materialize(case: dict[str, Any], scratch: Path, k: int) -> list[Path]:
    entry = case["entry"]
    sources = [*mutants(case["files"][entry], k), case["fixed"][entry]]
    while len(sources) < k:  # few operators: repeat (each candidate is still its own tree)
        sources.append(sources[len(sources) % max(1, len(sources) - 1)])
    trees = []
    for i, src in enumerate(sources[:k]):
        tree = scratch / f"cand{i:03d}"
        tree.mkdir(parents=True)
        for name, text in {**case["files"], **case["tests"]}.items():
            (tree / name).write_text(text, encoding="utf-8")
        (tree / entry).write_text(src, encoding="utf-8")
        trees.append(tree)
    return trees


def timed(label: str, fn: Callable[[], list[bool]]) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    verdicts = fn()
    seconds = time.perf_counter() - start
    print(f"{label:8s} {seconds:8.2f} s   passed {sum(verdicts)}/{len(verdicts)}", flush=True)
    return seconds, verdicts


def run_sandbox(sandbox: Any, trees: list[Path], parallel: int, timeout: float) -> list[bool]:
    def one(tree: Path) -> bool:
        run = sandbox.run(RunSpec(workdir=tree, timeout_s=timeout, tb="line"))
        return run.exit_code == 0 and not run.failing

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(one, trees))


def run_naive(trees: list[Path], scratch: Path, parallel: int, timeout: float) -> list[bool]:
    """A fresh container per candidate, with the same hardening and mounts as the per-job design."""
    client = connect_engine()
    interpreter = sys.executable
    choice = offline_image(client, interpreter, "benchmark")
    limits = Limits()
    uid, gid = limits.resolved_user()
    volumes = {p: {"bind": p, "mode": "ro"} for p in choice.mounts}
    volumes[str(scratch)] = {"bind": str(scratch), "mode": "rw"}

    def one(tree: Path) -> bool:
        container = client.containers.run(
            choice.ref,
            [interpreter, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=line", str(tree)],
            detach=True,
            user=f"{uid}:{gid}",
            working_dir=str(tree),
            environment={
                "PATH": "/usr/bin:/bin",
                "HOME": "/tmp",
                "LANG": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1",
            },
            volumes=volumes,
            network_mode="none",
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={limits.tmpfs_mb}m"},
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            nano_cpus=10**9,
            pids_limit=limits.pids,
            security_opt=["no-new-privileges"],
            cap_drop=["ALL"],
            labels={"repairbot.job": "bench-naive"},
        )
        try:
            status = container.wait(timeout=timeout + 30)
            return int(status.get("StatusCode", 1)) == 0
        except Exception:
            return False
        finally:
            container.remove(force=True)

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(one, trees))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--case", default="quixbugs/quicksort")
    parser.add_argument("-k", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument(
        "--rounds", type=int, default=1, help="alternate (b) and (c) this many times; report each one's best"
    )
    parser.add_argument("--skip-naive", action="store_true", help="only (b) and (c)")
    args = parser.parse_args(argv)

    cases = [json.loads(line) for line in args.bench.read_text(encoding="utf-8").splitlines() if line.strip()]
    case = next((c for c in cases if c["id"] == args.case), None)
    if case is None:
        parser.error(f"no case {args.case} in {args.bench}")
    command = parse_test_cmd(None)
    root = Path(tempfile.mkdtemp(prefix="rb-bench-"))
    try:
        print(f"case {case['id']}: {args.k} candidates, parallel {args.parallel}, timeout {args.timeout:g} s")
        results: dict[str, float] = {}
        verdicts: dict[str, list[bool]] = {}
        docker_trees = materialize(case, root / "docker", args.k)
        local_trees = materialize(case, root / "local", args.k)
        open_start = time.perf_counter()
        with (
            DockerSandbox(root / "docker", command, args.parallel, image="offline", job_id="bench") as sb,
            LocalSandbox(root / "local", command, args.parallel) as lb,
        ):
            print(f"(b) container up in {time.perf_counter() - open_start:.2f} s: {sb.description}")
            # Warm every server, as a job's first runs do.
            run_sandbox(sb, docker_trees[: args.parallel], args.parallel, args.timeout)
            run_sandbox(lb, local_trees[: args.parallel], args.parallel, args.timeout)
            for _ in range(args.rounds):
                for label, box, trees in (("docker", sb, docker_trees), ("local", lb, local_trees)):
                    work = partial(run_sandbox, box, trees, args.parallel, args.timeout)
                    seconds, verdicts[label] = timed(label, work)
                    results[label] = min(seconds, results.get(label, seconds))

        if not args.skip_naive:
            scratch = root / "naive"
            trees = materialize(case, scratch, args.k)
            if os.geteuid() == 0:
                for path in [scratch, *scratch.rglob("*")]:
                    shutil.chown(path, *Limits().resolved_user())
            results["naive"], verdicts["naive"] = timed(
                "naive", lambda: run_naive(trees, scratch, args.parallel, args.timeout)
            )

        same = len({tuple(v) for v in verdicts.values()}) == 1
        print(f"verdicts agree across modes: {same}")
        print("  ".join(f"{k} {v:.2f} s ({v / args.k:.3f} s/candidate)" for k, v in results.items()))
        if "naive" in results:
            ratio = results["naive"] / results["docker"]
            print(f"naive / docker = {ratio:.1f}x  (goal >= 10x: {'met' if ratio >= 10 else 'NOT met'})")
        ratio = results["docker"] / results["local"]
        print(f"docker / local = {ratio:.2f}x (goal <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
