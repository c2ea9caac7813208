"""The anti-pattern catalogue's own examples: each flagged one is caught by its detector, each negative one
(a real fix shape that looks alike) is caught by none."""

from __future__ import annotations

from typing import Any

import pytest

from repairbot.assess.antipatterns import DETECTORS, catalogue, findings, literals
from repairbot.assess.changes import all_changes

EXAMPLES = [
    pytest.param(anti.id, k, example, id=f"{anti.id}-{k}-{'flagged' if example['flagged'] else 'negative'}")
    for anti in catalogue().values()
    for k, example in enumerate(anti.examples)
]


def _found(example: dict[str, Any]) -> set[str]:
    before, after = example["before"].encode(), example["after"].encode()
    changes = list(all_changes({"m.py": before}, {"m.py": after}))
    assert changes, "the example changes nothing"
    return {f.id for f in findings(changes, literals(example.get("tests", "")))}


@pytest.mark.parametrize(("anti_id", "k", "example"), EXAMPLES)
def test_catalogue_examples(anti_id: str, k: int, example: dict[str, Any]) -> None:
    found = _found(example)
    if example["flagged"]:
        assert anti_id in found
    else:
        assert not found, found


def test_every_detector_has_a_catalogue_entry_with_sources_and_both_kinds_of_example() -> None:
    assert set(DETECTORS) == set(catalogue())
    for anti in catalogue().values():
        assert anti.sources and anti.message
        assert {e["flagged"] for e in anti.examples} == {True, False}, anti.id


def test_a_patch_that_adds_a_function_or_changes_nothing_is_not_flagged() -> None:
    before = b"def f(x):\n    return x + 1\n"
    after = before + b"\n\ndef g(y):\n    while True:\n        pass\n"
    assert findings(list(all_changes({"m.py": before}, {"m.py": after})), frozenset()) == []
    assert list(all_changes({"m.py": before}, {"m.py": before})) == []


def test_a_docstring_change_is_no_change() -> None:
    before = b'def f(x):\n    """One."""\n    return x\n'
    after = b'def f(x):\n    """Two."""\n    return x\n'
    assert list(all_changes({"m.py": before}, {"m.py": after})) == []


def test_literals_of_tests_include_negative_numbers() -> None:
    assert {-3, "a.txt", 2.5} <= literals("def test():\n    assert f(-3, 'a.txt') == 2.5\n")
