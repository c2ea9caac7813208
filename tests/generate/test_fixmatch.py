"""The fix matcher (rule coverage on the fix corpus) finds each rule's own example fix, and only real
matches."""

from __future__ import annotations

import pytest

from repairbot.generate.fixmatch import Expected, match_fix, token_key
from repairbot.generate.fixmine import apply_hunks, diff_hunks
from repairbot.generate.patterns import default_rules_dir, load_rules

RULES = load_rules()


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_each_rule_produces_its_own_example_fix(rule_id: str) -> None:
    before = (default_rules_dir() / f"{rule_id}.py").read_bytes()
    after = (default_rules_dir() / f"{rule_id}.fixed.py").read_bytes()
    hunks = diff_hunks(before, after)
    assert apply_hunks(before, after, hunks) == after
    result = match_fix(before, after, hunks, RULES, f"{rule_id}.py")
    assert rule_id in result.producers, (rule_id, result.producers)
    assert result.produced()


def test_a_fix_no_rule_makes_is_not_produced() -> None:
    before = b"def f(xs):\n    return sum(xs)\n"
    after = b"def f(xs):\n    return sum(x.weight for x in xs if x.active)\n"
    result = match_fix(before, after, diff_hunks(before, after), RULES)
    assert not result.produced() and result.producers == []
    assert result.whole.rules  # rules fired there, none made it


def test_comparison_ignores_layout_comments_and_parentheses_but_not_code() -> None:
    buggy = b"def f(a, b):\n    return a < b  # compare\n"
    exp = Expected(buggy, b"def f(a, b):\n    # the bound is inclusive\n    return (a <= b)\n")
    start = buggy.index(b"a < b")
    assert exp.equals(start, start + 5, b"a <=  b")
    assert not exp.equals(start, start + 5, b"a >= b")
    assert not exp.equals(start, start + 5, b"b <= a")
    assert token_key(b"x = 'a'  # c\n") == token_key(b'x = ("a")\n')
    assert token_key(b"x = 'a'") != token_key(b"x = 'b'")
    assert not exp.equals(start, start + 5, b"a < b  # a <= b")
