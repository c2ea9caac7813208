"""The `rules` and `mask` generators: fix patterns of rules/python instantiated at suspicious statements.

`rules` uses the hole-free templates; `mask` the templates with `<mask>` holes, filled by the configured
predictors (the weight-free donor predictor when none is configured). Both walk the locations most suspicious
first and yield candidates lazily, best first across rules and locations (a heap merged against the best
score the next location could still reach), after the cheap gates: syntax and a changed normalized AST.
"""

from __future__ import annotations

import heapq
import logging
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence

from repairbot.generate.donors import DonorPredictor
from repairbot.generate.learned import learned
from repairbot.generate.patterns import (
    HoleSlot,
    Rule,
    Site,
    load_rules,
)
from repairbot.generate.proposals import Proposal, merge_fills, site_proposals
from repairbot.models import Candidate, Edit, GenerationContext, Location, Predictor, TestOutcome
from repairbot.parsing.normalize import region_key
from repairbot.parsing.tree import Source, enclosing_function, statement_at, syntax_ok

HISTORY_SECONDS = 10.0  # at most this long reading the project's own past fixes (once per HEAD)
log = logging.getLogger(__name__)


# How a failing test failed says which fix families are likelier: a hang points at loop conditions and
# updates, unbounded recursion at arguments and base cases, an IndexError at bounds, a None at a guard. The
# multipliers on the rule prior are learned from the fix corpus (fixes whose subject names the symptom,
# rules/learned.json), weighted by the share of failing tests that show the symptom.
def symptom_families() -> Mapping[str, Mapping[str, float]]:
    return learned().symptoms


def symptom(outcome: TestOutcome) -> str:
    message = outcome.message.strip()
    if outcome.outcome == "timeout":
        return "hang"
    if message.startswith("RecursionError"):
        return "recursion"
    if message.startswith(("IndexError", "KeyError")):
        return "index"
    if "NoneType" in message.split("\n", 1)[0]:
        return "none"
    return "value"


def rule_weights(rules: Sequence[Rule], failing: Sequence[TestOutcome]) -> dict[str, float]:
    """Multiplier on each rule's prior from the symptoms of the failing tests: its family's (above) and the
    rule's own `symptoms`, each weighted by the share of failing tests that show the symptom."""
    if not failing:
        return {}
    shares: dict[str, float] = {}
    for outcome in failing:
        kind = symptom(outcome)
        shares[kind] = shares.get(kind, 0.0) + 1.0 / len(failing)
    weights: dict[str, float] = {}
    families = symptom_families()
    for rule in rules:
        w = 1.0
        for kind, share in shares.items():
            w += (families.get(kind, {}).get(rule.family, 1.0) - 1.0) * share
            w += (rule.symptoms.get(kind, 1.0) - 1.0) * share
        weights[rule.id] = max(w, 0.05)
    return weights


