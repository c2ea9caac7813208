"""Orderings, symptom weights and priors come from the fix corpus (rules/learned.json), not from constants."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from repairbot.generate import learned as learned_mod
from repairbot.generate.donors import donor_pool
from repairbot.generate.learned import literal_alternative_key, literal_kind
from repairbot.generate.patterns import default_rules_dir, load_rules, operator_alternatives
from repairbot.parsing.scope import scope_facts
from repairbot.parsing.tree import Source, statement_at

SHIPPED = default_rules_dir().parent / "learned.json"


def test_shipped_data_says_where_it_comes_from_and_agrees_with_the_rule_files() -> None:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    prov = data["provenance"]
    assert prov["script_version"] and prov["corpus_commits"] >= 1000 and prov["corpus_projects"] >= 50
    rules = load_rules()
    assert {r.id: r.prior for r in rules} == pytest.approx(data["priors"])
    assert set(data["produce_rate"]) == {r.id for r in rules}


@pytest.fixture
def custom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rules = tmp_path / "rules" / "python"
    rules.mkdir(parents=True)
    for name in ("comparison-operator.yml", "comparison-operator.py", "comparison-operator.fixed.py"):
        shutil.copy(default_rules_dir() / name, rules / name)
    monkeypatch.setenv("REPAIRBOT_RULES", str(rules))
    learned_mod._load.cache_clear()
    learned_mod._path_for.cache_clear()
    yield tmp_path / "rules" / "learned.json"
    learned_mod._load.cache_clear()
    learned_mod._path_for.cache_clear()


def test_operator_alternatives_follow_the_counts(custom: Path) -> None:
    custom.write_text(json.dumps({"operators": {"<": {">=": 5, "!=": 2}, "==": {"in": 9}}}))
    assert operator_alternatives("<")[:2] == (">=", "!=")
    custom.write_text(json.dumps({"operators": {"<": {"==": 5}}}))
    learned_mod._load.cache_clear()
    assert operator_alternatives("<")[0] == "=="


def test_without_the_file_the_template_order_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing file is a logged, degraded mode: alternatives keep the order the templates list."""
    empty = learned_mod._load(str(tmp_path / "learned.json"))
    assert empty.operators == {} and empty.symptoms == {}
    assert "no learned orderings" in caplog.text
    monkeypatch.setattr(learned_mod, "learned", lambda: empty)
    assert operator_alternatives("<")[0] == "<="  # the first listed confusion


def test_guard_forms_follow_the_counts(custom: Path) -> None:
    code = b"def f(node):\n    if node.ok:\n        return node\n"
    src = Source.of(code)
    stmt = statement_at(src.tree, 2)
    assert stmt is not None
    facts = scope_facts(src, stmt)
    custom.write_text(json.dumps({"guards": {"X is None": 7, "not X": 3}}))
    assert donor_pool("cond", facts, "node.ok")[:2] == ("node is None", "not node")
    custom.write_text(json.dumps({"guards": {"X": 9}}))
    learned_mod._load.cache_clear()
    assert donor_pool("cond", facts, "node.ok")[0] == "node"


def test_literal_substitutions_are_keyed_the_way_alternatives_are_listed() -> None:
    assert literal_kind("3") == "int" and literal_kind("[]") == "[]" and literal_kind("'a'") == "str"
    assert literal_alternative_key("3", "4") == "+1"
    assert literal_alternative_key("3", "2") == "-1"
    assert literal_alternative_key("3", "0") == "0"
    assert literal_alternative_key("3", "-3") == "neg"
    assert literal_alternative_key("3", "17") == "other"
    assert literal_alternative_key("[]", "None") == "None"
    assert literal_alternative_key("'x'", "''") == '""'
    assert literal_kind("foo") is None and literal_alternative_key("foo", "bar") is None


def test_symptoms_of_the_failing_tests_weigh_on_rule_priors(custom: Path) -> None:
    """Family weights per symptom come from the learned file; a rule's own `symptoms` add to them."""
    from repairbot.generate.rules import rule_weights
    from repairbot.models import TestOutcome

    custom.write_text(json.dumps({"symptoms": {"recursion": {"mutate-operator": 1.4, "_fixes": 12}}}))
    rule = load_rules()[0]
    assert rule.family == "mutate-operator"
    own = dataclasses.replace(rule, id="own", symptoms={"recursion": 1.5})
    recursion = TestOutcome("t.py::test_a", "failed", "RecursionError: maximum recursion depth exceeded")
    wrong = TestOutcome("t.py::test_b", "failed", "assert 3 == 4")
    assert rule_weights([rule], [wrong])[rule.id] == 1.0
    assert rule_weights([rule], [recursion])[rule.id] == pytest.approx(1.4)
    assert rule_weights([rule], [recursion, wrong])[rule.id] == pytest.approx(1.2)  # by share
    assert rule_weights([own], [recursion])["own"] == pytest.approx(1.9)  # the family's and its own
