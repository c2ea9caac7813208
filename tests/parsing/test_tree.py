from __future__ import annotations

from repairbot.parsing import (
    Source,
    detect_encoding,
    enclosing_class,
    enclosing_function,
    header_end,
    normalized_key,
    parse,
    statement_at,
    syntax_ok,
)

CODE = b"""import os


class Box:
    def get(self, key,
            default=None):
        if key in self.items:
            value = (self.items[key] +
                     1)
            return value
        return default
"""


def test_syntax_gate() -> None:
    assert syntax_ok(CODE)
    assert not syntax_ok(b"def f(:\n    pass\n")
    assert not syntax_ok(b"x = (1,\n")  # a MISSING ')' rather than an ERROR node
    assert syntax_ok(b"x = 1\r\ny = 2\r\n")


def test_statement_at_simple_compound_and_multiline() -> None:
    tree = parse(CODE)
    assert statement_at(tree, 1).type == "import_statement"  # type: ignore[union-attr]
    assert statement_at(tree, 2) is None  # blank line
    st = statement_at(tree, 7)
    assert st is not None and st.type == "if_statement"
    assert header_end(st) < st.end_byte
    assert CODE[st.start_byte : header_end(st)].rstrip().endswith(b":")
    # both lines of a multi-line assignment map to the same statement
    a, b = statement_at(tree, 8), statement_at(tree, 9)
    assert a is not None and b is not None and a.id == b.id and a.type == "expression_statement"
    # the second line of a multi-line def header is the def
    d = statement_at(tree, 6)
    assert d is not None and d.type == "function_definition"
    r = statement_at(tree, 10)
    assert r is not None and r.type == "return_statement"
    assert enclosing_function(r) is not None
    cls = enclosing_class(r)
    assert cls is not None and cls.child_by_field_name("name").text == b"Box"  # type: ignore[union-attr]
    assert enclosing_function(statement_at(tree, 1)) is None  # type: ignore[arg-type]


def test_encodings() -> None:
    latin = "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1")
    assert detect_encoding(latin) == "latin-1"
    assert detect_encoding(b"x = 1\n") == "utf-8"
    assert detect_encoding(b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\n") == "cp1252"
    src = Source.of(latin)
    st = statement_at(src.tree, 2)
    assert src.text(st) == "name = 'caf\xe9'"
    assert src.encode(src.text(st)) == latin[st.start_byte : st.end_byte]  # type: ignore[union-attr]


def test_normalized_key_ignores_docstrings_only() -> None:
    a = b'def f(x):\n    """Doc."""\n    return x + 1\n'
    b = b"def f(x):\n    return x + 1  # comment\n"
    c = b"def f(x):\n    return x - 1\n"
    assert normalized_key(a) == normalized_key(b)
    assert normalized_key(a) != normalized_key(c)
    assert normalized_key(b'def f():\n    "only a docstring"\n') == normalized_key(b"def f():\n    pass\n")
    assert normalized_key(b"def (:") is None
