"""The one composer: run tests → localize → generate → validate → self-debug → rank → report.

Stages never import each other; this module wires them. The self-debugging loop lives here: a candidate that
fixes some failing tests without breaking others (a partial fix) becomes the base of the next round, which
re-runs the suite with coverage on that base, re-localizes on what still fails and generates again, so edits
at different places combine into one multi-hunk patch.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tree_sitter import Node

from repairbot import localize
from repairbot.diffs import unified_diff
from repairbot.errors import BadInput, NothingToRepair, RepairbotError
from repairbot.generate.base import GenerationContext, Predictor
from repairbot.models import (
    Candidate,
    Job,
    Location,
    Patch,
    Report,
    RoundRecord,
    RunSpec,
    Snapshot,
    Stats,
    TestOutcome,
    TestRun,
    Verdict,
)
from repairbot.sandbox.base import Sandbox
from repairbot.testing.runs import TestCommand, parse_test_cmd
from repairbot.validate import Baseline, Gate, Validator, changed_files
from repairbot.workspace import ProjectFiles, Workspace, check_project

log = logging.getLogger("repairbot.pipeline")

Progress = Callable[[str], None]

GENERATION_SHARE = 0.15  # at most this share of the remaining budget goes to generating candidates
MAX_PLAUSIBLE = 5  # patches kept in the report besides the chosen one
STRAIGHT_LINE_PRIOR = 0.85  # localization weight of functions that only store their arguments
# A candidate that hangs costs at least this much per test; correct code runs such tests in milliseconds.
PER_TEST_FLOOR_S = 0.25
_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')


@dataclass
class _Tally:
    generated: int = 0
    validated: int = 0
    first_plausible_at: int | None = None
    first_plausible_s: float | None = None
    plausible: list[tuple[Verdict, dict[str, bytes]]] = field(default_factory=list)
    rounds: list[RoundRecord] = field(default_factory=list)


def repair(job: Job, progress: Progress | None = None) -> Report:
    """Repair `job.root`; never raises for a problem of the project itself (the report says it)."""
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    files = check_project(job.root)
    command = parse_test_cmd(job.test_cmd)
    scratch = Path(tempfile.mkdtemp(prefix=f"repairbot-{job.job_id}-"))
    os.chmod(scratch, 0o755)
    try:
        from repairbot.sandbox import open_sandbox

        with open_sandbox(
            job.sandbox, scratch, command, image=job.image, job_id=job.job_id, project=job.root
        ) as sandbox:
            return _Repair(job, files, command, sandbox, scratch, say, started).run()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def locate(job: Job, progress: Progress | None = None) -> Report:
    """Run the suite once and rank suspicious statements (`repairbot localize`)."""
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    files = check_project(job.root)
    command = parse_test_cmd(job.test_cmd)
    scratch = Path(tempfile.mkdtemp(prefix=f"repairbot-{job.job_id}-"))
    os.chmod(scratch, 0o755)
    try:
        from repairbot.sandbox import open_sandbox

        with open_sandbox(
            job.sandbox, scratch, command, parallel=1, job_id=job.job_id, project=job.root
        ) as sandbox:
            r = _Repair(job, files, command, sandbox, scratch, say, started)
            run = r.run_suite(Snapshot(r.workspace.base), "baseline")
            if not run.outcomes:
                raise BadInput(
                    f"no tests collected ({command.display}): {_last(run.output) or 'empty output'}"
                )
            if not run.failing:
                raise NothingToRepair("nothing to localize: every test passes")
            stats = Stats(seconds=time.monotonic() - started)
            return Report("not_fixed", failing_tests=run.failing, localization=r.localize(run), stats=stats,
                          sandbox=sandbox.description)  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Repair:
    def __init__(
        self,
        job: Job,
        files: ProjectFiles,
        command: TestCommand,
        sandbox: Sandbox,
        scratch: Path,
        say: Progress,
        started: float,
    ) -> None:
        self.job = job
        self.files = files
        self.command = command
        self.sandbox = sandbox
        self.say = say
        self.started = started
        self.deadline = started + job.budget_s
        self.workspace = Workspace(job.root, scratch, sandbox.max_parallel)
        self.gate = Gate()
        self.tally = _Tally()
        # Validation order of every candidate: equal plausible patches finish in any order (parallel slots),
        # so the report breaks their ties by this order, never by which one happened to finish first.
        self._ordinal: dict[int, int] = {}
        self._predictors = self.load_predictors()  # before any round: a missing model is exit 2, early
        self.coevo: dict[str, Any] = {}  # change analysis for test co-evolution (empty: none)
        self.issue_frames: list[tuple[str, int]] = []
        self.added_tests: tuple[str, ...] = ()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    # -- stage: run the suite ------------------------------------------------------------------------------
    def run_suite(self, snapshot: Snapshot, label: str) -> TestRun:
        workdir = self.workspace.tree(label, snapshot.changed)
        self.say(f"running the test suite ({label})")
        spec = RunSpec(
            workdir=workdir,
            coverage=True,
            timeout_s=max(5.0, min(self.job.test_timeout_s, self.left())),
            per_test_timeout_s=self.job.per_test_timeout_s,
        )
        run = self.sandbox.run(spec)
        return _with_collection_errors(run, set(self.files.source))

    def baseline(self, run: TestRun) -> Baseline:
        durations = [o.duration for o in run.outcomes if o.outcome == "passed"]
        slowest = max(durations, default=0.05)
        per_test = min(self.job.per_test_timeout_s, max(PER_TEST_FLOOR_S, 5 * slowest))
        normal = sum(o.duration for o in run.outcomes if o.outcome != "timeout")
        suite = min(self.job.test_timeout_s, 3 * normal + 2 * per_test + 5)
        patient_per_test = max(per_test, self.job.per_test_timeout_s)
        patient_suite = min(self.job.test_timeout_s, 3 * normal + 4 * patient_per_test + 5)
        return Baseline(run, self.files.tests, per_test, suite, patient_per_test, max(suite, patient_suite))

    # -- the whole job ---------------------------------------------------------------------------------------
    def run(self) -> Report:
        notes: list[str] = []
        snapshot = Snapshot(self.workspace.base, self.reproduce(notes))
        run = self.run_suite(snapshot, "baseline")
        if not run.outcomes and not run.collection_errors:
            if run.killed:
                raise BadInput(
                    f"the test run was stopped ({run.killed}) before any test ran: {_last(run.output)}"
                )
            raise BadInput(
                f"no tests collected ({self.command.display}): {_last(run.output) or 'empty output'}"
            )
        if not run.failing:
            raise NothingToRepair("nothing to repair: every test passes")
        original_failing = run.failing
        self.say(f"{len(original_failing)} failing test(s) of {len(run.outcomes)}")
        self.gate.remember(dict(snapshot.changed))
        self.coevo_before = run
        self.coevo = self.analyze_changes(run, snapshot, notes)
        _check_collection(run, set(self.files.source), self.coevo.get("obsolete", frozenset()))
        locations: tuple[Location, ...] = ()
        first_locations: tuple[Location, ...] = ()
        feedback: list[Verdict] = []
        for round_no in range(1, self.job.max_rounds + 1):
            round_start = time.monotonic()
            baseline = self.baseline(run)
            locations = self.localize(run)
            if round_no == 1:
                first_locations = locations
            if not locations and not self.coevo:
                notes.append("no suspicious statement in the project's source files")
                break
            best_partial, record = self.round(round_no, snapshot, baseline, locations, feedback)
            record = replace(record, seconds=time.monotonic() - round_start)
            self.tally.rounds.append(record)
            if self.tally.plausible or self.left() <= 1 or best_partial is None:
                break
            partial_files = changed_files(snapshot, best_partial.candidate)
            snapshot = Snapshot(self.workspace.base, partial_files)
            self.gate.remember(partial_files)
            self.say(f"round {round_no}: partial fix ({len(best_partial.fixed)} test(s)); continuing from it")
            feedback = [best_partial, *feedback][:20]
            run = self.run_suite(snapshot, f"round{round_no + 1}")
            if not run.failing:  # the partial fix was complete after all (order-dependent tests)
                self.tally.plausible.append((replace(best_partial, status="plausible"), partial_files))
                break
        return self.report(original_failing, first_locations, notes, snapshot_run=run)

    # -- issues: reproduce first ----------------------------------------------------------------------------
    def reproduce(self, notes: list[str]) -> dict[str, bytes]:
        """For an issue job: a test that reproduces the report (it joins the patch if the fix validates)."""
        if not self.job.issue_text:
            return {}
        from repairbot.reproduce import issue_locations, reproduction_test

        self.issue_frames = list(issue_locations(self.job.issue_text, self.job.root))
        made = reproduction_test(self.job.issue_text, self.job.root)
        if made is None:
            notes.append("could not turn the issue into a test; repairing from the existing tests")
            return {}
        path, data = made
        notes.append(f"reproduced the issue as a test in {path}")
        self.added_tests = (path,)
        return {path: data}

    # -- test co-evolution: what changed on purpose, and which failing tests are obsolete --------------------
    def analyze_changes(self, run: TestRun, snapshot: Snapshot, notes: list[str]) -> dict[str, Any]:
        from repairbot.coevolve import classify, default_base, extract_changes, materialize

        base = self.job.base
        presumed = base is None
        if presumed:
            if "tests" not in self.job.generators or self.job.prefer == "code":
                return {}
            base = default_base(self.job.root)
            if base is None:
                return {}
        assert base is not None
        try:
            changes = extract_changes(self.job.root, base)
        except RepairbotError:
            if presumed:
                return {}
            raise
        self.say(f"running the tests at {base} (the changes since are intended)")
        base_tree = materialize(self.job.root, base, self.workspace.scratch / "at-base")
        spec = RunSpec(base_tree, timeout_s=max(5.0, min(self.job.test_timeout_s, self.left() / 3)),
                       per_test_timeout_s=self.job.per_test_timeout_s)  # fmt: skip
        passed_at_base = set(self.sandbox.run(spec).passing)
        failing = tuple(o for o in run.outcomes if not o.ok)
        if presumed and not any(o.nodeid in passed_at_base for o in failing):
            return {}  # the tests did not pass before the last commit either: nothing says it was intended
        tests = {p: snapshot.read(p) for p in self.files.tests}
        classes = classify(changes, failing, passed_at_base, tests, coverage=run.coverage)
        obsolete = sorted(n for n, c in classes.items() if c.kind == "obsolete")
        what = (
            "the last commit"
            if presumed and base == "HEAD~1"
            else "the uncommitted changes"
            if presumed
            else base
        )
        notes.append(f"changes since {base} treated as intended ({what}); {len(obsolete)} of "
                     f"{len(failing)} failing test(s) judged obsolete")  # fmt: skip

        def run_tests(files: Mapping[str, bytes], nodeids: Iterable[str]) -> TestRun:
            return self.probe("probe", {**snapshot.changed, **files}, tuple(nodeids))

        return {
            "changes": changes,
            "classifications": classes,
            "passed_at_base": passed_at_base,
            "coverage": run.coverage,
            "run_tests": run_tests,
            "base_tree": base_tree,
            "obsolete": frozenset(obsolete),
        }

    def probe(
        self, label: str, files: Mapping[str, bytes], tests: tuple[str, ...], coverage: bool = False
    ) -> TestRun:
        """Run some tests on a separate copy of the tree with `files` changed."""
        tree = self.workspace.tree(label, files)
        spec = RunSpec(tree, tests=tests, coverage=coverage, timeout_s=60.0,
                       per_test_timeout_s=self.job.per_test_timeout_s)  # fmt: skip
        return self.sandbox.run(spec)

    def generator_names(self, failing: Iterable[str]) -> list[str]:
        """Which generators may answer: an obsolete test is never fixed by undoing the change in the code."""
        names = list(self.job.generators)
        if self.job.llm_url and "llm" not in names:
            names.append("llm")
        obsolete = self.coevo.get("obsolete", frozenset())
        pending = set(failing)
        if self.job.prefer == "code" or not self.coevo:
            names = [n for n in names if n != "tests"]
        elif self.job.prefer == "test" or (pending and pending <= obsolete):
            names = [n for n in names if n == "tests"]
        return names

    def test_update_rejected(self, verdict: Verdict, files: Mapping[str, bytes]) -> str | None:
        """The guards against weakening a test, after the update made the suite pass."""
        from repairbot.coevolve import base_check_plan, check_base_run, coverage_not_dropped

        tests = {p: d for p, d in files.items() if p in set(self.files.tests)}
        plan = base_check_plan(self.coevo.get("classifications", {}), tests)
        if plan is not None:
            base_tree: Path = self.coevo["base_tree"]
            for rel, data in plan.files.items():
                (base_tree / rel).parent.mkdir(parents=True, exist_ok=True)
                (base_tree / rel).write_bytes(data)
            try:
                run = self.sandbox.run(RunSpec(base_tree, tests=plan.nodeids, timeout_s=60.0,
                                               per_test_timeout_s=self.job.per_test_timeout_s))  # fmt: skip
            finally:
                for rel in plan.files:
                    original = self.workspace.base / rel
                    if original.exists():
                        (base_tree / rel).write_bytes(original.read_bytes())
            reason = check_base_run(plan, run)
            if reason:
                return reason
        nodeids = tuple(n for n in verdict.fixed if n.split("::", 1)[0] in tests)
        if nodeids and "changes" in self.coevo:
            after = self.probe("guard", files, nodeids, coverage=True)
            return coverage_not_dropped(self.coevo["changes"], self.coevo_before, after, nodeids)
        return None

    def localize(self, run: TestRun) -> tuple[Location, ...]:
        from repairbot.parsing import enclosing_function, parse, statement_at

        trees = {}

        def statement_of(path: str, line: int) -> int:
            if path not in trees:
                try:
                    trees[path] = parse(self.workspace.base.joinpath(path).read_bytes())
                except OSError:
                    return line
            node = statement_at(trees[path], line)
            return node.start_point[0] + 1 if node is not None else line

        def controller_of(path: str, line: int) -> int | None:
            statement_of(path, line)  # parses the file
            node = statement_at(trees[path], line) if path in trees else None
            while node is not None and node.type not in ("function_definition", "class_definition"):
                parent = node.parent
                if parent is not None and parent.type == "block" and parent.parent is not None:
                    owner = parent.parent
                    if owner.type in ("else_clause", "elif_clause") and owner.parent is not None:
                        owner = owner if owner.type == "elif_clause" else owner.parent
                    if owner.type in ("if_statement", "elif_clause", "while_statement", "for_statement"):
                        return int(owner.start_point[0]) + 1
                node = parent
            return None

        def static_prior(path: str, line: int) -> float:
            statement_of(path, line)
            node = statement_at(trees[path], line) if path in trees else None
            func = enclosing_function(node) if node is not None else None
            body = func.child_by_field_name("body") if func is not None else None
            if body is None:
                return 1.0
            # A function that only stores its arguments (a record's __init__) computes nothing to get wrong.
            straight = all(
                _stores_argument(child) for child in body.named_children if child.type != "comment"
            )
            return STRAIGHT_LINE_PRIOR if straight else 1.0

        coevo = getattr(self, "coevo", {})
        changes = coevo.get("changes")
        changed = {p: frozenset(ls) for p, ls in changes.changed_lines.items()} if changes is not None else {}
        evidence = localize.Evidence(
            run,
            frozenset(self.files.source),
            statement_of=_memo(statement_of),
            controller_of=controller_of,
            static_prior=static_prior,
            changed_lines=changed,
            issue_frames=tuple(self.issue_frames),
        )
        return localize.localize(evidence)

    # -- one round of generate → validate --------------------------------------------------------------------
    def round(
        self,
        round_no: int,
        snapshot: Snapshot,
        baseline: Baseline,
        locations: tuple[Location, ...],
        feedback: list[Verdict],
    ) -> tuple[Verdict | None, RoundRecord]:
        ctx = GenerationContext(
            job=self.job,
            snapshot=snapshot,
            locations=locations,
            source_files=self.files.source,
            test_files=self.files.tests,
            failing=tuple(o for o in baseline.run.outcomes if not o.ok),
            limit=self.job.max_candidates,
            round=round_no,
            feedback=tuple(feedback),
            predictors=self._predictors,
            extras={**self.coevo, "deadline": self.deadline},
        )
        candidates = self.generate(ctx)
        validator = Validator(self.sandbox, self.workspace, baseline, self.gate)
        validated = plausible = partial = 0
        best_partial: Verdict | None = None

        def stop() -> bool:
            t = self.tally
            return bool(t.plausible) or self.left() <= 0 or t.validated >= self.job.max_candidates

        for verdict in validator.stream(snapshot, candidates, stop):
            if verdict.status in ("duplicate", "syntax", "error"):
                continue
            validated += 1
            self.tally.validated += 1
            files = changed_files(snapshot, verdict.candidate)
            if verdict.status == "plausible" and verdict.candidate.kind == "test":
                reason = self.test_update_rejected(verdict, files)
                if reason:
                    log.info("test update rejected: %s", reason)
                    verdict = replace(verdict, status="failed", detail=reason)
            if verdict.status == "plausible":
                plausible += 1
                if self.tally.first_plausible_at is None:
                    self.tally.first_plausible_at = self.tally.validated - 1
                    self.tally.first_plausible_s = time.monotonic() - self.started
                self.tally.plausible.append((verdict, files))
                self.say(f"plausible patch: {verdict.candidate.description or verdict.candidate.rule}")
            elif verdict.status == "partial":
                partial += 1
                if best_partial is None or _partial_key(verdict) > _partial_key(best_partial):
                    best_partial = verdict
            if validated % 10 == 0:
                self.say(f"round {round_no}: validated {validated} candidate(s), {self.left():.0f}s left")
        base_fixed = tuple(sorted(snapshot_fixed(feedback)))
        record = RoundRecord(round_no, base_fixed, self.tally.generated, validated, plausible, partial, 0.0)
        return best_partial, record

    def weakens(self, snapshot: Snapshot, cand: Candidate) -> bool:
        """A test update that deletes a test or an assertion, or makes one vacuous, is never run at all."""
        from repairbot.coevolve import check_not_weakened

        files = changed_files(snapshot, cand)
        for path in {e.path for e in cand.edits}:
            original = self.workspace.base / path
            if original.exists():
                reason = check_not_weakened(original.read_bytes(), files[path])
                if reason:
                    log.info("test update refused before validation: %s", reason)
                    return True
        return False

    def load_predictors(self) -> tuple[Predictor, ...]:
        """No model: the mask generator uses donors alone. A model re-scores the donors and adds fills."""
        if not self.job.predictor:
            return ()
        from repairbot.generate.predictors import load_predictor

        self.say(f"loading the masked language model {self.job.predictor}")
        return (load_predictor(self.job.predictor),)

    def generate(self, ctx: GenerationContext) -> Iterator[Candidate]:
        """All generators' candidates, best first, within the generation time share."""
        from repairbot.generate.registry import get_generator

        names = self.generator_names(o.nodeid for o in ctx.failing)
        time_cap = time.monotonic() + max(2.0, GENERATION_SHARE * self.left())
        ctx.extras["generation_deadline"] = time_cap
        pool: list[Candidate] = []
        streams: list[Iterable[Candidate]] = []
        for name in names:
            if name == "llm" and not self.job.llm_url:
                continue
            try:
                streams.append(get_generator(name).generate(ctx))
            except RepairbotError:
                raise
            except Exception as exc:  # one broken generator must not sink the others
                log.warning("generator %s failed: %s", name, exc)
        self.say("generating candidates")
        for stream in streams:
            try:
                for cand in itertools.islice(stream, ctx.limit):
                    pool.append(cand)
                    if time.monotonic() > time_cap:
                        break
            except Exception as exc:
                log.warning("generator failed while generating: %s", exc)
        pool = [c for c in pool if c.kind != "test" or not self.weakens(ctx.snapshot, c)]
        self.tally.generated += len(pool)
        # Best score first; among equal scores the smaller edit, then the generators' own order.
        order = heapq.nsmallest(
            len(pool), enumerate(pool), key=lambda ic: (-round(ic[1].score, 6), _edit_size(ic[1]), ic[0])
        )
        self.say(f"{len(pool)} candidate(s) to validate")
        first = len(self._ordinal)
        self._ordinal.update((id(c), first + k) for k, (_, c) in enumerate(order))
        return (c for _, c in order)

    # -- report ----------------------------------------------------------------------------------------------
    def report(
        self,
        failing: tuple[str, ...],
        locations: tuple[Location, ...],
        notes: list[str],
        snapshot_run: TestRun | None = None,
    ) -> Report:
        stats = Stats(
            candidates_generated=self.tally.generated,
            candidates_validated=self.tally.validated,
            first_plausible_at=self.tally.first_plausible_at,
            first_plausible_s=self.tally.first_plausible_s,
            rounds=len(self.tally.rounds),
            seconds=time.monotonic() - self.started,
        )
        prefer = {"test": 0, "code": 1} if self.job.prefer == "test" else {"code": 0, "test": 1}
        made = [(self.patch(v, files), files, self._ordinal.get(id(v.candidate), 1 << 30))
                for v, files in self.tally.plausible]  # fmt: skip
        made.sort(
            key=lambda pfo: (not pfo[0].suite_passed, prefer[pfo[0].kind] if self.job.prefer != "auto" else 0,
                             -round(pfo[0].score, 6), _diff_size(pfo[0].diff), pfo[2]),
        )  # fmt: skip
        ranked = [(p, f) for p, f, _ in made[: MAX_PLAUSIBLE + 1]]
        if ranked and ranked[0][0].kind == "code":
            ranked[0] = self.with_regression_test(*ranked[0], notes)
        patches = [p for p, _ in ranked]
        kind = patches[0].kind if patches else "none"
        if ranked and self.job.apply:
            from repairbot.workspace import apply_to_user_tree

            apply_to_user_tree(self.job.root, ranked[0][1])
            notes.append("the chosen patch was applied to the working tree (--apply)")
        return Report(
            status="fixed" if patches else "not_fixed",
            kind=kind,
            failing_tests=failing,
            patches=tuple(patches),
            localization=locations[:20],
            stats=stats,
            rounds=tuple(self.tally.rounds),
            sandbox=self.sandbox.description,
            notes=tuple(notes),
        )

    def with_regression_test(
        self, patch: Patch, files: dict[str, bytes], notes: list[str]
    ) -> tuple[Patch, dict[str, bytes]]:
        """Add a minimal test that fails before the fix and passes after, when no existing test pinpoints the
        bug (an issue's reproduction test is already in `files`)."""
        if self.added_tests:
            return replace(patch, added_tests=self.added_tests), files
        if self.left() < 5 or not self.coevo_before.failing:
            return patch, files
        from repairbot.reproduce import regression_test

        first = next((o for o in self.coevo_before.outcomes if not o.ok and "::" in o.nodeid), None)
        path = first.nodeid.split("::", 1)[0] if first else ""
        if first is None or path not in set(self.files.tests):
            return patch, files
        made = regression_test(files.get(path) or (self.workspace.base / path).read_bytes(), first)
        if made is None:
            return patch, files
        test_path, data, nodeid = made
        before = self.probe("regression-before", {test_path: data}, (nodeid,))
        after_files = {**files, test_path: data}
        after = self.probe("regression-after", after_files, (nodeid,))
        fails_before = any(o.nodeid == nodeid and not o.ok for o in before.outcomes)
        passes_after = any(o.nodeid == nodeid and o.outcome == "passed" for o in after.outcomes)
        if not (fails_before and passes_after):
            notes.append("a regression test was generated but did not fail before and pass after; left out")
            return patch, files
        notes.append(f"added regression test {nodeid} (fails before the fix, passes after)")
        return replace(self.patch_of(patch, after_files), added_tests=(nodeid,)), after_files

    def patch_of(self, patch: Patch, files: dict[str, bytes]) -> Patch:
        diffs = []
        for path in sorted(files):
            before = self.workspace.base / path
            diffs.append(unified_diff(path, before.read_bytes() if before.exists() else None, files[path]))
        return replace(patch, diff="".join(diffs), files=tuple(sorted(files)))

    def patch(self, verdict: Verdict, files: dict[str, bytes]) -> Patch:
        cand = verdict.candidate
        diffs = []
        for path in sorted(files):
            before = self.workspace.base / path
            original = before.read_bytes() if before.exists() else None  # None: a file the patch adds
            diffs.append(unified_diff(path, original, files[path]))
        return Patch(
            diff="".join(diffs),
            generator=cand.generator,
            rule=cand.rule,
            files=tuple(sorted(files)),
            suite_passed=verdict.suite_passed,
            score=cand.score,
            kind=cand.kind,
            description=cand.description,
            evidence=cand.evidence,
        )


