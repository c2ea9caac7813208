from __future__ import annotations

from repairbot.generate.donors import DonorPredictor, donor_pool, pairs, value_names
from repairbot.models import Hole
from repairbot.parsing import ScopeFacts, Source, scope_facts, statement_at

CODE = b"""LIMIT = 3


def search(graph, start, goal):
    seen = set()
    stack = [start]
    steps = 0
    while True:
        node = stack.pop()
        steps += 1
        if node == goal:
            return steps
        for nxt in graph[node]:
            if nxt not in seen:
                stack.append(nxt)
    return -1
"""


def _facts(line: int) -> ScopeFacts:
    src = Source.of(CODE)
    st = statement_at(src.tree, line)
    assert st is not None
    return scope_facts(src, st)


def test_names_rank_by_scope_then_kind_then_frequency() -> None:
    facts = _facts(15)
    ranked = [n.name for n in value_names(facts, "steps")]
    assert ranked.index("LIMIT") > ranked.index("seen")  # module after function
    assert "steps" not in ranked  # never the replaced name itself
    assert "search" not in ranked  # functions are not values
    pool = donor_pool("name", facts, "steps")
    assert pool[0] in ("node", "start", "goal", "nxt")  # a compatible local first (number-like or compared)


def test_condition_donors_prefer_collections_and_never_later_loop_vars() -> None:
    pool = donor_pool("cond", _facts(8), "True")
    assert pool[0] in ("seen", "stack")  # a collection first (the forms' order is learned)
    assert "not stack" in pool
    assert pool.index("stack") < pool.index("nxt")
    assert "node is not None" in pool


def test_statement_donors_start_with_collection_updates() -> None:
    pool = donor_pool("stmt", _facts(15), "", in_loop=True)
    assert pool[0].startswith(("seen.add(", "stack.append("))  # the nearest collection's updates first
    assert "seen.add(nxt)" in pool[:8] and "stack.append(nxt)" in pool[:8]
    assert "break" in pool and "stack.append(nxt)" in pool
    assert "break" not in donor_pool("stmt", _facts(5), "", in_loop=False)


def test_other_pools() -> None:
    facts = _facts(15)
    assert donor_pool("callable", facts, "min")[0] == "max"
    assert "append" in donor_pool("attr", facts, "pop")
    lits = donor_pool("literal", facts, "0")
    assert "0" not in lits and "1" in lits and "-1" in lits
    assert donor_pool("op", facts, "<")[0] == "<="
    assert pairs("any") == ("all",)


def test_donor_predictor_scores_by_position() -> None:
    holes = [Hole("name", "a = ", "", ("x", "y", "z")), Hole("op", "", "", ())]
    ranked = DonorPredictor().rank(holes, 2)
    assert [t for t, _ in ranked[0]] == ["x", "y"]
    assert ranked[0][0][1] == 1.0 and 0 < ranked[0][1][1] < 1.0
    assert ranked[1] == []


def test_names_compared_with_the_replaced_one_come_first() -> None:
    src = Source.of(
        b"def pick(items, k):\n    low = len(items) // 3\n    high = len(items) - low\n    total = 0\n"
        b"    if k >= high:\n        return pick(items[1:], k)\n    return total\n"
    )
    st = statement_at(src.tree, 6)
    assert st is not None
    facts = scope_facts(src, st)
    assert facts.partners["k"] == ("high",)
    assert value_names(facts, "k")[0].name == "high"
    assert donor_pool("name", facts, "k")[0] == "high"
