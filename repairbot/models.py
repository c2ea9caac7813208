"""Frozen, typed records that flow between the stages (DESIGN §1).

Stages never import each other; they exchange these records. Paths inside records are POSIX paths relative
to the project root. Byte offsets always refer to the raw bytes of a file in a given `Snapshot`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Outcome = Literal["passed", "failed", "error", "skipped", "timeout", "crashed"]
Generator = Literal["rules", "mask", "tests", "llm"]
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
    job_id: str = "local"
    max_rounds: int = 3
    image: str | None = None  # container image for the docker sandbox (None: automatic)
    test_timeout_s: float = 600.0  # one run of the whole suite
    per_test_timeout_s: float = 30.0  # one test; after one hangs, later ones get 10x the slowest pass


@dataclass(frozen=True, slots=True)
class TestOutcome:
    __test__ = False  # not a pytest test class
    nodeid: str  # pytest node id, relative to the project root
    outcome: Outcome
    message: str = ""  # one line: exception type and message
    longrepr: str = ""  # the traceback as pytest printed it
    frames: tuple[tuple[str, int], ...] = ()  # (path, line) of project frames, innermost last
    duration: float = 0.0

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
    generator: Generator
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
        return (self.root / path).read_bytes()

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


@dataclass(frozen=True, slots=True)
class Patch:
    diff: str
    generator: Generator
    rule: str | None
    files: tuple[str, ...]
    suite_passed: bool
    score: float
    kind: Literal["code", "test"] = "code"
    description: str = ""
    evidence: str = ""
    added_tests: tuple[str, ...] = ()  # node ids of regression tests added with a code fix

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
        }
