"""Tests in source: the node id's parts, a test's function definition, the line where a test failed."""

from __future__ import annotations

import re

from tree_sitter import Node

from repairbot.models import TestOutcome
from repairbot.parsing.tree import node_text, parse, walk


def split_nodeid(nodeid: str) -> tuple[str, tuple[str, ...]]:
    """'tests/t.py::C::test_a[x]' -> ('tests/t.py', ('C', 'test_a'))."""
    path, _, rest = nodeid.partition("::")
    names = tuple(re.sub(r"\[.*\]$", "", n) for n in rest.split("::") if n)
    return path, names


def find_test(src: bytes, nodeid: str) -> Node | None:
    """The function definition of the test `nodeid` in `src`."""
    _, names = split_nodeid(nodeid)
    if not names:
        return None
    root = parse(src).root_node
    scope: Node = root
    for i, name in enumerate(names):
        found: Node | None = None
        for n in walk(scope):
            if (
                n.type in ("function_definition", "class_definition")
                and node_text(n.child_by_field_name("name")) == name
            ):
                if i == len(names) - 1 and n.type != "function_definition":
                    continue
                found = n
                break
        if found is None:
            return None
        scope = found
    return scope


def failing_line(outcome: TestOutcome, path: str) -> int | None:
    """The line of `path` where `outcome` failed (its innermost frame there)."""
    for p, line in reversed(outcome.frames):
        if p == path:
            return line
    found = re.findall(rf"^{re.escape(path)}:(\d+): ", outcome.longrepr, re.M)
    return int(found[-1]) if found else None
