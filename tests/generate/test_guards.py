"""The `guards` generator: every template makes its example and not its negative example; the failing test's
exception decides which guard comes first; in the pipeline it repairs a missing None check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from repairbot.generate.guards import GuardGenerator, cue_of, templates
from repairbot.models import GenerationContext, Job, Location, Snapshot, TestOutcome
from repairbot.parsing import normalized_key
from repairbot.pipeline import repair
from tests.support.projects import write_project

# An exception message that cues each kind of template (guards.yml, `cues`).
MESSAGES = {
    "none": "TypeError: 'NoneType' object is not iterable",
    "attr": "AttributeError: 'Remote' object has no attribute 'channel'",
    "key": "KeyError: 'k'",
    "index": "IndexError: list index out of range",
    "zero": "ZeroDivisionError: division by zero",
    "other": "ValueError: bad",
}
TEMPLATE_IDS = [t.id for t in templates()]


def _first_changed_line(before: str, after: str) -> int:
    for n, (a, b) in enumerate(zip(before.splitlines(), after.splitlines(), strict=False), start=1):
        if a != b:
            return n
    return min(len(before.splitlines()), len(after.splitlines()))


def _outputs(root: Path, before: str, line: int, message: str) -> list[bytes]:
    """Every candidate of the generator on `before`, with a failing test that raised `message` at `line`."""
    data = before.encode()
    lines = data.count(b"\n")
    failing = (TestOutcome("test_m.py::test_x", "failed", message, frames=(("m.py", line),)),)
    ctx = GenerationContext(
        job=Job(root=root),
        snapshot=Snapshot(root, {"m.py": data}),
        locations=tuple(Location("m.py", n, 1.0) for n in range(1, lines + 1)),
        source_files=("m.py",),
        test_files=("test_m.py",),
        failing=failing,
        limit=100_000,
    )
    out = []
    for cand in GuardGenerator().generate(ctx):
        (edit,) = cand.edits
        assert cand.generator == "guards" and cand.description and 0.0 < cand.score <= 1.0
        out.append(data[: edit.start] + edit.text + data[edit.end :])
    return out


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_template_makes_its_example_and_not_its_negative(template_id: str, tmp_path: Path) -> None:
    template = next(t for t in templates() if t.id == template_id)
    before, after = template.example["before"], template.example["after"]
    line = _first_changed_line(before, after)
    made = {normalized_key(o) for o in _outputs(tmp_path, before, line, MESSAGES[template.cues[0]])}
    assert normalized_key(after.encode()) in made, f"{template_id} does not make its example"
    neg_before, neg_after = template.negative["before"], template.negative["after"]
    neg_line = _first_changed_line(neg_before, neg_after)
    for cue in template.cues:
        made = {normalized_key(o) for o in _outputs(tmp_path, neg_before, neg_line, MESSAGES[cue])}
        assert normalized_key(neg_after.encode()) not in made, f"{template_id} makes its negative ({cue})"


def test_every_template_names_where_it_comes_from() -> None:
    for template in templates():
        assert template.sources, f"{template.id}: no source"
        for source in template.sources:
            commit = re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{7,40}", source)
            assert commit or source.startswith("TBar: "), (template.id, source)


def test_the_exception_decides_the_first_guard(tmp_path: Path) -> None:
    before = "def total(order, rates):\n    return order.amount * rates[order.currency] / order.count\n"
    on_none = _outputs(tmp_path, before, 2, "AttributeError: 'NoneType' object has no attribute 'amount'")
    on_zero = _outputs(tmp_path, before, 2, MESSAGES["zero"])
    none_first, zero_first = on_none[0].decode(), on_zero[0].decode()
    assert re.search(r"if (not )?order( is (not )?None)?:", none_first), none_first
    assert re.search(r"if (not )?order\.count:", zero_first), zero_first


def test_cues_from_exception_messages() -> None:
    assert cue_of("AttributeError: 'NoneType' object has no attribute 'close'").kind == "none"
    attr = cue_of("AttributeError: 'Remote' object has no attribute 'channel'")
    assert (attr.kind, attr.attr) == ("attr", "channel")
    assert cue_of("TypeError: 'NoneType' object is not subscriptable").where == "subscripted"
    assert cue_of("KeyError: 'eur'").key == "'eur'"
    assert cue_of("AssertionError: assert 1 == 2").kind == "other"


MISSING_GUARD = {
    "shop.py": "def label(item):\n    return item.name.upper()\n\n\n"
    "def labels(items):\n    return [label(i) for i in items]\n",
    "test_shop.py": "from shop import label, labels\n\n\n"
    "def test_label():\n    assert label(type('I', (), {'name': 'pen'})()) == 'PEN'\n\n\n"
    "def test_no_item():\n    assert label(None) is None\n\n\n"
    "def test_labels():\n    assert labels([]) == []\n",
}


def test_the_pipeline_repairs_a_missing_none_check(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", MISSING_GUARD)
    rep = repair(Job(root=root, budget_s=60, sandbox="local", generators=("guards",)))
    assert rep.status == "fixed", rep.notes
    best = rep.patches[0]
    assert best.generator == "guards"
    assert re.search(r"^\+\s+if (not )?item( is (not )?None)?:", best.diff, flags=re.M), best.diff