class _PatternGenerator:
    """Shared walk over locations for both generators."""

    name = "rules"
    holes = False

    def __init__(self, rules: Sequence[Rule] | None = None) -> None:
        self._rules = tuple(rules) if rules is not None else None
        # The unedited region's dedup key per (path, first line, last line), for one walk.
        self._base_keys: dict[tuple[str, int, int], tuple[object, ...] | None] = {}

    def rules(self) -> tuple[Rule, ...]:
        all_rules = self._rules if self._rules is not None else load_rules()
        return tuple(r for r in all_rules if r.templates(holes=self.holes))

    def predictors(self, ctx: GenerationContext) -> Sequence[Predictor]:
        return ()

    def generate(self, ctx: GenerationContext) -> Iterable[Candidate]:
        return self._walk(ctx)

    def _locations(self, ctx: GenerationContext) -> list[Location]:
        tests = set(ctx.test_files)
        sources = set(ctx.source_files)
        return [
            loc
            for loc in ctx.locations
            if loc.path not in tests and loc.path.endswith(".py") and (not sources or loc.path in sources)
        ]

    def _walk(self, ctx: GenerationContext) -> Iterator[Candidate]:
        rules = self.rules()
        self._base_keys = {}
        if not rules or ctx.limit <= 0:
            return
        weights = rule_weights(rules, ctx.failing)
        for rule_id, w in self._history(ctx, rules).items():
            weights[rule_id] = weights.get(rule_id, 1.0) * w
        top_prior = max(r.prior * weights.get(r.id, 1.0) for r in rules)
        locs = self._locations(ctx)
        predictors = self.predictors(ctx)
        sources: dict[str, Source | None] = {}
        seen_keys: set[tuple[str, tuple[object, ...]]] = set()
        seen_stmts: set[tuple[str, int]] = set()
        heap: list[tuple[float, int, Proposal]] = []
        seq = 0
        emitted = 0
        stop_at = ctx.budget.generation_deadline
        for i, loc in enumerate(locs):
            # Out of generation time (a model can be slow): queue nothing more, but what is queued goes out.
            out_of_time = time.monotonic() > stop_at
            src = None if out_of_time else self._source_of(ctx, loc.path, sources)
            if src is not None:
                stmt = statement_at(src.tree, loc.line)
                if stmt is not None and (loc.path, stmt.start_byte) not in seen_stmts:
                    seen_stmts.add((loc.path, stmt.start_byte))
                    site = Site(src, loc.path, stmt)
                    for prop in site_proposals(site, rules, holes=self.holes, predictors=predictors):
                        weight = weights.get(prop.rule, 1.0)
                        heapq.heappush(heap, (-loc.score * prop.score * weight, seq, prop))
                        seq += 1
            last = out_of_time or i + 1 == len(locs)
            bound = -math.inf if last else locs[i + 1].score * top_prior
            while heap and -heap[0][0] >= bound:
                score, _, prop = heapq.heappop(heap)
                cand = self._gate(prop, -score, sources, seen_keys)
                if cand is not None:
                    yield cand
                    emitted += 1
                    if emitted >= ctx.limit:
                        return
            if out_of_time:
                return

    def _history(self, ctx: GenerationContext, rules: Sequence[Rule]) -> Mapping[str, float]:
        """The project's own past fixes raise the rules that made them (once per HEAD, in bounded time)."""
        from repairbot.generate.history import history_priors

        left = ctx.budget.generation_deadline - time.monotonic()
        left = 60.0 if math.isinf(left) else left
        found = history_priors(ctx.job.root, rules, seconds=max(0.5, min(HISTORY_SECONDS, 0.2 * left)))
        if found.note:
            log.info("%s", found.note)
        return found.weights

    def _source_of(self, ctx: GenerationContext, path: str, cache: dict[str, Source | None]) -> Source | None:
        return cache[path] if path in cache else self._source(ctx, path, cache)

    def _source(self, ctx: GenerationContext, path: str, cache: dict[str, Source | None]) -> Source | None:
        try:
            data = ctx.snapshot.read(path)
        except OSError:
            cache[path] = None
            return None
        cache[path] = Source.of(data)
        return cache[path]

    def _gate(
        self,
        prop: Proposal,
        score: float,
        sources: dict[str, Source | None],
        seen: set[tuple[str, tuple[object, ...]]],
    ) -> Candidate | None:
        src = sources[prop.path]
        assert src is not None
        new = src.data[: prop.start] + prop.text + src.data[prop.end :]
        if new == src.data or not syntax_ok(new):
            return None
        lo = src.data.rfind(b"\n", 0, prop.start) + 1
        hi_old = src.data.find(b"\n", prop.end)
        hi_old = len(src.data) if hi_old < 0 else hi_old
        hi_new = hi_old + len(prop.text) - (prop.end - prop.start)
        if _IDENTITY_OP.search(new[lo:hi_new]) and not _IDENTITY_OP.search(src.data[lo:hi_old]):
            return None  # `x * 1` and `1 * x` are `x`: the rule that removes the term says it plainly
        # Only the top-level statements around the edit can differ: dump those, not the whole module.
        first = src.data.count(b"\n", 0, prop.start) + 1
        last = first + prop.text.count(b"\n") + src.data.count(b"\n", prop.start, prop.end)
        key = region_key(new, first, last)
        span = (prop.path, first, first + src.data.count(b"\n", prop.start, prop.end))
        if span not in self._base_keys:
            self._base_keys[span] = region_key(src.data, span[1], span[2])
        base = self._base_keys[span]
        if key is None or key == base or (prop.path, key) in seen:
            return None
        seen.add((prop.path, key))
        if _drops_recursion(src, prop):
            score *= RECURSION_DROP_PENALTY
        return Candidate(
            edits=(Edit(prop.path, prop.start, prop.end, prop.text),),
            generator="mask" if self.holes else "rules",
            rule=prop.rule,
            score=score,
            description=prop.description,
            line=prop.line,
        )


_IDENTITY_OP = re.compile(
    rb"(?:\*\*?|//?)\s*1(?![\w.])|[-+]\s*0(?![\w.])|(?<![\w.])1\s*\*(?!\*)|(?<![\w.)\]])0\s*\+"
)

# A patch that deletes the last recursive call of a recursive function passes weak tests by doing less work;
# it is a known overfitting anti-pattern, so such candidates go to the back (not away).
RECURSION_DROP_PENALTY = 0.3


def _drops_recursion(src: Source, prop: Proposal) -> bool:
    node = src.tree.root_node.descendant_for_byte_range(prop.start, max(prop.start, prop.end - 1))
    func = enclosing_function(node) if node is not None else None
    name_node = func.child_by_field_name("name") if func is not None else None
    if func is None or name_node is None:
        return False
    call = src.data[name_node.start_byte : name_node.end_byte] + b"("
    before = src.data[func.start_byte : func.end_byte]
    after = src.data[func.start_byte : prop.start] + prop.text + src.data[prop.end : func.end_byte]
    return before.count(call) > 1 and after.count(call) == 1  # the def line itself holds one


class RulesGenerator(_PatternGenerator):
    """Candidates from the hole-free templates of the rules."""

    name = "rules"
    holes = False


class MaskGenerator(_PatternGenerator):
    """Candidates from templates with holes, filled by the context's predictors (donors by default)."""

    name = "mask"
    holes = True

    def predictors(self, ctx: GenerationContext) -> Sequence[Predictor]:
        return ctx.predictors or (DonorPredictor(),)


def apply_candidate(data: bytes, cand: Candidate) -> bytes:
    """The file bytes with a single-file candidate's edits applied (edits must not overlap)."""
    for e in sorted(cand.edits, key=lambda e: -e.start):
        data = data[: e.start] + e.text + data[e.end :]
    return data


__all__ = [
    "HoleSlot",
    "MaskGenerator",
    "Proposal",
    "RulesGenerator",
    "apply_candidate",
    "merge_fills",
    "site_proposals",
]
