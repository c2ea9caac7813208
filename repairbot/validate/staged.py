"""Validation stages, cheapest first.

1. gates: the patched files parse (Python's parser; tree-sitter gate too) and differ, by normalized AST,
   from every candidate seen before — no sandbox time for duplicates or broken syntax;
2. the files of the failing tests, stopping at the first previously-passing test that breaks or the first
   test that hangs;
3. the whole suite, for candidates that fixed every failing test (or some of them: a partial fix must not
   break anything elsewhere either).
On a large suite (`Baseline.staged_suite`) a stage comes between: the test files whose tests cover the
candidate's changed lines; and the whole suite runs for plausible candidates only (a partial fix's next
round runs the suite anyway, and the pipeline drops it if it broke a test).
"""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from repairbot.models import Candidate, Edit, RunSpec, Sandbox, Snapshot, TestOutcome, TestRun, Verdict
from repairbot.parsing import normalized_key, syntax_ok
from repairbot.paths import UnsafePath
from repairbot.workspace import Workspace, apply_edits, encoding_of

# A candidate that hangs costs at least this much per test; correct code runs such tests in milliseconds.
PER_TEST_FLOOR_S = 0.25


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the suite did before any candidate: the reference every verdict is measured against."""

    run: TestRun
    test_files: tuple[str, ...]  # all test files of the project
    per_test_timeout_s: float
    suite_timeout_s: float
    # The job's own limits: a candidate that fixes some failing tests while the others time out gets them
    # again with these (a correct fix of a fast-failing test can be legitimately slow), never the others.
    patient_per_test_s: float = 0.0
    patient_suite_s: float = 0.0
    # Kept apart (repairbot/testing/triage.py): flaky and pre-existing failures, whatever they do in a
    # candidate's run, and test modules whose collection errors predate the job.
    ignored: frozenset[str] = frozenset()
    known_errors: frozenset[str] = frozenset()
    staged_suite: bool = False  # large suite: covering tests first, the whole suite for plausible ones only

    @property
    def failing(self) -> frozenset[str]:
        return frozenset(self.run.failing) - self.ignored

    @property
    def passing(self) -> frozenset[str]:
        return frozenset(self.run.passing) - self.ignored

    def failing_files(self) -> tuple[str, ...]:
        return tuple(sorted({nodeid.split("::", 1)[0] for nodeid in self.failing}))

    @classmethod
    def of(
        cls, run: TestRun, test_files: tuple[str, ...], per_test_limit: float, suite_limit: float
    ) -> Baseline:
        """The limits for candidates, from how long the suite took (`run`) within the job's own limits."""
        durations = [o.duration for o in run.outcomes if o.outcome == "passed"]
        slowest = max(durations, default=0.05)
        per_test = min(per_test_limit, max(PER_TEST_FLOOR_S, 5 * slowest))
        normal = sum(o.duration for o in run.outcomes if o.outcome != "timeout")
        suite = min(suite_limit, 3 * normal + 2 * per_test + 5)
        patient_per_test = max(per_test, per_test_limit)
        patient_suite = min(suite_limit, 3 * normal + 4 * patient_per_test + 5)
        return cls(run, test_files, per_test, suite, patient_per_test, max(suite, patient_suite))


def changed_files(snapshot: Snapshot, candidate: Candidate) -> dict[str, bytes]:
    """Every file that differs from the original tree once `candidate` is applied on `snapshot`."""
    files = dict(snapshot.changed)
    by_path: dict[str, list[Edit]] = {}
    for edit in candidate.edits:
        by_path.setdefault(edit.path, []).append(edit)
    for path, edits in by_path.items():
        files[path] = apply_edits(snapshot.read(path), edits)
    return files


class Gate:
    """Syntax gate and global dedup by normalized AST (thread-safe)."""

    def __init__(self) -> None:
        self._seen: set[tuple[tuple[str, str], ...]] = set()
        self._lock = threading.Lock()

    def check(self, files: Mapping[str, bytes], edited: Iterable[str]) -> str | None:
        """None if the candidate may run; else the verdict status ("syntax" or "duplicate")."""
        keys = []
        for path in sorted(files):
            data = files[path]
            if path in edited:
                if not syntax_ok(data):
                    return "syntax"
                try:
                    ast.parse(data.decode(encoding_of(data)))
                except (SyntaxError, ValueError, UnicodeDecodeError):
                    return "syntax"
            keys.append((path, normalized_key(data) or data.decode("latin-1")))
        key = tuple(keys)
        with self._lock:
            if key in self._seen:
                return "duplicate"
            self._seen.add(key)
        return None

    def remember(self, files: Mapping[str, bytes]) -> None:
        """Mark a state as seen (the original tree, a partial fix that became the base)."""
        key = tuple((p, normalized_key(files[p]) or files[p].decode("latin-1")) for p in sorted(files))
        with self._lock:
            self._seen.add(key)


