from __future__ import annotations

from repairbot.parsing import ScopeFacts, Source, scope_facts, statement_at

CODE = b"""from collections import deque
import os.path as osp

LIMIT = 10


def helper(x):
    return x


def walk(graph, start, *rest, flag=False, **opts):
    seen = set()
    queue = deque([start])
    order = []
    count = 0
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        squares = [v * v for v in graph[node]]
        count += len(squares)
        with open(osp.join("a", "b")) as fh:
            fh.read()
        for i, nxt in enumerate(graph[node]):
            order.append(nxt)

    def inner():
        return count

    return order
"""


def _facts(line: int) -> ScopeFacts:
    src = Source.of(CODE)
    st = statement_at(src.tree, line)
    assert st is not None
    return scope_facts(src, st)


def test_kinds_distances_and_hints() -> None:
    facts = _facts(25)  # order.append(nxt)
    names = {n.name: n for n in facts.names}
    for p in ("graph", "start", "rest", "flag", "opts"):
        assert names[p].kind == "param" and names[p].distance == 0
    assert names["seen"].kind == "local" and {"set", "container", "member"} <= names["seen"].types
    assert "deque" in names["queue"].types
    assert "list" in names["order"].types
    assert "number" in names["count"].types
    assert names["flag"].types >= {"bool"}
    assert names["nxt"].kind == "loopvar" and names["i"].kind == "loopvar"
    assert names["fh"].kind == "local"  # with-target
    assert names["LIMIT"].kind == "global" and names["LIMIT"].distance == 1
    assert names["helper"].kind == "function" and "callable" in names["helper"].types
    assert names["deque"].kind == "import" and names["osp"].kind == "import"
    assert names["inner"].kind == "function"
    assert "v" not in names  # a comprehension variable is not visible outside it
    # nearest scope first
    assert facts.names[0].distance == 0
    assert "x" not in names  # helper's parameter


def test_comprehension_and_closure_scopes() -> None:
    src = Source.of(CODE)
    st = statement_at(src.tree, 20)
    assert st is not None
    comp = next(n for n in st.named_children[0].named_children if n.type == "list_comprehension")
    inside = scope_facts(src, comp.named_children[0])
    assert any(n.name == "v" and n.kind == "loopvar" for n in inside.names)
    closure = _facts(28)  # return count, inside inner()
    names = {n.name: n for n in closure.names}
    assert names["count"].distance == 1 and names["LIMIT"].distance == 2


def test_module_vocabulary() -> None:
    facts = _facts(25)
    assert {"popleft", "append", "join", "read"} <= set(facts.attributes)
    assert {"set", "deque", "len", "enumerate", "append"} <= set(facts.callables)
    assert {"False", "10", '"a"'} <= set(facts.literals)
    assert "order.append(nxt)" in facts.statements
    assert facts.statements.index("seen = set()") < facts.statements.index("LIMIT = 10")  # function first
