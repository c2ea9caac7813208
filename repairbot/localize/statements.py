"""What localization needs to know about the source's statements (tree-sitter): where a statement starts, the
condition that controls it, and a static prior that breaks ties."""

from __future__ import annotations

from pathlib import Path

from tree_sitter import Node, Tree

from repairbot.parsing import enclosing_function, parse, statement_at
from repairbot.paths import read_inside

STRAIGHT_LINE_PRIOR = 0.85  # localization weight of functions that only store their arguments


class SourceStatements:
    """Statements of the files under `root`, each file parsed once."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._trees: dict[str, Tree] = {}
        self._first: dict[tuple[str, int], int] = {}

    def _tree(self, path: str) -> Tree | None:
        if path not in self._trees:
            try:
                self._trees[path] = parse(read_inside(self._root, path))  # paths a test reported
            except OSError:
                return None
        return self._trees[path]

    def _statement(self, path: str, line: int) -> Node | None:
        tree = self._tree(path)
        return statement_at(tree, line) if tree is not None else None

    def statement_of(self, path: str, line: int) -> int:
        """The first line of the statement that holds `line` (the line itself when there is none)."""
        key = (path, line)
        if key not in self._first:
            node = self._statement(path, line)
            self._first[key] = node.start_point[0] + 1 if node is not None else line
        return self._first[key]

    def controller_of(self, path: str, line: int) -> int | None:
        """The header line of the innermost if/elif/while/for whose block holds `line`, if any."""
        node = self._statement(path, line)
        while node is not None and node.type not in ("function_definition", "class_definition"):
            parent = node.parent
            if parent is not None and parent.type == "block" and parent.parent is not None:
                owner = parent.parent
                if owner.type in ("else_clause", "elif_clause") and owner.parent is not None:
                    owner = owner if owner.type == "elif_clause" else owner.parent
                if owner.type in ("if_statement", "elif_clause", "while_statement", "for_statement"):
                    return int(owner.start_point[0]) + 1
            node = parent
        return None

    def static_prior(self, path: str, line: int) -> float:
        """Below 1 for a statement of a function that only stores its arguments (a record's __init__): it
        computes nothing to get wrong."""
        node = self._statement(path, line)
        func = enclosing_function(node) if node is not None else None
        body = func.child_by_field_name("body") if func is not None else None
        if body is None:
            return 1.0
        straight = all(_stores_argument(child) for child in body.named_children if child.type != "comment")
        return STRAIGHT_LINE_PRIOR if straight else 1.0


def _stores_argument(stmt: Node) -> bool:
    """`self.x = x` (or `= None`): a statement that moves a value without computing anything."""
    if stmt.type != "expression_statement" or stmt.named_child_count != 1:
        return False
    assign = stmt.named_children[0]
    right = assign.child_by_field_name("right") if assign.type == "assignment" else None
    return right is not None and right.type in ("identifier", "none")