PATIENCE_SHARE = 0.2  # of the validation time, at most, for second runs under the job's long test limits


class Validator:
    def __init__(self, sandbox: Sandbox, workspace: Workspace, baseline: Baseline, gate: Gate) -> None:
        self.sandbox = sandbox
        self.workspace = workspace
        self.baseline = baseline
        self.gate = gate
        self._free_slots = list(range(workspace.slots))
        self._stopping: Callable[[], bool] = lambda: False  # set by `stream`: a plausible patch is in
        self._created = time.monotonic()
        self._patient_s = 0.0
        self._lock = threading.Lock()

    def _take_slot(self) -> int:
        with self._lock:
            return self._free_slots.pop()

    def _give_slot(self, index: int) -> None:
        with self._lock:
            self._free_slots.append(index)

    def validate_one(self, snapshot: Snapshot, candidate: Candidate) -> Verdict:
        start = time.monotonic()
        try:
            files = changed_files(snapshot, candidate)
        except (ValueError, OSError) as exc:
            return Verdict(candidate, "error", detail=str(exc))
        status = self.gate.check(files, {e.path for e in candidate.edits})
        if status is not None:
            return Verdict(candidate, status, seconds=time.monotonic() - start)  # type: ignore[arg-type]
        slot = self._take_slot()
        try:
            try:
                workdir = self.workspace.slot(slot, files)
            except UnsafePath as exc:  # a path from a forged node id or a hostile patch header
                return Verdict(candidate, "error", detail=str(exc), seconds=time.monotonic() - start)
            verdict = self._run_stages(workdir, candidate, start, snapshot)
        finally:
            self._give_slot(slot)
        touched = self.workspace.check_base()
        if touched:  # the run wrote through a shared file: its outcome cannot be trusted
            return Verdict(candidate, "error", detail=f"a test rewrote {touched[0]} in place")
        return verdict

    def _spec(
        self, workdir: Path, tests: tuple[str, ...], must_pass: tuple[str, ...], patient: bool = False
    ) -> RunSpec:
        base = self.baseline
        return RunSpec(
            workdir=workdir,
            tests=tests,
            coverage=False,
            timeout_s=base.patient_suite_s if patient else base.suite_timeout_s,
            per_test_timeout_s=base.patient_per_test_s if patient else base.per_test_timeout_s,
            stop_on_first_failure=True,
            must_pass=must_pass,
            tb="line",
        )

    def _run_stages(
        self, workdir: Path, candidate: Candidate, start: float, snapshot: Snapshot | None = None
    ) -> Verdict:
        base = self.baseline
        failing_files = base.failing_files()
        whole_suite_in_stage1 = set(failing_files) >= set(base.test_files)
        stage1_tests = () if whole_suite_in_stage1 else failing_files
        in_files = tuple(sorted(n for n in base.passing if n.split("::", 1)[0] in set(failing_files)))
        must_pass = in_files if stage1_tests else tuple(base.passing)
        run = self.sandbox.run(self._spec(workdir, stage1_tests, must_pass))
        patient = self._needs_patience(run) and not self._stopping() and self._patience_left()
        if patient:
            t0 = time.monotonic()
            run = self.sandbox.run(self._spec(workdir, stage1_tests, must_pass, patient=True))
            with self._lock:
                self._patient_s += time.monotonic() - t0
        verdict = self._judge(
            candidate, run, start, scope=None if whole_suite_in_stage1 else set(failing_files)
        )
        if verdict.status in ("plausible", "partial") and not whole_suite_in_stage1 and base.staged_suite:
            covering = self._covering_files(snapshot, candidate, set(failing_files))
            if covering:
                must = tuple(sorted(n for n in base.passing if n.split("::", 1)[0] in set(covering)))
                run2 = self.sandbox.run(self._spec(workdir, covering, must, patient=patient))
                second = self._judge(candidate, run2, start, scope=set(covering))
                if second.status not in ("plausible", "partial"):
                    return replace(second, fixed=verdict.fixed, still_failing=verdict.still_failing)
            if verdict.status == "partial":
                return verdict
        if verdict.status in ("plausible", "partial") and not whole_suite_in_stage1:
            full = self.sandbox.run(self._spec(workdir, (), tuple(sorted(base.passing)), patient=patient))
            verdict = self._judge(candidate, full, start, scope=None)
        return verdict

    def _covering_files(
        self, snapshot: Snapshot | None, candidate: Candidate, done: set[str]
    ) -> tuple[str, ...]:
        """Test files (besides `done`) with a passing test that covered a line the candidate changes."""
        if snapshot is None:
            return ()
        lines: set[tuple[str, int]] = set()
        for e in candidate.edits:
            try:
                data = snapshot.read(e.path)
            except OSError:
                continue
            first = data.count(b"\n", 0, e.start) + 1
            last = data.count(b"\n", 0, max(e.start, e.end - 1)) + 1
            lines.update((e.path, n) for n in range(first, last + 1))
        passing = self.baseline.passing
        files = {
            nodeid.split("::", 1)[0]
            for nodeid, covered in self.baseline.run.coverage.items()
            if nodeid in passing and not lines.isdisjoint(covered)
        }
        return tuple(sorted(files - done))

    def _patience_left(self) -> bool:
        """Second runs may take a share of the validation time so far: a test that really hangs costs the
        whole long limit each time, and some suites have many candidates that fix one test and hang on
        the others."""
        with self._lock:
            return self._patient_s <= PATIENCE_SHARE * (time.monotonic() - self._created)

    def _needs_patience(self, run: TestRun) -> bool:
        """Some failing tests pass now, nothing that passed broke, and the rest ran out of time."""
        base = self.baseline
        if base.patient_per_test_s <= base.per_test_timeout_s or run.killed not in (None, "timeout"):
            return False
        outcomes = {o.nodeid: o for o in run.outcomes}
        failing = base.failing
        return (
            any(o.outcome == "timeout" and n in failing for n, o in outcomes.items())
            and any(o.outcome == "passed" and n in failing for n, o in outcomes.items())
            and not any(not o.ok and n not in failing for n, o in outcomes.items())
        )

    def _judge(self, candidate: Candidate, run: TestRun, start: float, scope: set[str] | None) -> Verdict:
        base = self.baseline
        elapsed = time.monotonic() - start
        outcomes = {o.nodeid: o for o in run.outcomes}
        failing = base.failing if scope is None else {n for n in base.failing if n.split("::", 1)[0] in scope}
        passing = base.passing if scope is None else {n for n in base.passing if n.split("::", 1)[0] in scope}
        fixed = tuple(sorted(n for n in failing if _passes(n, outcomes, run)))
        broken = tuple(sorted(n for n in passing if n in outcomes and not outcomes[n].ok))
        expected = base.failing | base.ignored
        new_failures = tuple(sorted(n for n, o in outcomes.items() if not o.ok and n not in expected))
        still = tuple(sorted(set(failing) - set(fixed)))
        errors = [e for e in run.collection_errors if e.split(":", 1)[0].strip() not in base.known_errors]
        if run.killed in ("memory", "pids") and not broken:
            return Verdict(
                candidate, "resources", fixed, broken, still, seconds=elapsed, detail=run.killed or ""
            )
        if broken or new_failures:
            detail = f"breaks {len(broken) + len(new_failures)} test(s)"
            return Verdict(
                candidate, "failed", fixed, broken + new_failures, still, seconds=elapsed, detail=detail
            )
        missing = [n for n in passing if n not in outcomes]
        if run.timed_out and not fixed:
            return Verdict(candidate, "timeout", fixed, broken, still, seconds=elapsed)
        if not still and not missing and not run.timed_out and not errors:
            return Verdict(candidate, "plausible", fixed, (), (), suite_passed=scope is None, seconds=elapsed)
        if fixed and not run.timed_out and not errors:
            return Verdict(candidate, "partial", fixed, (), still, seconds=elapsed)
        return Verdict(candidate, "failed", fixed, broken, still, seconds=elapsed)

    def stream(
        self, snapshot: Snapshot, candidates: Iterable[Candidate], stop: Callable[[], bool]
    ) -> Iterator[Verdict]:
        """Validate in order, up to `workspace.slots` at a time; stops pulling candidates once `stop()`."""
        parallel = self.workspace.slots
        self._stopping = stop
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="validate") as pool:
            pending: set[Future[Verdict]] = set()
            it = iter(candidates)
            exhausted = False
            while True:
                while not exhausted and len(pending) < parallel and not stop():
                    try:
                        cand = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    pending.add(pool.submit(self.validate_one, snapshot, cand))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()


def _passes(nodeid: str, outcomes: Mapping[str, TestOutcome], run: TestRun) -> bool:
    if "::" in nodeid:
        return nodeid in outcomes and outcomes[nodeid].outcome == "passed"
    # A module that failed to import before: fixed once it imports and its tests pass.
    if any(err.startswith(nodeid + ":") for err in run.collection_errors):
        return False
    tests = [o for n, o in outcomes.items() if n.split("::", 1)[0] == nodeid]
    return bool(tests) and all(o.ok for o in tests)
