"""Byte-range replacements in test files, and the tree-sitter lookups every updater shares."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tree_sitter import Node

from repairbot.models import Edit


@dataclass(frozen=True, slots=True)
class Replacement:
    start: int
    end: int
    text: bytes


def apply_edits(src: bytes, edits: Iterable[Replacement | Edit]) -> bytes:
    out = src
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: e.start] + e.text + out[e.end :]
    return out


def dedupe(repls: list[Replacement]) -> list[Replacement]:
    """Drop overlapping replacements (first wins) so edits stay well-defined."""
    out: list[Replacement] = []
    for r in repls:
        if all(r.end <= o.start or r.start >= o.end for o in out):
            out.append(r)
    return out


def last_import(root: Node) -> Node | None:
    last = None
    for n in root.named_children:
        if n.type in ("import_statement", "import_from_statement", "future_import_statement"):
            last = n
    return last
