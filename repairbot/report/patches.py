"""Validated candidates → ranked patches: the whole suite green first, then the preferred kind, the prior
score, the smallest diff, and the order candidates were validated in (never which one finished first)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

from repairbot.diffs import unified_diff
from repairbot.models import Patch, Verdict

MAX_PLAUSIBLE = 5  # patches kept in the report besides the chosen one


def patch_of(verdict: Verdict, files: Mapping[str, bytes], base: Path) -> Patch:
    """The patch of a validated candidate whose changed files are `files` (the original tree is `base`)."""
    cand = verdict.candidate
    return Patch(
        diff=diff_of(files, base),
        generator=cand.generator,
        rule=cand.rule,
        files=tuple(sorted(files)),
        suite_passed=verdict.suite_passed,
        score=cand.score,
        kind=cand.kind,
        description=cand.description,
        evidence=cand.evidence,
    )


def with_files(patch: Patch, files: Mapping[str, bytes], base: Path) -> Patch:
    """`patch` re-made on `files` (e.g. with a regression test added)."""
    return replace(patch, diff=diff_of(files, base), files=tuple(sorted(files)))


def diff_of(files: Mapping[str, bytes], base: Path) -> str:
    diffs = []
    for path in sorted(files):
        before = base / path
        original = before.read_bytes() if before.exists() else None  # None: a file the patch adds
        diffs.append(unified_diff(path, original, files[path]))
    return "".join(diffs)


def rank(
    made: Sequence[tuple[Patch, dict[str, bytes], int]], prefer: Literal["code", "test", "auto"]
) -> list[tuple[Patch, dict[str, bytes]]]:
    """The best patches first, at most MAX_PLAUSIBLE + 1; `made` holds (patch, files, validation order)."""
    kinds = {"test": 0, "code": 1} if prefer == "test" else {"code": 0, "test": 1}
    ordered = sorted(
        made,
        key=lambda pfo: (not pfo[0].suite_passed, kinds[pfo[0].kind] if prefer != "auto" else 0,
                         -round(pfo[0].score, 6), _diff_size(pfo[0].diff), pfo[2]),
    )  # fmt: skip
    return [(p, f) for p, f, _ in ordered[: MAX_PLAUSIBLE + 1]]


def rank_assessed(ranked: Sequence[tuple[Patch, dict[str, bytes]]]) -> list[tuple[Patch, dict[str, bytes]]]:
    """Assessed patches: a patch with an anti-pattern after every patch without one, then by confidence; the
    order of `ranked` breaks ties."""
    levels = {"high": 0, "medium": 1, "low": 2, None: 1}

    def key(pf: tuple[Patch, dict[str, bytes]]) -> tuple[bool, bool, int]:
        a = pf[0].assessment
        return (not pf[0].suite_passed, bool(a is not None and a.anti_patterns), levels[pf[0].confidence])

    return sorted(ranked, key=key)


def _diff_size(diff: str) -> int:
    return sum(1 for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---")))
