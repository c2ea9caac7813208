"""Frozen, typed records that flow between the stages (DESIGN §1), and the protocols of the extension points.

Stages never import each other; they exchange these records. Paths inside records are POSIX paths relative
to the project root. Byte offsets always refer to the raw bytes of a file in a given `Snapshot`.

Sections: the job and its budget; test runs; candidates and verdicts; the report; co-evolution (what changed
since a base revision and which failing tests it made obsolete); generation (the context a generator works
from, the generator and mask-predictor protocols).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, Self

from repairbot.paths import read_inside

Outcome = Literal["passed", "failed", "error", "skipped", "timeout", "crashed"]
RepairKind = Literal["code", "test", "none"]
VerdictStatus = Literal[
    "plausible",  # every test of the suite passes
    "partial",  # some failing tests now pass and no passing test broke
    "failed",  # nothing gained, or a passing test broke
    "syntax",  # rejected by the syntax gate
    "duplicate",  # same normalized AST as an earlier candidate
    "timeout",  # the run hit its wall-clock limit
    "resources",  # the sandbox killed it (memory, processes)
    "error",  # the candidate could not be applied or run
]


@dataclass(frozen=True, slots=True)
class Job:
    """What to repair. Built by the CLI, the Action or a webhook handler."""

    root: Path  # the project to repair (never modified unless `apply`)
    test_cmd: tuple[str, ...] | None = None  # None: pytest under the current interpreter
    base: str | None = None  # changes from this revision to the tree are intended
    budget_s: float = 300.0
    max_candidates: int = 2000
    sandbox: str = "docker"
    apply: bool = False
    llm_url: str | None = None
    generators: tuple[str, ...] = ("rules", "mask", "tests")
    predictor: str | None = None  # masked LM name or path; None: donors only
    prefer: Literal["code", "test", "auto"] = "auto"
    trigger: str = "cli"
    issue_text: str | None = None  # issue body: tracebacks and snippets to reproduce
    # Whether the issue's code may become a test that runs. False for an outsider's issue no maintainer
    # approved: its tracebacks still point at the code, its snippets are not run.
    issue_code: bool = True
    job_id: str = "local"
    max_rounds: int = 3
    image: str | None = None  # container image for the docker sandbox (None: automatic)
    test_timeout_s: float = 600.0  # one run of the whole suite
    per_test_timeout_s: float = 30.0  # one test; after one hangs, later ones get 10x the slowest pass


@dataclass(frozen=True, slots=True)
class Budget:
    """Wall-clock limits as `time.monotonic()` values; infinite when there is none."""

    deadline: float = math.inf  # the whole job
    generation_deadline: float = math.inf  # generating this round's candidates

    def left(self) -> float:
        return self.deadline - time.monotonic()


@dataclass(frozen=True, slots=True)
class Value:
    """A value a failing test saw, as the test runner's plugin recorded it (never parsed from text)."""

    repr: str  # repr(), cut at a few thousand characters
    type: str  # "module.QualName" of its type
    source: str | None = None  # a Python literal equal to the value (builtin data types only), when short
    ref: str | None = None  # "module:qualname" when the value is a class, function or module importable so
    names: tuple[str, ...] = ()  # names (and `self.x`) bound to this very object in the failing frame
    plain: str | None = None  # a literal equal to it (==) of a builtin type, for a named tuple


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a mock: `name` is the method path for calls recorded on a parent mock ("" otherwise)."""

    name: str
    args: tuple[Value, ...] = ()
    kwargs: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Observation:
    """Runtime evidence of one failure, recorded where it happened.

    kind "compare": a failing comparison of an `assert` (`op` "==", "in", "<", ...; values "left", "right");
    "assert_method": a unittest `assert*` call (`op` its name; values are its arguments by parameter name);
    "mock": a failing `assert_called_with`-style check (`op` the method; `expected` the expected calls,
    `calls` the mock's actual calls);
    "raises": an exception that did not match `pytest.raises`/`assertRaises*` (values "actual", the raised
    exception; `pattern` the expected regex; `expected` names the expected types in `op`);
    "doctest": a doctest example whose output differs (values "want", "got");
    "exception": the exception the test failed with (value "actual"; `op` its type, `pattern` str());
    "names": values of names and attributes in the failing statement (`values`, keyed by their source).
    `path`/`line`: the statement in the test code (a test file, or a test helper it calls)."""

    kind: str
    path: str = ""
    line: int = 0
    op: str = ""
    values: Mapping[str, Value] = field(default_factory=dict)
    pattern: str | None = None
    expected: tuple[Call, ...] = ()
    calls: tuple[Call, ...] = ()


@dataclass(frozen=True, slots=True)
class TestOutcome:
    __test__ = False  # not a pytest test class
    nodeid: str  # pytest node id, relative to the project root
    outcome: Outcome
    message: str = ""  # one line: exception type and message
    longrepr: str = ""  # the traceback as pytest printed it
    frames: tuple[tuple[str, int], ...] = ()  # (path, line) of project frames, innermost last
    duration: float = 0.0
    observations: tuple[Observation, ...] = ()  # runtime evidence of the failure (repairbot's plugin)

    def observed(self, kind: str) -> tuple[Observation, ...]:
        return tuple(o for o in self.observations if o.kind == kind)

    @property
    def ok(self) -> bool:
        return self.outcome in ("passed", "skipped")


@dataclass(frozen=True, slots=True)
class TestRun:
    """Result of running (part of) a suite once."""

    __test__ = False  # not a pytest test class

    outcomes: tuple[TestOutcome, ...] = ()
    # nodeid -> covered (path, line) pairs; empty when coverage was not asked for
    coverage: Mapping[str, frozenset[tuple[str, int]]] = field(default_factory=dict)
    exit_code: int = 0
    timed_out: bool = False
    killed: str | None = None  # "timeout", "memory", "pids", "crash": why the sandbox stopped the run
    collection_errors: tuple[str, ...] = ()
    output: str = ""  # tail of stdout/stderr, for messages and LLM prompts
    seconds: float = 0.0

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(o.nodeid for o in self.outcomes if not o.ok)

    @property
    def passing(self) -> tuple[str, ...]:
        return tuple(o.nodeid for o in self.outcomes if o.outcome == "passed")

    def outcome(self, nodeid: str) -> TestOutcome | None:
        for o in self.outcomes:
            if o.nodeid == nodeid:
                return o
        return None


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One request to a sandbox: run the tests of `workdir`."""

    workdir: Path  # host path of the tree to test (inside the job's scratch directory)
    tests: tuple[str, ...] = ()  # node ids or files to select; empty: the whole suite
    coverage: bool = False  # per-test line coverage (dynamic contexts)
    timeout_s: float = 60.0  # wall clock for the whole run
    per_test_timeout_s: float = 10.0
    test_cmd: tuple[str, ...] | None = None  # None: pytest through the fast runner
    stop_on_first_failure: bool = False  # stop at a timeout or when a test of `must_pass` fails
    must_pass: tuple[str, ...] = ()  # node ids that passed before this candidate
    tb: str = "short"  # pytest traceback style: "short" for diagnosis, "line" for fast validation runs


class Sandbox(Protocol):
    """Runs test suites of work trees that live under the job's scratch directory.

    One sandbox serves one repair job: it is opened once (`__enter__`), serves many `run` calls, possibly
    from several threads at once (up to `max_parallel`), and leaves nothing behind on `__exit__`.
    """

    name: str  # "docker", "local" or a plugin's
    description: str  # one line for the report: what isolation and image were used

    @property
    def max_parallel(self) -> int: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def run(self, spec: RunSpec) -> TestRun: ...


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    line: int  # 1-based
    score: float
    sources: tuple[str, ...] = ()  # "spectrum", "traceback", "change", "issue"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes [start, end) of `path` (as it is in the snapshot the candidate was made on)."""

    path: str
    start: int
    end: int
    text: bytes


@dataclass(frozen=True, slots=True)
class Candidate:
    edits: tuple[Edit, ...]
    generator: str  # rules, mask, tests, llm, or a plugin generator's name
    rule: str | None
    score: float  # prior estimate that this is the fix: higher first
    description: str = ""
    kind: Literal["code", "test"] = "code"
    line: int = 0  # the line the candidate edits (for reports and feedback)
    # A test repair (co-evolution) records why the test was judged obsolete.
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state candidates are made on: the original tree plus the files changed by earlier rounds."""

    root: Path
    changed: Mapping[str, bytes] = field(default_factory=dict)

    def read(self, path: str) -> bytes:
        if path in self.changed:
            return self.changed[path]
        return read_inside(self.root, path)  # paths from test node ids: a test can forge them

    def with_files(self, files: Mapping[str, bytes]) -> Snapshot:
        return Snapshot(self.root, {**self.changed, **files})


@dataclass(frozen=True, slots=True)
class Verdict:
    candidate: Candidate
    status: VerdictStatus
    fixed: tuple[str, ...] = ()  # failing before, passing now
    broken: tuple[str, ...] = ()  # passing before, failing now
    still_failing: tuple[str, ...] = ()
    suite_passed: bool = False
    seconds: float = 0.0
    detail: str = ""


Confidence = Literal["high", "medium", "low"]
CONFIDENCE_RANK: Mapping[str, int] = {"low": 0, "medium": 1, "high": 2}
CheckStatus = Literal["ok", "warning", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class Check:
    """One check of a patch's assessment and what it found."""

    name: str  # "anti-patterns", "failing tests", "passing tests", "generated inputs", "alternatives", ...
    status: CheckStatus
    summary: str  # one sentence
    examples: tuple[str, ...] = ()  # inputs with what the original and the patched code did

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status, "summary": self.summary,
                "examples": list(self.examples)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Two plausible patches behave differently on one input: the tests do not decide between them."""

    other: int  # index of the other patch in the report's `patches`
    function: str  # "path::qualname"
    input: str  # the arguments, as repr
    this: str  # what this patch's code did ("return: 3", "raise: KeyError")
    that: str  # what the other patch's code did

    def to_json(self) -> dict[str, object]:
        return {"other": self.other, "function": self.function, "input": self.input,
                "this": self.this, "that": self.that}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Assessment:
    """How far a plausible patch is to be trusted: a confidence with its reasons, and the checks behind it."""

    confidence: Confidence
    reasons: tuple[str, ...]  # why not higher (or, for high, what earned it)
    checks: tuple[Check, ...] = ()
    anti_patterns: tuple[str, ...] = ()  # ids of the anti-patterns the patch shows
    disagreements: tuple[Disagreement, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "checks": [c.to_json() for c in self.checks],
            "anti_patterns": list(self.anti_patterns),
            "disagreements": [d.to_json() for d in self.disagreements],
        }


@dataclass(frozen=True, slots=True)
class Patch:
    diff: str
    generator: str  # rules, mask, tests, llm, or a plugin generator's name
    rule: str | None
    files: tuple[str, ...]
    suite_passed: bool
    score: float
    kind: Literal["code", "test"] = "code"
    description: str = ""
    evidence: str = ""
    added_tests: tuple[str, ...] = ()  # node ids of regression tests added with a code fix
    assessment: Assessment | None = None  # None: not assessed (a report made outside the pipeline)

    @property
    def confidence(self) -> Confidence | None:
        return self.assessment.confidence if self.assessment is not None else None

    def to_json(self) -> dict[str, object]:
        return {
            "diff": self.diff,
            "generator": self.generator,
            "rule": self.rule,
            "files": list(self.files),
            "suite_passed": self.suite_passed,
            "score": round(self.score, 4),
            "kind": self.kind,
            "description": self.description,
            "evidence": self.evidence,
            "added_tests": list(self.added_tests),
            "confidence": self.confidence,
            "assessment": self.assessment.to_json() if self.assessment is not None else None,
        }


@dataclass(frozen=True, slots=True)
class RoundRecord:
    round: int
    base_fixed: tuple[str, ...]  # tests fixed by the partial patch this round started from
    candidates: int
    validated: int
    plausible: int
    partial: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Stats:
    candidates_generated: int = 0
    candidates_validated: int = 0
    first_plausible_at: int | None = None
    rounds: int = 0
    seconds: float = 0.0
    first_plausible_s: float | None = None  # wall time from the start of the repair to the first plausible


@dataclass(frozen=True, slots=True)
class Report:
    """The JSON report of DESIGN §4 (schema_version 1; extended, never broken)."""

    status: Literal["fixed", "not_fixed", "error"]
    kind: RepairKind = "none"
    failing_tests: tuple[str, ...] = ()
    patches: tuple[Patch, ...] = ()
    localization: tuple[Location, ...] = ()
    stats: Stats = field(default_factory=Stats)
    error: str | None = None
    rounds: tuple[RoundRecord, ...] = ()
    sandbox: str = ""
    notes: tuple[str, ...] = ()
    obsolete_tests: tuple[str, ...] = ()  # failing tests judged obsolete by an intended change (co-evolution)
    base: str | None = None  # the revision whose changes were treated as intended
    # Of `failing_tests`, those that passed at `base` (what the changes broke); None: the base was not run.
    newly_failing: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "schema_version": 1,
            "status": self.status,
            "kind": self.kind,
            "failing_tests": list(self.failing_tests),
            "patches": [p.to_json() for p in self.patches],
            "localization": [
                {"path": loc.path, "line": loc.line, "score": round(loc.score, 4)}
                for loc in self.localization
            ],
            "stats": {
                "candidates_generated": self.stats.candidates_generated,
                "candidates_validated": self.stats.candidates_validated,
                "first_plausible_at": self.stats.first_plausible_at,
                "rounds": self.stats.rounds,
                "seconds": round(self.stats.seconds, 3),
                "first_plausible_s": None
                if self.stats.first_plausible_s is None
                else round(self.stats.first_plausible_s, 3),
            },
            "error": self.error,
            "rounds": [
                {
                    "round": r.round,
                    "base_fixed": list(r.base_fixed),
                    "candidates": r.candidates,
                    "validated": r.validated,
                    "plausible": r.plausible,
                    "partial": r.partial,
                    "seconds": round(r.seconds, 3),
                }
                for r in self.rounds
            ],
            "sandbox": self.sandbox,
            "notes": list(self.notes),
            "obsolete_tests": list(self.obsolete_tests),
            "base": self.base,
            "newly_failing": None if self.newly_failing is None else list(self.newly_failing),
            "confidence": self.patches[0].confidence if self.patches else None,
        }


# ---------------------------------------------------------------------------------------------- assessment

# Runs node ids on the original tree with `files` written over it, in the job's sandbox; returns the run and
# the tree it ran in (a behaviour probe leaves its records there). The label names the tree.
BehaviourRun = Callable[[str, Mapping[str, bytes], Sequence[str]], tuple[TestRun, Path]]


@dataclass(frozen=True, slots=True)
class PlausibleFix:
    patch: Patch
    files: Mapping[str, bytes]  # every file the patch changes (path -> patched bytes)


@dataclass(frozen=True, slots=True)
class Exploration:
    """How far the search went past its first plausible patch (alternatives are evidence too)."""

    validated_after_first: int = 0  # candidates validated after the first plausible one
    exhausted: bool = False  # every generated candidate was validated
    cut_by_budget: bool = False  # the budget ended the search before its alternatives window did


@dataclass(frozen=True, slots=True)
class AssessmentRequest:
    """What the assessment stage judges: the plausible patches of one job, best first."""

    root: Path  # the original tree (never written)
    fixes: tuple[PlausibleFix, ...]
    baseline: TestRun  # the suite on the original tree, with per-test coverage when it was available
    test_files: tuple[str, ...]
    exploration: Exploration = Exploration()
    run: BehaviourRun | None = None  # None: no behaviour checks (the test command is not pytest)
    deadline: float = math.inf  # time.monotonic() by which the assessment must be done


# ------------------------------------------------------------------------------------------- co-evolution

ParamKind = Literal["posonly", "pos", "kwonly", "varargs", "varkw"]
DefKind = Literal["function", "method", "class", "variable"]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    default: str | None = None  # source text of the default, None when required

    @property
    def required(self) -> bool:
        return self.default is None and self.kind in ("posonly", "pos", "kwonly")


@dataclass(frozen=True, slots=True)
class Definition:
    """A function, method or class of one module, as tree-sitter sees it."""

    qualname: str  # "func", "Class", "Class.method", "outer.inner"
    kind: DefKind
    path: str
    start_line: int  # 1-based, the `def`/`class` line (decorators excluded)
    end_line: int
    params: tuple[Param, ...]  # without self/cls for methods
    returns: tuple[str, ...]  # return expressions, in order (nested defs excluded)
    raises: tuple[tuple[str, str], ...]  # (exception type, message text or "") per raise
    docstring: str
    body_key: str  # hash of the body with docstring and own name removed: equal bodies => same code
    body_text: str  # body without docstring, whitespace-normalized (for mutation analysis)
    bases: tuple[str, ...] = ()  # classes only

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


ChangeKind = Literal[
    "rename",  # same code, new name, same module
    "move",  # same name (or renamed) in another module
    "module_move",  # a module file renamed/moved
    "signature",  # parameters added/removed/renamed/reordered, defaults changed
    "return",  # return expressions changed
    "raise",  # raised exception types or messages changed
    "body",  # other behavioural change of the body
    "added",
    "removed",
]


@dataclass(frozen=True, slots=True)
class SignatureDiff:
    added: tuple[Param, ...] = ()
    removed: tuple[Param, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()  # (old name, new name) at the same position
    reordered: bool = False
    defaults: tuple[tuple[str, str | None, str | None], ...] = ()  # (name, old default, new default)
    old_order: tuple[str, ...] = ()  # positional parameter names at base
    new_order: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.reordered or self.defaults)

    def summary(self) -> str:
        parts: list[str] = []
        if self.added:
            parts.append("added " + ", ".join(p.name for p in self.added))
        if self.removed:
            parts.append("removed " + ", ".join(p.name for p in self.removed))
        if self.renamed:
            parts.append("renamed " + ", ".join(f"{a}->{b}" for a, b in self.renamed))
        if self.reordered:
            parts.append("reordered")
        if self.defaults:
            parts.append("defaults " + ", ".join(f"{n}: {a}->{b}" for n, a, b in self.defaults))
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class DefChange:
    kind: ChangeKind
    old: str  # dotted name at base: "pkg.mod.Class.meth" (the module for module_move); "" when added
    new: str  # dotted name in the tree; "" when removed
    path: str  # file in the tree ("" when removed)
    old_path: str  # file at base ("" when added)
    line: int  # 1-based line of the definition in the tree (0 when removed)
    summary: str
    old_def: Definition | None = None
    new_def: Definition | None = None
    signature: SignatureDiff | None = None
    shape: str = ""  # body changes: "mutation" (operator/off-by-one/variable swap), "literal", "rewrite"
    doc_changed: bool = False  # the docstring of the definition changed too (a sign of intent)

    @property
    def old_name(self) -> str:
        return self.old.rsplit(".", 1)[-1]

    @property
    def new_name(self) -> str:
        return self.new.rsplit(".", 1)[-1]

    @property
    def old_module(self) -> str:
        return self.old.rsplit(".", 1)[0] if self.old_def is not None else self.old

    @property
    def new_module(self) -> str:
        return self.new.rsplit(".", 1)[0] if self.new_def is not None else self.new


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What changed from `base` to the working tree (DESIGN §1, test co-evolution)."""

    base: str
    changes: tuple[DefChange, ...] = ()
    changed_lines: Mapping[str, frozenset[int]] = field(default_factory=dict)  # tree path -> 1-based lines
    renamed_files: Mapping[str, str] = field(default_factory=dict)  # base path -> tree path
    added_files: tuple[str, ...] = ()
    deleted_files: tuple[str, ...] = ()
    modified_files: tuple[str, ...] = ()
    old_sources: Mapping[str, bytes] = field(default_factory=dict)  # changed .py files at base (base paths)
    new_sources: Mapping[str, bytes] = field(default_factory=dict)  # changed .py files in the tree
    message: str = ""  # commit messages base..HEAD (empty for uncommitted changes)
    changed_test_files: tuple[str, ...] = ()  # modified or added test files

    def of_kind(self, *kinds: ChangeKind) -> tuple[DefChange, ...]:
        return tuple(c for c in self.changes if c.kind in kinds)

    def renames(self) -> dict[str, DefChange]:
        """Old simple name (or old module) -> the rename/move change."""
        out: dict[str, DefChange] = {}
        for c in self.of_kind("rename", "move", "module_move"):
            if c.kind == "rename" and c.old_name == c.new_name:
                continue  # a member of a renamed class: the class rename covers it
            out.setdefault(c.old_name if c.kind != "module_move" else c.old, c)
        return out

    def for_name(self, name: str) -> tuple[DefChange, ...]:
        """Changes of the definition called `name` (simple or qualified) in the tree."""
        return tuple(
            c
            for c in self.changes
            if c.new and (c.new == name or c.new.endswith("." + name) or c.new_name == name)
        )

    def summary(self) -> str:
        return "; ".join(c.summary for c in self.changes if c.kind not in ("added",))[:500]


ClassificationKind = Literal["obsolete", "regression"]


@dataclass(frozen=True, slots=True)
class Classification:
    nodeid: str
    kind: ClassificationKind
    evidence: str  # one line: why
    change: DefChange | None = None  # the intended change the test trips over (obsolete)
    reason: str = ""  # "rename", "signature", "value", "exception", "message", "" (regression)


# Runs `nodeids` on the job's tree with `files` (path -> new bytes) written over it.
Probe = Callable[[Mapping[str, bytes], Sequence[str]], TestRun]


@dataclass(frozen=True, slots=True)
class ChangeAnalysis:
    """What co-evolution found out once per job: the intended change and what it did to the failing tests."""

    changes: ChangeSet
    classifications: Mapping[str, Classification]  # failing node id -> obsolete or regression, and why
    passed_at_base: frozenset[str]  # node ids that passed on the base revision
    before: TestRun  # the failing run on the tree, with per-test coverage
    base_tree: Path  # the base revision, materialized inside the job's scratch directory

    @property
    def obsolete(self) -> frozenset[str]:
        return frozenset(n for n, c in self.classifications.items() if c.kind == "obsolete")


# ---------------------------------------------------------------------------------------------- generation


@dataclass(frozen=True, slots=True)
class Hole:
    """A `<mask>` hole of an instantiated fix pattern, with the code around it."""

    kind: str  # "name", "attr", "callable", "literal", "op", "expr", "cond", "stmt", "arg"
    prefix: str  # source text before the hole (from the start of the enclosing function or file)
    suffix: str  # source text after the hole
    donors: tuple[str, ...] = ()  # fills proposed from the code in scope, best first


class Predictor(Protocol):
    """Ranks fills for holes. `donors` needs no weights; `transformers` uses a masked language model."""

    name: str

    def rank(self, holes: Sequence[Hole], limit: int) -> list[list[tuple[str, float]]]:
        """For each hole, up to `limit` (fill, score) pairs, best first; scores comparable within a hole."""
        ...


@dataclass(frozen=True, slots=True)
class GenerationContext:
    job: Job
    snapshot: Snapshot  # the tree candidates are made on (original + partial fixes of earlier rounds)
    locations: tuple[Location, ...]  # ranked, most suspicious first
    source_files: tuple[str, ...]  # Python files a code repair may edit
    test_files: tuple[str, ...]  # test files (a code repair never edits them)
    failing: tuple[TestOutcome, ...]  # failing tests with their tracebacks
    limit: int  # at most this many candidates from this generator this round
    round: int = 1
    feedback: tuple[Verdict, ...] = ()  # verdicts of the previous rounds, best first
    predictors: tuple[Predictor, ...] = ()
    budget: Budget = Budget()
    changes: ChangeAnalysis | None = None  # the intended change, when co-evolution applies
    probe: Probe | None = None  # runs tests on this snapshot with files overlaid (observing values)


class Generator(Protocol):
    """Proposes candidates; registered by name (built in, or the entry point group `repairbot.generators`)."""

    name: str

    def generate(self, ctx: GenerationContext) -> Iterable[Candidate]: ...
