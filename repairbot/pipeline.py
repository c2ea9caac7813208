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
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from repairbot import assess, coevolve, localize, plugins, report, reproduce
from repairbot.errors import BadInput, FailingAtBase, NothingToRepair, RepairbotError
from repairbot.models import (
    Assessment,
    AssessmentRequest,
    Budget,
    Candidate,
    ChangeAnalysis,
    Exploration,
    GenerationContext,
    Job,
    Location,
    Patch,
    PlausibleFix,
    Predictor,
    Report,
    RoundRecord,
    RunSpec,
    Sandbox,
    Snapshot,
    Stats,
    TestRun,
    Verdict,
)
from repairbot.sandbox import open_sandbox
from repairbot.testing import triage
from repairbot.testing.collection import last_line
from repairbot.testing.focus import focus_files
from repairbot.testing.runs import TestCommand, parse_test_cmd
from repairbot.validate import Baseline, Gate, Validator, changed_files
from repairbot.workspace import ProjectFiles, Workspace, apply_to_user_tree, check_project

log = logging.getLogger("repairbot.pipeline")

Progress = Callable[[str], None]

GENERATION_SHARE = 0.15  # at most this share of the remaining budget goes to generating candidates
# Above this many test files a suite is large: per-test coverage only where it helps, candidates checked on
# the tests covering their lines before the whole suite, which runs for plausible ones only (README, Scale).
LARGE_SUITE_FILES = 40
FOCUS_FILES = 40  # test files measured with coverage besides the failing tests' own

# After the first plausible patch the search goes on a while: another plausible patch that behaves differently
# is evidence that the tests do not decide, and the assessment may prefer it to the first.
ALTERNATIVES_PLAUSIBLE = 6  # stop once this many plausible patches are in
ALTERNATIVES_VALIDATED = 60  # or this many candidates were validated after the first plausible one
# or, once the assessment's minimum of candidates is validated, this long after the first plausible one (or
# half the time it took to find it, whichever is longer)
ALTERNATIVES_MIN_S = 5.0
ALTERNATIVES_SHARE = 0.5
PROBE_PER_TEST_S = 60.0  # per-test limit of the assessment's probe runs
ASSESSMENT_RESERVE = 0.2  # of the budget (at most 20 s, at least 6 s) is kept for assessing the patches


@dataclass
class _Tally:
    generated: int = 0
    validated: int = 0
    first_plausible_at: int | None = None
    first_plausible_s: float | None = None
    plausible: list[tuple[Verdict, dict[str, bytes]]] = field(default_factory=list)
    rounds: list[RoundRecord] = field(default_factory=list)
    exhausted: bool = False  # the last round validated every candidate it generated
    cut_by_budget: bool = False


def repair(job: Job, progress: Progress | None = None) -> Report:
    """Repair `job.root`; never raises for a problem of the project itself (the report says it)."""
    with _job(job, progress, image=job.image) as r:
        return r.run()


def locate(job: Job, progress: Progress | None = None) -> Report:
    """Run the suite once and rank suspicious statements (`repairbot localize`)."""
    with _job(job, progress, parallel=1) as r:
        run = r.run_suite(Snapshot(r.workspace.base), "baseline")
        if not run.outcomes:
            raise BadInput(
                f"no tests collected ({r.command.display}): {last_line(run.output) or 'empty output'}"
            )
        if not run.failing:
            raise NothingToRepair("nothing to localize: every test passes")
        stats = Stats(seconds=time.monotonic() - r.started)
        return Report("not_fixed", failing_tests=run.failing, localization=r.localize(run), stats=stats,
                      sandbox=r.sandbox.description)  # fmt: skip


