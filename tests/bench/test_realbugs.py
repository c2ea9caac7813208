"""The real-bug dev set (bench/realbugs/cases.jsonl): valid, large enough, no held-out project."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from repairbot.bench.repos import parse_case
from tests.support.held_out import HELD_OUT

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "bench" / "repo-case.schema.json").read_text(encoding="utf-8"))
REALBUGS = ROOT / "bench" / "realbugs" / "cases.jsonl"


def test_realbugs_dev_set_is_valid_and_verified_shape() -> None:
    lines = [json.loads(line) for line in REALBUGS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) >= 60
    for raw in lines:
        jsonschema.validate(raw, SCHEMA)
        parse_case(raw)
    assert len({raw["id"] for raw in lines}) == len(lines)
    assert len({raw["repo"] for raw in lines}) >= 8
    assert {raw["hunks"] == 1 for raw in lines} == {True, False}  # single- and multi-hunk cases
    assert not {raw["repo"].split("/")[1].lower() for raw in lines} & HELD_OUT
