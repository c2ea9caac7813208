"""The fix-pattern engine itself: loading, captures, constraints, template functions, holes, placement."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from repairbot.errors import BadInput, EnvironmentProblem
from repairbot.generate.operators import operator_alternatives
from repairbot.generate.patterns import Rule, Site, load_rule, load_rules, matches_at
from repairbot.generate.rules import MaskGenerator, RulesGenerator, site_proposals
from repairbot.models import Candidate, GenerationContext, Hole, Job, Location, Snapshot
from repairbot.parsing import Source, statement_at, syntax_ok
from repairbot.plugins import generator_names, load_generator

ALL = {r.id: r for r in load_rules()}


BASE = "family: mutate-operator\nmessage: m\nquery: (integer) @x\n"


def _write_rule(tmp_path: Path, rule_id: str, body: str) -> Path:
    p = tmp_path / f"{rule_id}.yml"
    p.write_text(f"id: {rule_id}\n" + body, encoding="utf-8")
    return p


def _outputs(code: bytes, line: int, rules: Sequence[Rule], *, holes: bool = False) -> list[bytes]:
    src = Source.of(code)
    st = statement_at(src.tree, line)
    assert st is not None
    props = site_proposals(Site(src, "m.py", st), rules, holes=holes)
    return [code[: p.start] + p.text + code[p.end :] for p in props]


def _ctx(
    files: dict[str, bytes], locs: Sequence[Location], *, limit: int = 1000, tests: Sequence[str] = ()
) -> GenerationContext:
    return GenerationContext(
        job=Job(root=Path("/nonexistent")),
        snapshot=Snapshot(Path("/nonexistent"), files),
        locations=tuple(locs),
        source_files=tuple(f for f in files if f not in tests),
        test_files=tuple(tests),
        failing=(),
        limit=limit,
    )


def _apply(data: bytes, cand: Candidate) -> bytes:
    e = cand.edits[0]
    return data[: e.start] + e.text + data[e.end :]


# ------------------------------------------------------------------------------------------ loading


def test_malformed_rules_name_the_file(tmp_path: Path) -> None:
    bad_yaml = _write_rule(tmp_path, "bad-yaml", "query: (a: b: c\n  - x\n")
    with pytest.raises(BadInput, match=r"bad-yaml\.yml"):
        load_rule(bad_yaml)
    no_prior = _write_rule(tmp_path, "no-prior", BASE + "target: x\nfix: $x\n")
    with pytest.raises(BadInput, match=r"no-prior\.yml.*prior"):
        load_rule(no_prior)
    unknown = _write_rule(
        tmp_path,
        "unknown-cap",
        BASE + "target: y\nfix: $x\nprior: 0.5\n",
    )
    with pytest.raises(BadInput, match="unknown capture"):
        load_rule(unknown)
    bad_query = _write_rule(
        tmp_path,
        "bad-query",
        BASE.replace("integer", "no_such_node") + "target: x\nfix: $x\nprior: 0.5\n",
    )
    with pytest.raises(BadInput, match="query does not compile"):
        load_rule(bad_query)
    bad_fn = _write_rule(
        tmp_path,
        "bad-fn",
        BASE + "target: x\nfix: ${nope($x)}\nprior: 0.5\n",
    )
    with pytest.raises(BadInput, match="unknown template function"):
        load_rule(bad_fn)
    bad_constraint = _write_rule(
        tmp_path,
        "bad-constraint",
        BASE + "target: x\nfix: $x\nprior: 0.5\nconstraints:\n  x: {colour: red}\n",
    )
    with pytest.raises(BadInput, match=r"bad-constraint\.yml: constraints/x"):
        load_rule(bad_constraint)
    with pytest.raises(EnvironmentProblem, match="does not exist"):
        load_rules(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EnvironmentProblem, match="holds no rule"):
        load_rules(tmp_path / "empty")


def test_every_family_of_the_issue_is_covered() -> None:
    families = {r.family for r in ALL.values()}
    assert {
        "mutate-operator",
        "mutate-literal",
        "mutate-variable",
        "mutate-attribute",
        "mutate-method-invocation",
        "mutate-return-stmt",
        "mutate-conditional-expression",
        "insert-null-check",
        "mutate-index-bound",
        "mutate-range-bound",
        "mutate-arithmetic",
        "remove-arithmetic-term",
        "swap-operands",
        "wrap-expression",
        "insert-missing-statement",
        "remove-statement",
        "move-statement",
    } <= families


# ---------------------------------------------------------------------------- captures and constraints


def test_target_must_lie_in_the_statement_header() -> None:
    code = b"if a < b:\n    x = c < d\n"
    outs = _outputs(code, 1, [ALL["comparison-operator"]])
    assert b"if a <= b:\n    x = c < d\n" in outs
    assert all(o.endswith(b"x = c < d\n") for o in outs)  # the body is another location's business


def test_constraints_filter_matches() -> None:
    code = b"def f(xs, n):\n    return g(xs, key=n)\n"
    # mutate-variable: `g` is a callee (field function) and `key` a keyword name: neither is a candidate
    src = Source.of(code)
    st = statement_at(src.tree, 2)
    assert st is not None
    site = Site(src, "m.py", st)
    targets = {src.text(m.target) for m in matches_at(src, st, [ALL["mutate-variable"]], site.facts)}
    assert targets == {"xs", "n"}
    # range-bound only fires inside range()
    assert _outputs(b"x = g(1, n)\n", 1, [ALL["range-bound"]]) == []
    assert b"x = range(1, n + 1)\n" in _outputs(b"x = range(1, n)\n", 1, [ALL["range-bound"]])


def test_operator_alternatives_follow_the_fix_corpus() -> None:
    from repairbot.generate.learned import learned

    for op, seen in learned().operators.items():
        alts = operator_alternatives(op)
        best = max((a for a in alts if a in seen), key=lambda a: seen[a], default=None)
        assert best is None or alts[0] == best or seen[alts[0]] == seen[best], op
    assert set(operator_alternatives("is not")) == {"is", "!="}
    assert operator_alternatives("not  in") == ("in",)
    assert operator_alternatives("and") == ("or",)
    assert operator_alternatives("@@") == ()


def test_template_functions() -> None:
    neg = _outputs(b"if not (a and b):\n    pass\n", 1, [ALL["negate-condition"]])
    assert b"if a and b:\n    pass\n" in neg
    flip = _outputs(b"while x >= 0:\n    pass\n", 1, [ALL["negate-condition"]])
    assert b"while x < 0:\n    pass\n" in flip
    plus = _outputs(b"y = a[i - 1]\n", 1, [ALL["subscript-index"]])
    assert b"y = a[i]\n" in plus and b"y = a[i - 2]\n" in plus  # folds constants instead of `i - 1 + 1`
    prec = _outputs(b"y = a * b\n", 1, [ALL["expression-off-by-one"]])
    assert b"y = a * (b - 1)\n" in prec and prec.count(b"y = a * b - 1\n") == 1  # only from `a * b` ± 1
    lits = _outputs(b"x = 0\n", 1, [ALL["integer-literal"]])
    assert lits[:2] == [b"x = 1\n", b"x = -1\n"]
    swaps = _outputs(b"f(a, b, c=1)\n", 1, [ALL["swap-arguments"]])
    assert swaps == [b"f(b, a, c=1)\n"]
    grouped = _outputs(b"while a or b:\n    pass\n", 1, [ALL["add-condition"]], holes=True)
    assert all(b"(a or b) and" in o or b"and (a or b)" in o or b"(a or b) or" in o for o in grouped)


def test_every_output_of_every_rule_on_a_mixed_file_passes_the_gate() -> None:
    code = MIXED
    ctx = _ctx(
        {"m.py": code}, [Location("m.py", i, 1.0) for i in range(1, code.count(b"\n") + 2)], limit=100_000
    )
    n = 0
    for gen in (RulesGenerator(), MaskGenerator()):
        for cand in gen.generate(ctx):
            assert syntax_ok(_apply(code, cand)), cand.description
            n += 1
    assert n > 500


MIXED = b"""import math


