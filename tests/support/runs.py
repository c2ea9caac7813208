"""Test runs for the tests of the engine's parts, through the local sandbox (the one test runner)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from repairbot.models import Job, Report, RunSpec, TestRun
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.collection import with_collection_errors
from repairbot.testing.runs import parse_test_cmd


def run_tests(root: Path, nodeids: Sequence[str] = (), files: Mapping[str, bytes] | None = None) -> TestRun:
    """Run pytest on a copy of `root` with `files` (path -> bytes) written over it; `root` is left alone."""
    scratch = Path(tempfile.mkdtemp(prefix="rb-tests-"))
    try:
        tree = scratch / "tree"
        shutil.copytree(root, tree, ignore=shutil.ignore_patterns(".git"))
        for rel, data in (files or {}).items():
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            (tree / rel).write_bytes(data)
        with LocalSandbox(scratch, parse_test_cmd(None), parallel=1) as sandbox:
            run = sandbox.run(RunSpec(tree, tests=tuple(nodeids), timeout_s=120.0, per_test_timeout_s=30.0))
        # As the pipeline sees a run: a test module that fails to import is a failing "test" (its path).
        sources = {p.relative_to(tree).as_posix() for p in tree.rglob("*.py")}
        return with_collection_errors(run, sources)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def coevolve(root: Path, base: str, budget_s: float = 120.0) -> Report:
    """Test co-evolution alone: the pipeline with the test-update generator only, applied to `root`."""
    from repairbot.pipeline import repair

    job = Job(root=root, base=base, budget_s=budget_s, sandbox="local", apply=True, generators=("tests",))
    return repair(job)