@contextmanager
def _job(
    job: Job, progress: Progress | None, *, parallel: int = 0, image: str | None = None
) -> Iterator[_Repair]:
    """A repair of `job` with its scratch directory and sandbox, both gone afterwards."""
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    files = check_project(job.root)
    command = parse_test_cmd(job.test_cmd, root=job.root)
    scratch = Path(tempfile.mkdtemp(prefix=f"repairbot-{job.job_id}-"))
    os.chmod(scratch, 0o755)
    try:
        with open_sandbox(job.sandbox, scratch, command, parallel=parallel, image=image, job_id=job.job_id,
                          project=job.root) as sandbox:  # fmt: skip
            yield _Repair(job, files, command, sandbox, scratch, say, started)
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
        self.ordinal: dict[int, int] = {}
        self.predictors = self.load_predictors()  # before any round: a missing model is exit 2, early
        self.reproduction = reproduce.Reproduction(())  # an issue's test and traceback frames
        self.first_run = TestRun()  # the suite on the tree as it came
        self.analysis: ChangeAnalysis | None = None  # the intended change (test co-evolution)
        self.probe_files: Mapping[str, bytes] = {}  # what probes of the change analysis run on
        # Kept apart from the targets (repairbot/testing/triage.py): flaky tests, failures the intended change
        # does not explain, and test modules that fail to import for reasons outside the project.
        self.ignored: set[str] = set()
        self.flaky: set[str] = set()
        self.known_errors: set[str] = set()
        self.notes_later: list[str] = []  # notes from inside the rounds, for the report
        self.large = len(files.tests) > LARGE_SUITE_FILES

    def left(self) -> float:
        return self.deadline - time.monotonic()

    # -- the whole job ---------------------------------------------------------------------------------------
    def run(self) -> Report:
        notes: list[str] = []
        snapshot = Snapshot(self.workspace.base, self.reproduce(notes))
        run = self._suite(snapshot, "baseline", coverage=not self.large)
        if not run.outcomes:
            if run.killed:
                raise BadInput(
                    f"the test run was stopped ({run.killed}) before any test ran: {last_line(run.output)}"
                )
            if run.collection_errors:
                first = run.collection_errors[0]
                raise BadInput(
                    f"test collection failed in {triage.module_of(first)}: {last_line(first)}",
                    hint="fix the test environment (missing package? wrong --test-cmd?)",
                )
            raise BadInput(
                f"no tests collected ({self.command.display}): {last_line(run.output) or 'empty output'}"
            )
        run = self.drop_flaky(run, notes)
        if self.known_errors:
            names = sorted(self.known_errors)
            notes.append(
                f"pre-existing: {len(names)} test module(s) fail to import for reasons outside the project, "
                f"kept apart while the rest of the suite runs: {', '.join(names[:5])}"
            )
        if not run.failing:
            raise NothingToRepair("nothing to repair: every test passes" + (
                f" (besides {len(self.ignored) + len(self.known_errors)} flaky or pre-existing failure(s))"
                if self.ignored or self.known_errors else ""))  # fmt: skip
        if self.large:
            run = self.focus(run, "baseline")
        self.say(f"{len(run.failing)} failing test(s) of {len(run.outcomes)}")
        if not run.coverage and not any("coverage" in n for n in self.sandbox_notes()):
            notes.append("degraded: the baseline run recorded no per-test coverage; suspicious statements "
                         "come from tracebacks only")  # fmt: skip
        self.gate.remember(dict(snapshot.changed))
        self.first_run = run
        self.analyze_changes(run, snapshot, notes)
        if self.ignored:
            run = self.first_run = triage.without(run, self.ignored)
            if not run.failing:
                raise FailingAtBase("nothing to repair: every failing test failed the same way at the base",
                                    tuple(sorted(self.ignored)), self.job.base or "")  # fmt: skip
        first_locations: tuple[Location, ...] = ()
        feedback: list[Verdict] = []
        for round_no in range(1, self.job.max_rounds + 1):
            round_start = time.monotonic()
            baseline = replace(
                Baseline.of(run, self.files.tests, self.job.per_test_timeout_s, self.job.test_timeout_s),
                ignored=frozenset(self.ignored),
                known_errors=frozenset(self.known_errors),
                staged_suite=self.large,
            )
            locations = self.localize(run)
            if round_no == 1:
                first_locations = locations
            if not locations and self.analysis is None:
                notes.append("no suspicious statement in the project's source files")
                break
            best_partial, record = self.round(round_no, snapshot, baseline, locations, feedback)
            self.tally.rounds.append(replace(record, seconds=time.monotonic() - round_start))
            if self.tally.plausible or self.left() <= 1 or best_partial is None:
                break
            partial_files = changed_files(snapshot, best_partial.candidate)
            snapshot = Snapshot(self.workspace.base, partial_files)
            self.gate.remember(partial_files)
            self.say(f"round {round_no}: partial fix ({len(best_partial.fixed)} test(s)); continuing from it")
            feedback = [best_partial, *feedback][:20]
            run = self.run_suite(snapshot, f"round{round_no + 1}")
            broke = set(run.failing) & set(self.first_run.passing)
            if self.large and broke:  # a partial fix is checked against the whole suite only here
                self.notes_later.append(f"a partial fix broke {len(broke)} test(s) of the suite; dropped")
                break
            if not run.failing:  # the partial fix was complete after all (order-dependent tests)
                self.tally.plausible.append((replace(best_partial, status="plausible"), partial_files))
                break
        return self.report(self.first_run.failing, first_locations, notes)

    # -- stage: run the suite ------------------------------------------------------------------------------
    def run_suite(self, snapshot: Snapshot, label: str) -> TestRun:
        """The whole suite on `snapshot`, with per-test coverage (on a large suite: only where it helps)."""
        run = self._suite(snapshot, label, coverage=not self.large)
        return self.focus(run, label) if self.large else run

    def _suite(self, snapshot: Snapshot, label: str, coverage: bool) -> TestRun:
        workdir = self.workspace.tree(label, snapshot.changed)
        self.say(f"running the test suite ({label})")
        spec = RunSpec(
            workdir=workdir,
            coverage=coverage,
            timeout_s=max(5.0, min(self.job.test_timeout_s, self.left())),
            per_test_timeout_s=self.job.per_test_timeout_s,
        )
        run, preexisting = triage.split_collection_errors(self.sandbox.run(spec), self.files.source, workdir)
        self.known_errors.update(preexisting)
        return triage.without(run, self.ignored)

    def focus(self, run: TestRun, label: str) -> TestRun:
        """Per-test coverage of a large suite's failing tests and of the tests nearest to what they run
        (repairbot/testing/focus.py), merged into `run`."""
        tree = self.workspace.scratch / label
        coverage = dict(run.coverage)
        timeout = max(5.0, min(self.job.test_timeout_s, self.left() / 3))

        def measure(tests: tuple[str, ...]) -> TestRun:
            spec = RunSpec(tree, tests=tests, coverage=True, timeout_s=timeout,
                           per_test_timeout_s=self.job.per_test_timeout_s)  # fmt: skip
            return self.sandbox.run(spec)

        unmeasured = tuple(n for n in run.failing if n not in coverage)
        if unmeasured:
            coverage.update(measure(unmeasured).coverage)
        suspicious = {p for n in run.failing for p, _ in coverage.get(n, ())} | {
            p for o in run.outcomes if not o.ok for p, _ in o.frames
        }
        picked = focus_files(run.failing, suspicious & set(self.files.source), self.files.tests, FOCUS_FILES)
        if picked:
            self.say(f"per-test coverage of {len(picked)} test file(s) near the failing tests")
            passing = set(run.passing)
            coverage.update({n: c for n, c in measure(picked).coverage.items() if n in passing})
        self.notes_later.append(
            f"large suite ({len(self.files.tests)} test files): per-test coverage measured for the failing "
            f"tests and {len(picked)} test file(s) near them; candidates checked on the tests covering their "
            "lines before the whole suite"
        )
        return replace(run, coverage=coverage)

    def drop_flaky(self, run: TestRun, notes: list[str]) -> TestRun:
        """Run the failing tests again before they become targets: those that pass now are flaky (reported,
        never repaired, never 'fixed'). Tests that timed out are not run again (another full wait)."""
        again_ids = tuple(o.nodeid for o in run.outcomes if not o.ok and o.outcome != "timeout")
        if not again_ids or self.left() < 10:
            return run
        self.say(f"running the {len(again_ids)} failing test(s) again (flaky tests are not targets)")
        # On a large suite this run also measures the failing tests' coverage (see `focus`).
        spec = RunSpec(self.workspace.scratch / "baseline", tests=again_ids, coverage=self.large,
                       timeout_s=max(5.0, min(self.job.test_timeout_s, self.left() / 4)),
                       per_test_timeout_s=self.job.per_test_timeout_s)  # fmt: skip
        again = self.sandbox.run(spec)
        flips = triage.flaky(run, again)
        if again.coverage:
            run = replace(run, coverage={**run.coverage, **again.coverage})
        if flips:
            self.flaky.update(flips)
            self.ignored.update(flips)
            notes.append(f"flaky: {len(flips)} failing test(s) passed when run again; not repaired: "
                         f"{', '.join(flips[:5])}")  # fmt: skip
        return triage.without(run, flips)

    def sandbox_notes(self) -> tuple[str, ...]:
        """What the sandbox has to say for the report (instruments it supplied); plugins may say nothing."""
        return tuple(getattr(self.sandbox, "notes", ()) or ())

    def probe(
        self, label: str, files: Mapping[str, bytes], tests: Sequence[str], coverage: bool = False
    ) -> TestRun:
        """Run some tests on a separate copy of the tree with `files` changed."""
        tree = self.workspace.tree(label, files)
        spec = RunSpec(tree, tests=tuple(tests), coverage=coverage, timeout_s=60.0,
                       per_test_timeout_s=self.job.per_test_timeout_s)  # fmt: skip
        return self.sandbox.run(spec)

    # -- stage: reproduce an issue --------------------------------------------------------------------------
    def reproduce(self, notes: list[str]) -> dict[str, bytes]:
        """For an issue job: a test that reproduces the report (it joins the patch if the fix validates)."""
        if not self.job.issue_text:
            return {}
        code = self.job.issue_code
        self.reproduction = reproduce.reproduce_issue(self.job.issue_text, self.job.root, code=code)
        if not code:
            notes.append(
                "the issue's code was not run: its author lacks write access and no maintainer approved"
            )
        elif self.reproduction.path is None:
            notes.append("could not turn the issue into a test; repairing from the existing tests")
        else:
            notes.append(f"reproduced the issue as a test in {self.reproduction.path}")
        return self.reproduction.files

    # -- stage: co-evolution: what changed on purpose, and which failing tests are obsolete ----------------
    def analyze_changes(self, run: TestRun, snapshot: Snapshot, notes: list[str]) -> None:
        if self.job.base is None and ("tests" not in self.job.generators or self.job.prefer == "code"):
            return

        base_runs: list[TestRun] = []

        def run_at_base(tree: Path) -> TestRun:
            spec = RunSpec(tree, timeout_s=max(5.0, min(self.job.test_timeout_s, self.left() / 3)),
                           per_test_timeout_s=self.job.per_test_timeout_s)  # fmt: skip
            base_runs.append(self.sandbox.run(spec))
            return base_runs[-1]

        tests = {p: snapshot.read(p) for p in self.files.tests}
        found = coevolve.analyze(self.job.root, self.job.base, run, tests, self.workspace.scratch / "at-base",
                                 run_at_base, self.say)  # fmt: skip
        if found is not None:
            self.analysis, note = found
            self.probe_files = dict(snapshot.changed)
            notes.append(note)
        if self.job.base is not None and base_runs:
            # Failing tests that failed the same way at the base are pre-existing: the change does not explain
            # them (repairbot/testing/triage.py); `run` drops them after this.
            same = triage.failing_the_same_at_base(run, base_runs[0])
            if same:
                self.ignored.update(same)
                notes.append(f"pre-existing: {len(same)} failing test(s) failed the same way at "
                             f"{self.job.base}; kept apart: {', '.join(same[:5])}")  # fmt: skip

    def probe_change(self, files: Mapping[str, bytes], nodeids: Sequence[str]) -> TestRun:
        return self.probe("probe", {**self.probe_files, **files}, tuple(nodeids))

    def test_update_rejected(self, verdict: Verdict, files: Mapping[str, bytes]) -> str | None:
        """The guards against weakening a test, after the update made the suite pass."""
        if self.analysis is None:
            return None

        def run_at_base(tree: Path, nodeids: tuple[str, ...]) -> TestRun:
            spec = RunSpec(
                tree, tests=nodeids, timeout_s=60.0, per_test_timeout_s=self.job.per_test_timeout_s
            )
            return self.sandbox.run(spec)

        def with_coverage(nodeids: tuple[str, ...]) -> TestRun:
            return self.probe("guard", files, nodeids, coverage=True)

        tests = {p: d for p, d in files.items() if p in set(self.files.tests)}
        behavioural = verdict.candidate.rule != "update-shape"
        return coevolve.review_update(
            self.analysis, tests, verdict.fixed, run_at_base, with_coverage, behavioural
        )

    def weakens(self, snapshot: Snapshot, cand: Candidate) -> bool:
        """A test update that deletes a test or an assertion, or makes one vacuous, is never run at all."""
        files = changed_files(snapshot, cand)
        edited = {e.path for e in cand.edits}
        base = self.workspace.base
        originals = {p: (base / p).read_bytes() if (base / p).exists() else None for p in edited}
        reason = coevolve.weakening(originals, {p: files[p] for p in edited})
        if reason:
            log.info("test update refused before validation: %s", reason)
        return reason is not None

    # -- stage: localize -------------------------------------------------------------------------------------
    def localize(self, run: TestRun) -> tuple[Location, ...]:
        changed = self.analysis.changes.changed_lines if self.analysis is not None else {}
        evidence = localize.Evidence(
            run,
            frozenset(self.files.source),
            changed_lines=changed,
            issue_frames=self.reproduction.frames,
            root=self.workspace.base,
        )
        return localize.localize(evidence)

    # -- stages: generate → validate, one round ------------------------------------------------------------
    def round(
        self,
        round_no: int,
        snapshot: Snapshot,
        baseline: Baseline,
        locations: tuple[Location, ...],
        feedback: list[Verdict],
    ) -> tuple[Verdict | None, RoundRecord]:
        failing = tuple(o for o in baseline.run.outcomes if not o.ok)
        ctx = GenerationContext(
            job=self.job,
            snapshot=snapshot,
            locations=locations,
            source_files=self.files.source,
            test_files=self.files.tests,
            failing=failing,
            limit=self.job.max_candidates,
            round=round_no,
            feedback=tuple(feedback),
            predictors=self.predictors,
            budget=Budget(self.deadline, time.monotonic() + max(2.0, GENERATION_SHARE * self.left())),
            changes=self.analysis,
            probe=self.probe_change if self.analysis is not None else None,
        )
        candidates = self.generate(ctx)
        validator = Validator(self.sandbox, self.workspace, baseline, self.gate)
        validated = plausible = partial = 0
        best_partial: Verdict | None = None

        def stop() -> bool:
            t = self.tally
            if self.left() <= 0 or t.validated >= self.job.max_candidates:
                return True
            return bool(t.plausible) and self.alternatives_done()

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
            if verdict.status == "plausible" and verdict.suite_passed:
                verdict = self.confirm(verdict, files, baseline)
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
        self.tally.exhausted = not stop()
        self.tally.cut_by_budget = bool(self.tally.plausible) and self.left() <= self.assessment_reserve()
        base_fixed = tuple(sorted({n for v in feedback for n in v.fixed}))
        record = RoundRecord(round_no, base_fixed, self.tally.generated, validated, plausible, partial, 0.0)
        return best_partial, record

    def confirm(self, verdict: Verdict, files: Mapping[str, bytes], baseline: Baseline) -> Verdict:
        """Run the suite of a plausible patch once more: a test that flips is flaky (reported), and a patch
        is never 'fixed' on one lucky run."""
        tree = self.workspace.tree("confirm", files)
        timeout = min(baseline.suite_timeout_s, max(5.0, self.left()))
        per_test = baseline.per_test_timeout_s
        run = self.sandbox.run(RunSpec(tree, timeout_s=timeout, per_test_timeout_s=per_test))
        flips = triage.flipped(run, baseline.ignored, baseline.known_errors)
        if not flips:
            if run.timed_out:  # the budget ran out: the first run stands, and the report says so
                self.notes_later.append("a plausible patch's confirmation run did not finish in the budget")
            return verdict
        self.flaky.update(flips)
        self.notes_later.append(
            f"flaky: {len(flips)} test(s) failed when a plausible patch's suite ran again; the patch was not "
            f"accepted: {', '.join(flips[:5])}"
        )
        detail = "not confirmed: " + ", ".join(flips)
        return replace(verdict, status="failed", suite_passed=False, detail=detail)

    def assessment_reserve(self) -> float:
        return min(20.0, max(6.0, ASSESSMENT_RESERVE * self.job.budget_s))

    def alternatives_done(self) -> bool:
        """The search for alternatives to the first plausible patch is over (see ALTERNATIVES_*)."""
        t = self.tally
        if t.first_plausible_s is None or t.first_plausible_at is None:
            return False
        after = t.validated - t.first_plausible_at - 1
        window = max(ALTERNATIVES_MIN_S, ALTERNATIVES_SHARE * t.first_plausible_s)
        late = time.monotonic() - self.started >= t.first_plausible_s + window
        return (
            len(t.plausible) >= ALTERNATIVES_PLAUSIBLE
            or after >= ALTERNATIVES_VALIDATED
            or (after >= assess.MIN_EXPLORED and late)
            or self.left() <= self.assessment_reserve()
        )

    def generator_names(self, failing: Iterable[str]) -> list[str]:
        """Which generators may answer: an obsolete test is never fixed by undoing the change in the code."""
        names = list(self.job.generators)
        if self.job.llm_url and "llm" not in names:
            names.append("llm")
        obsolete = self.analysis.obsolete if self.analysis is not None else frozenset()
        pending = set(failing)
        if self.job.prefer == "code" or self.analysis is None:
            names = [n for n in names if n != "tests"]
        elif self.job.prefer == "test" or (pending and pending <= obsolete):
            names = [n for n in names if n == "tests"]
        return names

    def load_predictors(self) -> tuple[Predictor, ...]:
        """No model: the mask generator uses donors alone. A model re-scores the donors and adds fills."""
        if not self.job.predictor:
            return ()
        from repairbot.generate.predictors import load_predictor

        self.say(f"loading the masked language model {self.job.predictor}")
        return (load_predictor(self.job.predictor),)

    def generate(self, ctx: GenerationContext) -> Iterator[Candidate]:
        """All generators' candidates, best first, within the generation time share."""
        names = self.generator_names(o.nodeid for o in ctx.failing)
        pool: list[Candidate] = []
        streams: list[Iterable[Candidate]] = []
        for name in names:
            if name == "llm" and not self.job.llm_url:
                continue
            try:
                streams.append(plugins.load_generator(name).generate(ctx))
            except RepairbotError:
                raise
            except Exception as exc:  # one broken generator must not sink the others
                log.warning("generator %s failed: %s", name, exc)
        self.say("generating candidates")
        for stream in streams:
            try:
                for cand in itertools.islice(stream, ctx.limit):
                    pool.append(cand)
                    if time.monotonic() > ctx.budget.generation_deadline:
                        break
            except RepairbotError:  # missing rules or model: the environment's problem, never "no fix"
                raise
            except Exception as exc:
                log.warning("generator failed while generating: %s", exc)
        pool = [c for c in pool if c.kind != "test" or not self.weakens(ctx.snapshot, c)]
        self.tally.generated += len(pool)
        # Best score first; among equal scores the smaller edit, then the generators' own order.
        order = heapq.nsmallest(
            len(pool), enumerate(pool), key=lambda ic: (-round(ic[1].score, 6), _edit_size(ic[1]), ic[0])
        )
        self.say(f"{len(pool)} candidate(s) to validate")
        first = len(self.ordinal)
        self.ordinal.update((id(c), first + k) for k, (_, c) in enumerate(order))
        return (c for _, c in order)

    # -- stage: report ---------------------------------------------------------------------------------------
    def report(self, failing: tuple[str, ...], locations: tuple[Location, ...], notes: list[str]) -> Report:
        stats = Stats(
            candidates_generated=self.tally.generated,
            candidates_validated=self.tally.validated,
            first_plausible_at=self.tally.first_plausible_at,
            first_plausible_s=self.tally.first_plausible_s,
            rounds=len(self.tally.rounds),
            seconds=time.monotonic() - self.started,
        )
        base = self.workspace.base
        made = [(report.patch_of(v, files, base), files, self.ordinal.get(id(v.candidate), 1 << 30))
                for v, files in self.tally.plausible]  # fmt: skip
        ranked = self.assessed(report.rank(made, self.job.prefer))
        if ranked and ranked[0][0].kind == "code":
            ranked[0] = self.with_regression_test(*ranked[0], notes)
        patches = [p for p, _ in ranked]
        if ranked and self.job.apply:
            apply_to_user_tree(self.job.root, ranked[0][1])
            notes.append("the chosen patch was applied to the working tree (--apply)")
        return Report(
            status="fixed" if patches else "not_fixed",
            kind=patches[0].kind if patches else "none",
            failing_tests=failing,
            patches=tuple(patches),
            localization=locations[:20],
            stats=stats,
            rounds=tuple(self.tally.rounds),
            sandbox=self.sandbox.description,
            notes=(*self.sandbox_notes(), *notes, *dict.fromkeys(self.notes_later)),
            obsolete_tests=tuple(sorted(self.analysis.obsolete)) if self.analysis is not None else (),
            base=self.analysis.changes.base if self.analysis else None,
            newly_failing=self.newly_failing(failing),
        )

    def newly_failing(self, failing: tuple[str, ...]) -> tuple[str, ...] | None:
        """Which failing tests passed at the base: what the changes broke. None: no base was run. A test
        module that fails to import counts when tests of it passed at the base (as coevolve classifies it)."""
        if self.analysis is None:
            return None
        passed = self.analysis.passed_at_base
        return tuple(
            t for t in failing
            if t in passed or ("::" not in t and any(p.startswith(t + "::") for p in passed))
        )  # fmt: skip

    # -- stage: assess -------------------------------------------------------------------------------------
    def assessed(self, ranked: list[tuple[Patch, dict[str, bytes]]]) -> list[tuple[Patch, dict[str, bytes]]]:
        """The plausible patches with their assessments, re-ranked by them (anti-patterns last)."""
        if not ranked:
            return ranked
        t = self.tally
        after = 0 if t.first_plausible_at is None else t.validated - t.first_plausible_at - 1
        self.say(f"assessing {len(ranked)} plausible patch(es)")
        request = AssessmentRequest(
            root=self.workspace.base,
            fixes=tuple(PlausibleFix(p, f) for p, f in ranked),
            baseline=self.first_run,
            test_files=self.files.tests,
            exploration=Exploration(after, t.exhausted, t.cut_by_budget),
            run=self.behaviour_run if self.command.pytest_args is not None else None,
            deadline=self.deadline,
        )
        started = time.monotonic()
        judged = assess.assess(request)
        self.say(f"assessed in {time.monotonic() - started:.1f}s: " + ", ".join(a.confidence for a in judged))
        with_assessment = [(replace(p, assessment=a), f) for (p, f), a in zip(ranked, judged, strict=True)]
        reranked = report.rank_assessed(with_assessment)
        position = {id(p.assessment): k for k, (p, _) in enumerate(reranked)}
        old_to_new = [position[id(a)] for a in judged]
        return [(replace(p, assessment=_renumbered(p.assessment, old_to_new)), f) for p, f in reranked]

    def behaviour_run(
        self, label: str, files: Mapping[str, bytes], tests: Sequence[str]
    ) -> tuple[TestRun, Path]:
        """A run of `tests` on the original tree with `files` over it (the assessment's behaviour probe)."""
        tree = self.workspace.tree(label, files)
        # The probe's own test generates and runs inputs for up to 15 s after importing Hypothesis, and each
        # observed call runs twice: the candidates' tight per-test limit does not fit it.
        per_test = max(self.job.per_test_timeout_s, PROBE_PER_TEST_S)
        spec = RunSpec(tree, tests=tuple(tests), coverage=False, timeout_s=max(5.0, min(120.0, self.left())),
                       per_test_timeout_s=per_test)  # fmt: skip
        return self.sandbox.run(spec), tree

    def with_regression_test(
        self, patch: Patch, files: dict[str, bytes], notes: list[str]
    ) -> tuple[Patch, dict[str, bytes]]:
        """Add a minimal test that fails before the fix and passes after, when no existing test pinpoints the
        bug (an issue's reproduction test is already in `files`)."""
        if self.reproduction.path is not None:
            return replace(patch, added_tests=(self.reproduction.path,)), files
        if self.left() < 5 or not self.first_run.failing:
            return patch, files
        base = self.workspace.base
        test, note = reproduce.regression_test_for(files, self.first_run, self.files.tests, base, self.probe)
        if note:
            notes.append(note)
        if test is None:
            return patch, files
        return replace(
            report.with_files(patch, test.files, self.workspace.base), added_tests=(test.nodeid,)
        ), test.files


def _renumbered(a: Assessment | None, old_to_new: Sequence[int]) -> Assessment | None:
    """Disagreements name the other patch by its place in the report, which the re-ranking changed."""
    if a is None or not a.disagreements:
        return a
    moved = tuple(replace(d, other=old_to_new[d.other]) for d in a.disagreements)
    return replace(a, disagreements=moved)


def _partial_key(v: Verdict) -> tuple[int, float]:
    return (len(v.fixed), v.candidate.score)


def _edit_size(cand: Candidate) -> int:
    return sum(abs(len(e.text) - (e.end - e.start)) + min(len(e.text), e.end - e.start) for e in cand.edits)
