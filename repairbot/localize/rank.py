"""Rank suspicious statements.

Ochiai over per-test line coverage is the backbone. Frames of failing tests' tracebacks and lines changed by
the push are boosts, because they carry information coverage cannot: where the error surfaced, and what the
developer just touched. Scores are mapped onto statements so that a multi-line statement counts once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from repairbot.localize.statements import SourceStatements
from repairbot.models import Location, TestRun

TRACEBACK_BOOST = 0.35  # the innermost project frame of a failing test
CONTROL_BOOST = 0.2  # the condition that let execution reach that frame (a missing or wrong guard)
CHANGE_BOOST = 0.25  # a line the change under repair touched
ISSUE_BOOST = 0.3  # a frame of a traceback pasted into an issue


@dataclass(frozen=True, slots=True)
class Evidence:
    run: TestRun  # the run of the suite, with per-test coverage
    source_files: frozenset[str]  # only these can hold the fault
    changed_lines: Mapping[str, frozenset[int]] = field(default_factory=dict)
    issue_frames: Sequence[tuple[str, int]] = ()
    # The source tree: lines are merged per statement, the condition controlling the innermost frame gets a
    # boost, and a static prior breaks ties between statements every failing test runs. None: lines alone.
    root: Path | None = None


def localize(ev: Evidence, limit: int = 40) -> tuple[Location, ...]:
    statements = SourceStatements(ev.root) if ev.root is not None else None
    failing = set(ev.run.failing)
    passing = set(ev.run.passing)
    total_failed = len(failing)
    ef: dict[tuple[str, int], int] = defaultdict(int)
    ep: dict[tuple[str, int], int] = defaultdict(int)
    for nodeid, lines in ev.run.coverage.items():
        target = ef if nodeid in failing else ep if nodeid in passing else None
        if target is None:
            continue
        for key in lines:
            if key[0] in ev.source_files:
                target[key] += 1

    scores: dict[tuple[str, int], float] = {}
    sources: dict[tuple[str, int], set[str]] = defaultdict(set)
    for key, f in ef.items():
        p = ep.get(key, 0)
        scores[key] = f / math.sqrt(total_failed * (f + p)) if total_failed else 0.0
        sources[key].add("spectrum")

    def boost(key: tuple[str, int], amount: float, source: str) -> None:
        scores[key] = scores.get(key, 0.0) + amount
        sources[key].add(source)

    # Traceback frames: the innermost project-source frame of each failing test counts most.
    frame_weight: dict[tuple[str, int], float] = defaultdict(float)
    for nodeid in failing:
        outcome = ev.run.outcome(nodeid)
        if outcome is None:
            continue
        frames = [f for f in outcome.frames if f[0] in ev.source_files]
        for depth, key in enumerate(reversed(frames)):
            frame_weight[key] = max(frame_weight[key], TRACEBACK_BOOST * (0.5**depth))
    for key, w in frame_weight.items():
        boost(key, w, "traceback")
    if statements is not None:
        innermost = {key for key, w in frame_weight.items() if w == TRACEBACK_BOOST}
        for frame_path, frame_line in innermost:
            header = statements.controller_of(frame_path, frame_line)
            if header is not None:
                boost((frame_path, header), CONTROL_BOOST, "control")
    for changed_path, changed in ev.changed_lines.items():
        if changed_path in ev.source_files:
            for changed_line in changed:
                boost((changed_path, changed_line), CHANGE_BOOST, "change")
    for key in ev.issue_frames:
        if key[0] in ev.source_files:
            boost(key, ISSUE_BOOST, "issue")

    # One entry per statement: the best score of its lines.
    merged: dict[tuple[str, int], float] = {}
    merged_sources: dict[tuple[str, int], set[str]] = defaultdict(set)
    for (path, line), score in scores.items():
        first = statements.statement_of(path, line) if statements is not None else line
        key = (path, first)
        if statements is not None:
            score *= statements.static_prior(path, first)
        if score > merged.get(key, -1.0):
            merged[key] = score
        merged_sources[key] |= sources[(path, line)]
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
    top = ranked[:limit]
    best = top[0][1] if top and top[0][1] > 0 else 1.0
    return tuple(
        Location(path, line, round(min(1.0, score / best), 4), tuple(sorted(merged_sources[(path, line)])))
        for (path, line), score in top
        if score > 0
    )
