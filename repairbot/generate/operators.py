"""Operator alternatives: what an operator may be confused with, in the order real fixes made the change
(for the operator-mutation patterns and for `<mask:op>` holes)."""

from __future__ import annotations

from repairbot.generate.learned import order_operators

_OP_GROUPS: tuple[tuple[str, ...], ...] = (
    ("<", "<=", ">", ">=", "==", "!="),
    ("==", "!=", "is", "is not", "<", ">"),
    ("is", "is not", "==", "!="),
    ("in", "not in"),
    ("+", "-", "*", "//", "/", "%", "**"),
    ("and", "or"),
    ("+=", "-=", "*=", "//=", "/=", "%="),
    ("&", "|", "^", "<<", ">>"),
    ("&=", "|=", "^=", "<<=", ">>="),
    ("-", "+", "~"),
)
# The confusions considered for each operator; the order they are tried in is learned (operator_alternatives).
_OP_NEAR: dict[str, tuple[str, ...]] = {
    "<": ("<=", ">", "!=", ">=", "=="),
    "<=": ("<", ">=", "==", ">", "!="),
    ">": (">=", "<", "!=", "<=", "=="),
    ">=": (">", "<=", "==", "<", "!="),
    "==": ("!=", "<=", ">=", "<", ">", "is"),
    "!=": ("==", "<", ">", "is not"),
    "is": ("is not", "=="),
    "is not": ("is", "!="),
    "in": ("not in",),
    "not in": ("in",),
    "+": ("-", "*", "//", "%", "/", "**"),
    "-": ("+", "*", "//", "%", "/"),
    "*": ("+", "//", "**", "-", "/", "%"),
    "/": ("//", "*", "%", "-", "+"),
    "//": ("/", "%", "*", "-", "+"),
    "%": ("//", "/", "*", "-", "+"),
    "**": ("*", "+"),
    "and": ("or",),
    "or": ("and",),
    "&=": ("|=", "^="),
    "|=": ("&=", "^="),
    "^=": ("&=", "|="),
    "<<=": (">>=",),
    ">>=": ("<<=",),
    "+=": ("-=", "*=", "=", "//=", "%="),
    "-=": ("+=", "=", "*=", "//="),
    "*=": ("+=", "//=", "-=", "/=", "="),
    "/=": ("//=", "*=", "-="),
    "//=": ("/=", "*=", "%=", "-="),
    "%=": ("//=", "-="),
    "&": ("|", "^", "and"),
    "|": ("&", "^", "or"),
    "^": ("|", "&"),
    "<<": (">>",),
    ">>": ("<<",),
}


def operator_alternatives(op: str) -> tuple[str, ...]:
    """The operators `op` may be confused with, in the order real fixes replaced `op` by them (the fix corpus,
    rules/learned.json)."""
    op = " ".join(op.split())
    options: tuple[str, ...] = ()
    if op in _OP_NEAR:
        options = _OP_NEAR[op]
    else:
        for group in _OP_GROUPS:
            if op in group:
                options = tuple(o for o in group if o != op)
                break
    return tuple(order_operators(op, options))