class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)


def solve(grid, start, limit=3):
    seen = set()
    best = 0
    todo = [start]
    while todo:
        r, c = todo.pop()
        if (r, c) in seen or r < 0:
            continue
        seen.add((r, c))
        best = max(best, grid[r][c] - 1)
        for dr, dc in ((0, 1), (1, 0)):
            if r + dr < len(grid) and not grid[r][c] is None:
                todo.append((r + dr, c + dc))
    return best if best > limit else -math.inf
"""


# ------------------------------------------------------------------------------- holes and predictors


class _Fixed:
    """A predictor that always proposes one fill, to check holes carry their context."""

    name = "fixed"

    def __init__(self, fill: str) -> None:
        self.fill = fill
        self.seen: list[Hole] = []

    def rank(self, holes: Sequence[Hole], limit: int) -> list[list[tuple[str, float]]]:
        self.seen.extend(holes)
        return [[(self.fill, -0.1)] for _ in holes]


def test_holes_carry_the_enclosing_function_and_predictor_fills_are_used() -> None:
    code = b"x = 1\n\n\ndef f(a, b):\n    c = a\n    return c\n"
    pred = _Fixed("b")
    ctx = GenerationContext(
        job=Job(root=Path("/nonexistent")),
        snapshot=Snapshot(Path("/nonexistent"), {"m.py": code}),
        locations=(Location("m.py", 5, 1.0),),
        source_files=("m.py",),
        test_files=(),
        failing=(),
        limit=1000,
        predictors=(pred,),
    )
    outs = {_apply(code, c) for c in MaskGenerator([ALL["mutate-variable"]]).generate(ctx)}
    assert b"x = 1\n\n\ndef f(a, b):\n    c = b\n    return c\n" in outs
    hole = next(h for h in pred.seen if h.kind == "name" and h.prefix.endswith("c = "))
    assert hole.prefix == "def f(a, b):\n    c = "
    assert hole.suffix == "\n    return c"
    assert "b" in hole.donors and "a" not in hole.donors  # the replaced name itself is no donor


def test_predictor_fills_are_merged_best_score_wins() -> None:
    from repairbot.generate.donors import DonorPredictor
    from repairbot.generate.rules import merge_fills

    holes = [Hole("name", "", "", ("a", "b", "c"))]
    merged = merge_fills([DonorPredictor(), _Fixed("c")], holes, 10)
    texts = [t for t, _ in merged[0]]
    assert sorted(texts) == ["a", "b", "c"]
    score = dict(merged[0])
    assert score["c"] > score["b"]  # exp(-0.1) from the second predictor beats its donor rank


# ---------------------------------------------------------------------- placement: CRLF, tabs, latin-1


def _insertions(code: bytes, line: int, rule_id: str) -> list[bytes]:
    ctx = _ctx({"m.py": code}, [Location("m.py", line, 1.0)], limit=10_000)
    return [_apply(code, c) for c in MaskGenerator([ALL[rule_id]]).generate(ctx)]


def test_insertion_reuses_crlf_and_indentation() -> None:
    code = b"def f(seen, x):\r\n    if x in seen:\r\n        return\r\n    g(x)\r\n"
    outs = _insertions(code, 4, "insert-statement-before")
    assert (
        b"def f(seen, x):\r\n    if x in seen:\r\n        return\r\n    seen.add(x)\r\n    g(x)\r\n" in outs
    )
    after = _insertions(code, 4, "insert-statement-after")
    assert (
        b"def f(seen, x):\r\n    if x in seen:\r\n        return\r\n    g(x)\r\n    seen.add(x)\r\n" in after
    )


def test_insertion_with_tabs_and_no_final_newline() -> None:
    code = b"def f(seen, x):\n\tassert x not in seen\n\tg(x)"
    outs = _insertions(code, 3, "insert-statement-after")
    assert code + b"\n\tseen.add(x)" in outs
    body = _insertions(b"def f(seen, x):\n\tif x not in seen:\n\t\tg(x)\n", 2, "insert-statement-in-body")
    assert b"def f(seen, x):\n\tif x not in seen:\n\t\tseen.add(x)\n\t\tg(x)\n" in body


def test_removal_and_move_keep_the_block_valid() -> None:
    code = b"def f(a):\r\n    if a:\r\n        g(a)\r\n    h(a)\r\n"
    removed = _outputs(code, 3, [ALL["remove-statement"]])
    assert removed == [b"def f(a):\r\n    if a:\r\n        pass\r\n    h(a)\r\n"]
    removed = _outputs(code, 4, [ALL["remove-statement"]])
    assert removed == [b"def f(a):\r\n    if a:\r\n        g(a)\r\n"]
    moved = _outputs(b"def f(a):\n\tb = 1\n\tg(b)\n", 2, [ALL["move-statement"]])
    assert moved == [b"def f(a):\n\tg(b)\n\tb = 1\n"]


def test_latin1_file_round_trips() -> None:
    code = "# -*- coding: latin-1 -*-\ndef f(n):\n    s = 'd\xe9j\xe0'\n    return n < 1\n".encode("latin-1")
    ctx = _ctx({"m.py": code}, [Location("m.py", 4, 1.0), Location("m.py", 3, 0.5)])
    cands = list(RulesGenerator().generate(ctx))
    outs = [_apply(code, c) for c in cands]
    assert code.replace(b"n < 1", b"n <= 1") in outs
    lit = code.index(b"d\xe9j\xe0")
    for cand, out in zip(cands, outs, strict=True):
        e = cand.edits[0]
        if not e.start <= lit < e.end:
            assert b"d\xe9j\xe0" in out  # bytes outside the edit stay as they were


# ---------------------------------------------------------------------------------- generator contract


def test_generator_order_limit_and_test_files() -> None:
    code = b"def f(a, b):\n    x = a + b\n    return x < 3\n"
    test = b"def test_f():\n    assert f(1, 2) == 3\n"
    locs = [Location("m.py", 3, 0.9), Location("test_m.py", 2, 1.0), Location("m.py", 2, 0.15)]
    ctx = _ctx({"m.py": code, "test_m.py": test}, locs, limit=1000, tests=["test_m.py"])
    cands = list(RulesGenerator().generate(ctx))
    assert cands and all(c.edits[0].path == "m.py" for c in cands)
    assert all(c.generator == "rules" and c.rule for c in cands)
    # best first, and the most suspicious line comes first
    scores = [c.score for c in cands]
    assert scores == sorted(scores, reverse=True)
    assert cands[0].line == 3 and cands[0].description.startswith("Replace a comparison operator")
    assert len({_apply(code, c) for c in cands}) == len(cands)  # no duplicates
    limited = list(RulesGenerator().generate(_ctx({"m.py": code}, locs[:1], limit=3)))
    assert len(limited) == 3


def test_a_docstring_only_change_is_not_a_candidate() -> None:
    code = b'def f():\n    """0"""\n    return 1\n'
    ctx = _ctx({"m.py": code}, [Location("m.py", 2, 1.0)])
    assert list(RulesGenerator().generate(ctx)) == []


def test_built_in_generators_by_name() -> None:
    assert {"rules", "mask", "tests", "llm"} <= set(generator_names())
    assert load_generator("rules").name == "rules"
    assert load_generator("mask").name == "mask"
    with pytest.raises(BadInput, match=r"known generators: .*mask.*rules"):
        load_generator("nope")
