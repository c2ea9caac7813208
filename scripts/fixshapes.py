"""Fix shapes and token substitutions of a corpus fix (for the coverage report and the learned orderings).

A shape says what kind of change the developer made (missing guard, wrong call, operator, ...), read from the
tokens of the changed lines; a substitution records one replaced operator, literal or callee, or one wrapping
call, so that the engine's orderings of alternatives can be counted from real fixes rather than set by hand.
"""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass

from repairbot.generate.fixmine import Hunk

_TOKEN = re.compile(
    r"""(?P<str>[rRbBuUfF]{0,3}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))"""
    r"""|(?P<com>\#[^\n]*)|(?P<ws>\s+|\\\r?\n)|(?P<num>\d[\w.]*|\.\d[\w]*)|(?P<name>\w+)"""
    r"""|(?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%&|^@<>!=]=|[^\s\w])""",
    re.DOTALL,
)
OPERATORS = frozenset(
    {
        *("+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "&", "|", "^", "~"),
        *("<", ">", "<=", ">=", "==", "!=", "and", "or", "not", "is", "in", "not_in", "is_not"),
        *("+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^=", "<<=", ">>="),
    }
)
LITERAL_NAMES = frozenset({"True", "False", "None"})
SHAPES = (
    "missing guard or branch",
    "exception handling",
    "new statement",
    "removed statement",
    "condition",
    "operator",
    "literal",
    "wrong variable",
    "wrong call or attribute",
    "argument",
    "wrap in a call",
    "return value",
    "other expression",
    "several statements rewritten",
    "multi-hunk",
)


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # str, num, name, kw, op
    text: str


def tokens(text: str) -> list[Tok]:
    raw: list[Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "op"
        if kind in ("com", "ws"):
            continue
        t = m.group()
        if kind == "name" and keyword.iskeyword(t) and t not in LITERAL_NAMES:
            kind = "kw"
        raw.append(Tok(kind, t))
    out: list[Tok] = []
    for t in raw:  # `is not` and `not in` are one operator each
        if out and (out[-1].text, t.text) in (("is", "not"), ("not", "in")):
            out[-1] = Tok("kw", f"{out[-1].text}_{t.text}")
        else:
            out.append(t)
    return out


def _is_literal(toks: Sequence[Tok]) -> bool:
    if len(toks) == 1:
        return toks[0].kind in ("num", "str") or toks[0].text in LITERAL_NAMES
    if len(toks) == 2 and toks[0].text == "-" and toks[1].kind == "num":
        return True
    return [t.text for t in toks] in (["[", "]"], ["(", ")"], ["{", "}"])


def _lines(data: bytes, start: int, count: int) -> list[str]:
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[start - 1 : start - 1 + count]


def _open_call_before(toks: Sequence[Tok], i: int) -> bool:
    """Is position i inside the parentheses of a call (an unmatched `(` after a name or `)`)?"""
    depth = 0
    for j in range(i - 1, -1, -1):
        t = toks[j].text
        if t in ")]}":
            depth += 1
        elif t in "([{":
            if depth == 0:
                return t == "(" and j > 0 and (toks[j - 1].kind == "name" or toks[j - 1].text in ")]")
            depth -= 1
    return False


@dataclass(frozen=True, slots=True)
class Analysis:
    shape: str
    substitutions: tuple[
        tuple[str, str, str], ...
    ]  # (kind, old, new): operator, literal, callee, wrapper, guard


def analyse(buggy: bytes, fixed: bytes, hunks: Sequence[Hunk]) -> Analysis:
    subs: list[tuple[str, str, str]] = []
    shapes = []
    for h in hunks:
        old = _lines(buggy, h.old_start, h.old_count)
        new = _lines(fixed, h.new_start, h.new_count)
        shape, s = _hunk(old, new)
        shapes.append(shape)
        subs += s
    return Analysis("multi-hunk" if len(hunks) > 1 else shapes[0], tuple(subs))


def _starts(lines: Sequence[str], *words: str) -> int:
    return sum(1 for ln in lines if ln.strip().split(" ", 1)[0].rstrip(":") in words)


def _guard_form(cond: Sequence[Tok]) -> str:
    """A condition with its names, literals and calls abstracted: `x is not None` -> `X is_not None`."""
    out: list[str] = []
    for t in cond:
        if t.kind == "name" and t.text not in LITERAL_NAMES:
            if out and out[-1] in ("X", "."):
                if out[-1] == ".":
                    out.pop()
                continue
            out.append("X")
        elif t.kind == "str":
            out.append("S")
        elif t.kind == "num":
            out.append(t.text if t.text in ("0", "1") else "N")
        else:
            out.append(t.text)
    return " ".join(out)


def _hunk(old: Sequence[str], new: Sequence[str]) -> tuple[str, list[tuple[str, str, str]]]:
    subs: list[tuple[str, str, str]] = []
    added_ifs = _starts(new, "if", "elif", "else") - _starts(old, "if", "elif", "else")
    added_try = _starts(new, "try", "except", "finally") - _starts(old, "try", "except", "finally")
    if not old:
        if added_ifs > 0:
            head = tokens(new[0].strip())
            if head and head[0].text in ("if", "elif"):
                subs.append(("guard", "", _guard_form(head[1:-1])))
            return "missing guard or branch", subs
        if added_try > 0:
            return "exception handling", subs
        return "new statement", subs
    if not new:
        return "removed statement", subs
    if added_ifs > 0:
        head = next((tokens(ln.strip()) for ln in new if ln.strip().startswith(("if ", "elif "))), [])
        if head:
            subs.append(("guard", "", _guard_form(head[1:-1])))
        return "missing guard or branch", subs
    if added_try > 0:
        return "exception handling", subs
    ot = tokens("\n".join(old))
    nt = tokens("\n".join(new))
    matcher = difflib.SequenceMatcher(None, [t.text for t in ot], [t.text for t in nt], autojunk=False)
    ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not ops:
        return "other expression", subs
    first_old = old[0].strip()
    header = first_old.split(" ", 1)[0].rstrip(":") in ("if", "elif", "while", "assert")
    if len(ops) == 2 and all(op[0] == "insert" for op in ops):
        a, b = ops
        pre = [t.text for t in nt[a[3] : a[4]]]
        post = [t.text for t in nt[b[3] : b[4]]]
        if "(" in pre and post and post[-1] == ")" and pre[0] not in ("(", ","):
            # `f(` ... `)` around unchanged code: the wrapping call, with its other arguments (`max(0,$)`)
            subs.append(("wrapper", "", "".join(pre) + "$" + "".join(post)))
            return ("condition" if header else "wrap in a call"), subs
    if len(ops) == 1:
        tag, i1, i2, j1, j2 = ops[0]
        o, n = ot[i1:i2], nt[j1:j2]
        if o and n and all(t.text in OPERATORS for t in (*o, *n)) and len(o) == 1 and len(n) == 1:
            subs.append(("operator", o[0].text.replace("_", " "), n[0].text.replace("_", " ")))
            return "operator", subs
        if o and n and all(t.text in OPERATORS for t in (*o, *n)):
            return "operator", subs
        if o and n and _is_literal(o) and _is_literal(n):
            subs.append(("literal", "".join(t.text for t in o), "".join(t.text for t in n)))
            return "literal", subs
        if len(o) == 1 and len(n) == 1 and o[0].kind == "name" and n[0].kind == "name":
            called = i2 < len(ot) and ot[i2].text == "("
            attr = i1 > 0 and ot[i1 - 1].text == "."
            if called or attr:
                subs.append(("callee" if called else "attribute", o[0].text, n[0].text))
                return "wrong call or attribute", subs
            return ("condition" if header else "wrong variable"), subs
        if header and tag == "insert" and n and n[0].text in ("and", "or"):
            subs.append(("guard", n[0].text, _guard_form(n[1:])))
            return "condition", subs
        if header and tag == "insert" and n and n[-1].text in ("and", "or"):
            subs.append(("guard", n[-1].text, _guard_form(n[:-1])))
            return "condition", subs
        if header:
            return "condition", subs
        if _open_call_before(ot, i1):
            return "argument", subs
        if first_old.startswith("return"):
            return "return value", subs
        return "other expression", subs
    if header:
        return "condition", subs
    if len(old) > 1 or len(new) > 1:
        return "several statements rewritten", subs
    if all(_open_call_before(ot, op[1]) for op in ops):
        return "argument", subs
    if first_old.startswith("return"):
        return "return value", subs
    return "other expression", subs


__all__ = ["SHAPES", "Analysis", "analyse", "tokens"]
