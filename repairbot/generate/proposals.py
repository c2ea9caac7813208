"""Proposals: every instantiation of the rules at one statement (templates expanded, holes filled by the
donor pools or a model), before the generators' gates. The repair loop's generators and the fix corpus's
matcher (fixmatch) share this one code path, so rule coverage measured on real fixes is what a repair
proposes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from repairbot.generate.donors import DonorPredictor, donor_pool
from repairbot.generate.patterns import (
    Expansion,
    Match,
    Placement,
    Rule,
    Site,
    expand,
    hole_context,
    in_loop,
    matches_at,
    placement,
    render,
)
from repairbot.models import Hole, Predictor

FILLS_PER_HOLE = 25


@dataclass(frozen=True, slots=True)
class Proposal:
    """An edit proposed at one statement, before the gates."""

    path: str
    start: int
    end: int
    text: bytes
    score: float  # rule prior × fill score (the location score is applied by the generator)
    rule: str
    description: str
    line: int


def _describe(rule: Rule, old: str, new: str) -> str:
    def short(s: str) -> str:
        s = " ".join(s.split())
        return s if len(s) <= 60 else s[:57] + "..."

    if not old:
        return f"{rule.message}: insert `{short(new)}`"
    if not new:
        return f"{rule.message}: remove `{short(old)}`"
    return f"{rule.message}: `{short(old)}` -> `{short(new)}`"


def merge_fills(
    predictors: Sequence[Predictor], holes: Sequence[Hole], limit: int
) -> list[list[tuple[str, float]]]:
    """Fills from several predictors, deduplicated by text, best score wins, scores mapped into (0, 1]."""
    merged: list[dict[str, float]] = [{} for _ in holes]
    for pred in predictors:
        ranked = pred.rank(holes, limit)
        for i, fills in enumerate(ranked[: len(holes)]):
            scores = [s for _, s in fills]
            if scores and all(0.0 < s <= 1.0 for s in scores):
                norm = scores
            elif scores and all(s <= 0.0 for s in scores):
                norm = [math.exp(s) for s in scores]  # log-probabilities
            else:
                norm = [1.0 / (1.0 + 0.15 * r) for r in range(len(fills))]
            for (text, _), score in zip(fills, norm, strict=True):
                text = text.strip() if "\n" not in text.strip() else text.strip("\n")
                if text and score > merged[i].get(text, 0.0):
                    merged[i][text] = score
    return [sorted(m.items(), key=lambda kv: -kv[1])[:limit] for m in merged]


def site_proposals(
    site: Site, rules: Sequence[Rule], *, holes: bool, predictors: Sequence[Predictor] = ()
) -> list[Proposal]:
    """Every instantiation of `rules` at one statement (holes filled when `holes`)."""
    src = site.src
    out: list[Proposal] = []
    pending: list[tuple[Match, Placement, Expansion, list[Hole]]] = []
    for match in matches_at(src, site.stmt, rules, site.facts):
        templates = match.rule.templates(holes=holes)
        if not templates:
            continue
        pl = placement(src, match)
        if pl is None:
            continue
        env = site.env(match)
        line = match.target.start_point[0] + 1
        for template in templates:
            for exp in expand(template, env, match.target, pl.nl):
                if not holes:
                    out.append(_proposal(site, match, pl, exp.text(), exp.score, line))
                    continue
                looping = in_loop(match.target)
                hole_recs: list[Hole] = []
                for k, slot in enumerate(exp.holes):
                    prefix, suffix = hole_context(src, match, pl, exp, k)
                    pool = donor_pool(slot.kind, site.facts, pl.original, in_loop=looping)
                    hole_recs.append(Hole(slot.kind, prefix, suffix, pool))
                pending.append((match, pl, exp, hole_recs))
    if pending:
        flat = [h for *_, hs in pending for h in hs]
        fills = merge_fills(predictors or (DonorPredictor(),), flat, FILLS_PER_HOLE)
        k = 0
        for match, pl, exp, hole_recs in pending:
            per_hole = fills[k : k + len(hole_recs)]
            k += len(hole_recs)
            line = match.target.start_point[0] + 1
            for choice, score in _combine(per_hole):
                out.append(_proposal(site, match, pl, exp.text(choice), exp.score * score, line))
    return out


def _combine(
    per_hole: Sequence[Sequence[tuple[str, float]]], limit: int = FILLS_PER_HOLE
) -> list[tuple[list[str], float]]:
    combos: list[tuple[list[str], float]] = [([], 1.0)]
    for fills in per_hole:
        combos = [([*c, t], s * fs) for c, s in combos for t, fs in fills]
        combos.sort(key=lambda cs: -cs[1])
        combos = combos[:limit]
    return combos


def _proposal(site: Site, match: Match, pl: Placement, text: str, fill: float, line: int) -> Proposal:
    start, end, data = render(site.src, pl, text, site.stmt)
    return Proposal(
        site.path,
        start,
        end,
        data,
        match.rule.prior * max(min(fill, 1.0), 1e-6),
        match.rule.id,
        _describe(match.rule, pl.original, text),
        line,
    )
