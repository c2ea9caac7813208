"""The generator protocol, the mask predictor protocol and the context a generator works from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from repairbot.models import Candidate, Job, Location, Snapshot, TestOutcome, Verdict


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
    extras: dict[str, object] = field(default_factory=dict)  # stage-specific evidence (e.g. change sets)


class Generator(Protocol):
    name: str

    def generate(self, ctx: GenerationContext) -> Iterable[Candidate]: ...
