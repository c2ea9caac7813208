"""Which rules produce a known fix: every rule's candidates at the changed statements of the buggy version,
made by the engine's own code path (tree-sitter match, fix template, donor fills for `<mask>` holes), compared
with the fixed version after normalization (docstrings, comments and layout do not count).

Used by the fix corpus (rule coverage, learned priors: scripts/fixcorpus.py) and by the repository-history
priors of a repair (a project's own past fixes raise the rules that made them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from repairbot.generate.fixmine import Hunk, apply_hunks
from repairbot.generate.patterns import Rule, Site
from repairbot.generate.proposals import Proposal, site_proposals
from repairbot.parsing.normalize import normalized_key
from repairbot.parsing.tree import Source, line_end, line_start, statement_at

MATCHER_VERSION = "1"

# A necessary condition for two regions to be equal after normalization, cheap enough for every candidate (all
# C-level passes): one quote character, no comments, no layout, parentheses, commas or line continuations.
# Applied alike to both sides, it can only merge texts that differ (the AST comparison then decides), not
# separate ones that normalize alike, but for quoting of strings that hold quotes and implicit concatenation.
_COMMENT = re.compile(rb"#[^\n]*")
_LAYOUT = re.compile(rb"[\s(),\\]+")
_QUOTES = bytes.maketrans(b"'", b'"')


def token_key(region: bytes) -> bytes:
    return _LAYOUT.sub(b"", _COMMENT.sub(b"", region.translate(_QUOTES)))


class Expected:
    """One expected file (the buggy one with some hunks applied), compared against candidate edits."""

    def __init__(self, buggy: bytes, expected: bytes) -> None:
        self.buggy = buggy
        self.expected = expected
        n = min(len(buggy), len(expected))
        p = 0
        while p < n and buggy[p] == expected[p]:
            p += 1
        s = 0
        while s < n - p and buggy[-1 - s] == expected[-1 - s]:
            s += 1
        self.prefix = p
        self.suffix = s
        self._regions: dict[tuple[int, int], bytes] = {}
        self._key: str | None = None

    def equals(self, start: int, end: int, text: bytes) -> bool:
        """Does the buggy file with bytes [start, end) replaced by `text` equal the expected one?"""
        b = self.buggy
        # Outside the union of the candidate's edit and the expected change, both are the buggy file.
        lo = line_start(b, min(self.prefix, start))
        hi = max(len(b) - self.suffix, end)
        hi = line_end(b, hi - 1) if hi > lo else hi
        want = self._regions.get((lo, hi))
        if want is None:
            delta = len(self.expected) - len(b)
            want = self._regions[(lo, hi)] = token_key(self.expected[lo : hi + delta])
        if token_key(b[lo:start] + text + b[end:hi]) != want:
            return False
        if self._key is None:
            self._key = normalized_key(self.expected) or ""
        return normalized_key(b[:start] + text + b[end:]) == self._key


@dataclass(slots=True)
class RuleResult:
    """What one rule did at the sites of one hunk."""

    candidates: int = 0  # candidates it proposed there
    produced: bool = False
    fill: float = 0.0  # fill score of the best candidate that equals the fix (1.0 for hole-free templates)
    rank: int = 0  # 1-based rank of that candidate among the rule's own, by fill score
    fills: list[float] = field(default_factory=list)  # every candidate's fill score (when asked for)


@dataclass(slots=True)
class HunkResult:
    rules: dict[str, RuleResult] = field(default_factory=dict)
    sites: int = 0  # statements the hunk's lines map to

    @property
    def producers(self) -> list[str]:
        return sorted(r for r, res in self.rules.items() if res.produced)


def proposals_at(src: Source, path: str, lines: Sequence[int], rules: Sequence[Rule]) -> list[Proposal]:
    """Every proposal of `rules` (hole-free and filled) at the statements covering `lines`, as the `rules`
    and `mask` generators make them (donor fills for holes)."""
    out: list[Proposal] = []
    seen: set[int] = set()
    for line in lines:
        stmt = statement_at(src.tree, line)
        if stmt is None or stmt.start_byte in seen:
            continue
        seen.add(stmt.start_byte)
        site = Site(src, path, stmt)
        for holes in (False, True):
            out += site_proposals(site, rules, holes=holes)
    return out


def match_edit(
    buggy: bytes,
    fixed: bytes,
    hunks: Sequence[Hunk],
    rules: Sequence[Rule],
    path: str = "x.py",
    *,
    keep_fills: bool = False,
    source: Source | None = None,
) -> HunkResult:
    """The rules with one candidate, at the statements of `hunks`, that equals the buggy file with exactly
    those hunks applied."""
    src = source if source is not None else Source.of(buggy)
    lines = sorted({ln for h in hunks for ln in h.buggy_lines()})
    expected = Expected(buggy, apply_hunks(buggy, fixed, hunks))
    props = proposals_at(src, path, lines, rules)
    stmts = {s.start_byte for ln in lines if (s := statement_at(src.tree, ln)) is not None}
    result = HunkResult(sites=len(stmts))
    by_rule: dict[str, list[Proposal]] = {}
    for p in props:
        by_rule.setdefault(p.rule, []).append(p)
    priors = {r.id: r.prior for r in rules}
    for rule_id, group in by_rule.items():
        res = RuleResult(candidates=len(group))
        group.sort(key=lambda p: -p.score)
        prior = max(priors.get(rule_id, 1.0), 1e-9)
        if keep_fills:
            res.fills = [p.score / prior for p in group]
        for rank, p in enumerate(group, 1):
            if expected.equals(p.start, p.end, p.text):
                res.produced = True
                res.fill = round(p.score / prior, 4)
                res.rank = rank
                break
        result.rules[rule_id] = res
    return result


@dataclass(slots=True)
class FixResult:
    whole: HunkResult  # one candidate makes the whole fix
    hunks: list[HunkResult]  # per hunk, when there are several (the repair loop fixes one per round)

    @property
    def producers(self) -> list[str]:
        return self.whole.producers

    def produced(self) -> bool:
        """One candidate makes the fix, or each hunk has a candidate (a partial fix per round)."""
        return bool(self.whole.producers) or (bool(self.hunks) and all(h.producers for h in self.hunks))


def match_fix(
    buggy: bytes,
    fixed: bytes,
    hunks: Sequence[Hunk],
    rules: Sequence[Rule],
    path: str = "x.py",
    *,
    keep_fills: bool = False,
) -> FixResult:
    src = Source.of(buggy)  # one parse and one scope index for all the edits
    whole = match_edit(buggy, fixed, hunks, rules, path, keep_fills=keep_fills, source=src)
    per = (
        [match_edit(buggy, fixed, [h], rules, path, keep_fills=keep_fills, source=src) for h in hunks]
        if len(hunks) > 1
        else []
    )
    return FixResult(whole, per)


__all__ = [
    "MATCHER_VERSION",
    "Expected",
    "FixResult",
    "HunkResult",
    "RuleResult",
    "match_edit",
    "match_fix",
    "token_key",
]
