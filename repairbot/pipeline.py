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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from tree_sitter import Node

from repairbot import localize
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
from repairbot.workspace import ProjectFiles, Workspace, check_project, unified_diff

log = logging.getLogger("repairbot.pipeline")

Progress = Callable[[str], None]

GENERATION_SHARE = 0.15  # at most this share of the remaining budget goes to generating candidates
MAX_PLAUSIBLE = 5
STRAIGHT_LINE_PRIOR = 0.85  # patches kept in the report besides the chosen one
_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')


@dataclass
class _Tally:
    generated: int = 0
    validated: int = 0
    first_plausible_at: int | None = None
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
        self._predictors = self.load_predictors()  # before any round: a missing model is exit 2, early

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
        per_test = min(self.job.per_test_timeout_s, max(1.0, 5 * slowest))
        normal = sum(o.duration for o in run.outcomes if o.outcome != "timeout")
        suite = min(self.job.test_timeout_s, 3 * normal + 2 * per_test + 5)
        return Baseline(run, self.files.tests, per_test, suite)

    # -- the whole job ---------------------------------------------------------------------------------------
    def run(self) -> Report:
        snapshot = Snapshot(self.workspace.base)
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
        _check_collection(run, set(self.files.source))
        original_failing = run.failing
        self.say(f"{len(original_failing)} failing test(s) of {len(run.outcomes)}")
        self.gate.remember({})
        locations: tuple[Location, ...] = ()
        first_locations: tuple[Location, ...] = ()
        feedback: list[Verdict] = []
        notes: list[str] = []
        for round_no in range(1, self.job.max_rounds + 1):
            round_start = time.monotonic()
            baseline = self.baseline(run)
            locations = self.localize(run)
            if round_no == 1:
                first_locations = locations
            if not locations:
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
        return self.report(original_failing, first_locations, notes)

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

        evidence = localize.Evidence(run, frozenset(self.files.source), statement_of=_memo(statement_of),
                                     controller_of=controller_of, static_prior=static_prior)  # fmt: skip
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
            extras={"deadline": self.deadline},
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
            if verdict.status == "plausible":
                plausible += 1
                if self.tally.first_plausible_at is None:
                    self.tally.first_plausible_at = self.tally.validated - 1
                self.tally.plausible.append((verdict, changed_files(snapshot, verdict.candidate)))
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

        names = list(self.job.generators)
        if self.job.llm_url and "llm" not in names:
            names.append("llm")
        time_cap = time.monotonic() + max(2.0, GENERATION_SHARE * self.left())
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
        self.tally.generated += len(pool)
        # Best score first; among equal scores the smaller edit, then the generators' own order.
        order = heapq.nsmallest(
            len(pool), enumerate(pool), key=lambda ic: (-round(ic[1].score, 6), _edit_size(ic[1]), ic[0])
        )
        self.say(f"{len(pool)} candidate(s) to validate")
        return (c for _, c in order)

    # -- report ----------------------------------------------------------------------------------------------
    def report(self, failing: tuple[str, ...], locations: tuple[Location, ...], notes: list[str]) -> Report:
        stats = Stats(
            candidates_generated=self.tally.generated,
            candidates_validated=self.tally.validated,
            first_plausible_at=self.tally.first_plausible_at,
            rounds=len(self.tally.rounds),
            seconds=time.monotonic() - self.started,
        )
        patches = [self.patch(v, files) for v, files in self.tally.plausible]
        patches.sort(key=lambda p: (not p.suite_passed, -p.score, _diff_size(p.diff)))
        patches = patches[: MAX_PLAUSIBLE + 1]
        kind = patches[0].kind if patches else "none"
        if patches and self.job.apply:
            from repairbot.workspace import apply_to_user_tree

            chosen = next(
                files for v, files in self.tally.plausible if self.patch(v, files).diff == patches[0].diff
            )
            apply_to_user_tree(self.job.root, chosen)
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

    def patch(self, verdict: Verdict, files: dict[str, bytes]) -> Patch:
        cand = verdict.candidate
        diffs = []
        for path in sorted(files):
            original = (
                (self.workspace.base / path).read_bytes() if (self.workspace.base / path).exists() else b""
            )
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


def _check_collection(run: TestRun, source_files: set[str]) -> None:
    """Collection errors that point into no source file are the environment's problem, not a bug to fix."""
    errors = [o for o in run.outcomes if "::" not in o.nodeid and o.outcome == "error"]
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