def snapshot_fixed(feedback: list[Verdict]) -> set[str]:
    return {n for v in feedback for n in v.fixed}


def _partial_key(v: Verdict) -> tuple[int, float]:
    return (len(v.fixed), v.candidate.score)


def _edit_size(cand: Candidate) -> int:
    return sum(abs(len(e.text) - (e.end - e.start)) + min(len(e.text), e.end - e.start) for e in cand.edits)


def _diff_size(diff: str) -> int:
    return sum(1 for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---")))


def _last(output: str) -> str:
    lines = [x.strip() for x in output.strip().splitlines() if x.strip()]
    return lines[-1][:200] if lines else ""


def _memo(fn: Callable[[str, int], int]) -> Callable[[str, int], int]:
    cache: dict[tuple[str, int], int] = {}

    def wrapper(path: str, line: int) -> int:
        key = (path, line)
        if key not in cache:
            cache[key] = fn(path, line)
        return cache[key]

    return wrapper


def _with_collection_errors(run: TestRun, source_files: set[str]) -> TestRun:
    """A module that fails to import is a failing 'test' (its path), located by the error's file and line."""
    if not run.collection_errors:
        return run
    extra = []
    for err in run.collection_errors:
        nodeid = err.split(":", 1)[0].strip() or "<collection>"
        frames = tuple(
            (p, int(n))
            for p, n in ((_relative(m.group(1), source_files), m.group(2)) for m in _FILE_LINE.finditer(err))
            if p
        )
        extra.append(TestOutcome(nodeid, "error", err[:500], err, frames))
    return replace(run, outcomes=run.outcomes + tuple(extra))


def _stores_argument(stmt: Node) -> bool:
    """`self.x = x` (or `= None`): a statement that moves a value without computing anything."""
    if stmt.type != "expression_statement" or stmt.named_child_count != 1:
        return False
    assign = stmt.named_children[0]
    right = assign.child_by_field_name("right") if assign.type == "assignment" else None
    return right is not None and right.type in ("identifier", "none")


def _check_collection(run: TestRun, source_files: set[str], obsolete: frozenset[str] = frozenset()) -> None:
    """Collection errors that point into no source file, and that no intended change explains, are the
    environment's problem, not a bug to fix."""
    errors = [
        o for o in run.outcomes if "::" not in o.nodeid and o.outcome == "error" and o.nodeid not in obsolete
    ]
    if not errors or any(o.frames for o in errors) or len(errors) < len(run.failing):
        return
    first = errors[0]
    reason = _last(first.longrepr) or "collection failed"
    raise BadInput(f"test collection failed in {first.nodeid}: {reason}",
                   hint="fix the test environment (missing package? wrong --test-cmd?)")  # fmt: skip


def _relative(path: str, source_files: set[str]) -> str | None:
    for rel in source_files:
        if path == rel or path.endswith("/" + rel):
            return rel
    return None
