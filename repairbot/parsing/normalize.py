"""Normalized form of a module for dedup and exact-match scoring (DESIGN §6)."""

from __future__ import annotations

import ast
import warnings

_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _is_bare_string(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def strip_strings(node: ast.AST) -> ast.AST:
    """Drops docstrings and other bare string statements in place; a body left empty gets a `pass`.

    Only statement lists are walked (strings inside expressions are code, and skipping expressions keeps this
    cheap enough to run on every candidate).
    """
    for fld in _BODIES:
        body = getattr(node, fld, None)
        if not isinstance(body, list) or not body:
            continue
        if isinstance(body[0], ast.stmt):
            kept = [s for s in body if not _is_bare_string(s)]
            if not kept and fld == "body" and not isinstance(node, ast.Module):
                kept = [ast.Pass()]
            setattr(node, fld, kept)
        for child in getattr(node, fld):
            strip_strings(child)
    return node


def parse_quiet(source: bytes) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def dump(node: ast.AST) -> str:
    return ast.dump(strip_strings(node), annotate_fields=False, include_attributes=False)


def normalized_key(source: bytes) -> str | None:
    """`ast.dump` of the module without docstrings or bare strings; None when it does not parse."""
    tree = parse_quiet(source)
    return None if tree is None else dump(tree)


def region_key(source: bytes, first_line: int, last_line: int) -> tuple[object, ...] | None:
    """A cheap dedup key for a file that differs from a base only within lines [first_line, last_line]:
    the number of top-level statements and the normalized dumps of those that overlap the lines.
    None when the file does not parse.
    """
    tree = parse_quiet(source)
    if tree is None:
        return None
    parts: list[object] = [len(tree.body)]
    for i, stmt in enumerate(tree.body):
        end = stmt.end_lineno or stmt.lineno
        start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        if end >= first_line and start <= last_line:
            parts += [i, dump(stmt)]
    return tuple(parts)
