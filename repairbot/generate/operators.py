"""Operator alternatives: what an operator is most often confused with, nearest first (for the
operator-mutation patterns and for `<mask:op>` holes)."""

from __future__ import annotations

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
# Nearest confusions first: an off-by-one comparison beats a reversed one.
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
    op = " ".join(op.split())
    if op in _OP_NEAR:
        return _OP_NEAR[op]
    for group in _OP_GROUPS:
        if op in group:
            return tuple(o for o in group if o != op)
    return ()
