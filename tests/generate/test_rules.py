"""Every rule in rules/python fires on its example and one candidate yields exactly its `.fixed.py`."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from tree_sitter import QueryCursor

from repairbot.generate.fixmatch import proposals_at
from repairbot.generate.patterns import Rule, default_rules_dir, load_rules
from repairbot.generate.rules import MaskGenerator, RulesGenerator
from repairbot.models import GenerationContext, Job, Location, Snapshot
from repairbot.parsing.tree import Source, parse, query, syntax_ok

RULES = load_rules()
RULE_IDS = [r.id for r in RULES]


def _context(root: Path, name: str, data: bytes) -> GenerationContext:
    lines = data.count(b"\n") + 1
    locs = tuple(Location(name, line, 1.0) for line in range(1, lines + 1))
    return GenerationContext(
        job=Job(root=root),
        snapshot=Snapshot(root, {name: data}),
        locations=locs,
        source_files=(name,),
        test_files=(),
        failing=(),
        limit=100_000,
    )


def test_rules_are_found() -> None:
    assert len(RULES) >= 30
    for r in RULES:
        assert (default_rules_dir() / f"{r.id}.py").is_file(), r.id
        assert (default_rules_dir() / f"{r.id}.fixed.py").is_file(), r.id


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_example(rule_id: str, tmp_path: Path) -> None:
    rule = next(r for r in RULES if r.id == rule_id)
    before = (default_rules_dir() / f"{rule_id}.py").read_bytes()
    expected = (default_rules_dir() / f"{rule_id}.fixed.py").read_bytes()
    assert syntax_ok(before) and syntax_ok(expected)
    ctx = _context(tmp_path, "example.py", before)
    outputs: list[bytes] = []
    for gen in (RulesGenerator([rule]), MaskGenerator([rule])):
        for cand in gen.generate(ctx):
            assert cand.rule == rule_id
            assert len(cand.edits) == 1
            e = cand.edits[0]
            after = before[: e.start] + e.text + before[e.end :]
            assert not parse(after).root_node.has_error, cand.description
            assert 0.0 < cand.score <= 1.0
            assert cand.description
            outputs.append(after)
    assert outputs, f"rule {rule_id} did not fire on its example"
    assert expected in outputs, (
        f"no candidate of {rule_id} equals {rule_id}.fixed.py ({len(outputs)} candidates)"
    )


CATALOGUES = ("TBar:", "TSSB-3M:", "PySStuBs:", "Getafix:")
COMMIT_REF = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{7,40}$")


def _corpus_commits() -> set[str]:
    path = default_rules_dir().parents[1] / "bench" / "fixcorpus" / "corpus.jsonl"
    if not path.is_file():
        return set()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {f"{r['repo']}@{r['sha'][:n]}" for r in rows for n in (7, 8, 10, 12, 40)}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_names_its_source(rule_id: str) -> None:
    """A published catalogue pattern, or real fix commits of the fix corpus that it makes."""
    rule = next(r for r in RULES if r.id == rule_id)
    assert rule.source, f"{rule_id}: no `source`"
    commits = _corpus_commits()
    for item in rule.source:
        if COMMIT_REF.match(item):
            assert not commits or item in commits, f"{rule_id}: {item} is not a commit of the fix corpus"
        else:
            assert item.startswith(CATALOGUES), (
                f"{rule_id}: source {item!r} is neither a catalogue nor a commit"
            )


def _fired_on_negatives(rule: Rule) -> list[str]:
    """What `rule` proposes anywhere in its negative examples (each must parse)."""
    fired = []
    for i, code in enumerate(rule.negative_examples()):
        data = code.encode()
        assert syntax_ok(data), f"{rule.id}: negative example {i} does not parse"
        props = proposals_at(Source.of(data), "negative.py", range(1, data.count(b"\n") + 2), [rule])
        fired += [f"example {i}: {p.description}" for p in props]
    return fired


def _check_negatives(rule: Rule) -> None:
    assert rule.negative_examples(), f"{rule.id}: no negative example ({rule.id}.negative.py or `negatives`)"
    fired = _fired_on_negatives(rule)
    assert not fired, f"{rule.id} fires on its negative examples: {fired[:3]}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_does_not_fire_on_its_negative_examples(rule_id: str) -> None:
    """Code the rule must leave alone: not one candidate of it anywhere in its negative examples."""
    _check_negatives(next(r for r in RULES if r.id == rule_id))


# Rules that propose something at every match of their query (operator and literal mutations, removals,
# statement insertions: donors are always at hand): their negative examples hold code of a neighbouring kind
# that the query must not take (`/` for a comparison, a method call for a callee).
QUERY_DECIDES = {
    "augmented-operator", "augmented-to-assignment", "binary-operator", "boolean-literal", "boolean-operator",
    "callee-donor", "comparison-operator", "insert-statement-after", "insert-statement-before",
    "insert-statement-in-body", "integer-literal", "negate-condition", "none-literal",
    "remove-exit-statement", "remove-statement", "remove-subcondition", "return-value", "slice-bound",
    "swap-conditional-branches", "swap-pair",
}  # fmt: skip


def _query_matches(rule: Rule, code: str) -> int:
    return len(QueryCursor(query(rule.query)).matches(Source.of(code.encode()).tree.root_node))


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_negative_examples_are_near_misses(rule_id: str) -> None:
    """The other rules' negatives are code their query matches, where their constraints or their template
    functions (no known pair, no donor) keep them silent, and with their constraints dropped they fire there:
    the check above fails a rule whose constraints stop doing their work."""
    rule = next(r for r in RULES if r.id == rule_id)
    matches = sum(_query_matches(rule, code) for code in rule.negative_examples())
    if rule_id in QUERY_DECIDES:
        assert not matches, f"{rule_id}: its query matches a negative: take it out of QUERY_DECIDES"
        return
    assert matches, f"{rule_id}: its negatives are not near misses (its query matches nowhere in them)"
    if rule.constraints:
        loose = dataclasses.replace(rule, constraints={}, path=None, negatives=rule.negative_examples())
        assert _fired_on_negatives(loose), f"{rule_id}: its constraints decide nothing in its negatives"


def test_a_rule_that_fires_on_its_negative_fails_the_check() -> None:
    """The negative check can fail: a rule whose negative is its own positive example, or whose constraints
    are gone."""
    rule = next(r for r in RULES if r.id == "swap-comparison-operands")
    positive = (default_rules_dir() / "swap-comparison-operands.py").read_text(encoding="utf-8")
    with pytest.raises(AssertionError, match="fires on its negative examples"):
        _check_negatives(dataclasses.replace(rule, path=None, negatives=(positive,)))
    unconstrained = dataclasses.replace(rule, constraints={})  # chains such as `lo <= x <= hi` are taken
    with pytest.raises(AssertionError, match="fires on its negative examples"):
        _check_negatives(unconstrained)


def test_no_candidate_adds_an_identity_operation(tmp_path: Path) -> None:
    """`1 * x`, `x * 1` and `0 + x` are `x`: dropping the term is its own candidate."""
    data = b"def f(a, b):\n    return 1 + g(a, b)\n\n\ndef g(a, b):\n    return a - b\n"
    ctx = _context(tmp_path, "m.py", data)
    results = []
    for gen in (RulesGenerator(), MaskGenerator()):
        for c in gen.generate(ctx):
            e = c.edits[0]
            results.append((data[: e.start] + e.text + data[e.end :]).decode())
    assert any("    return g(a, b)\n" in r for r in results)
    for bad in ("1 * g(a, b)", "0 + g(a, b)", "a * 1", "b * 1", "a - b * 1"):
        assert not any(bad in r for r in results), bad
