"""Tree-sitter parsing: parse, the syntax gate, statements at lines, scopes and in-scope names."""

from __future__ import annotations

from repairbot.parsing.normalize import normalized_key
from repairbot.parsing.scope import NameInfo, ScopeFacts, scope_facts
from repairbot.parsing.tree import (
    LANGUAGE,
    Source,
    detect_encoding,
    enclosing_class,
    enclosing_function,
    header_end,
    parse,
    query,
    statement_at,
    syntax_ok,
)

__all__ = [
    "LANGUAGE",
    "NameInfo",
    "ScopeFacts",
    "Source",
    "detect_encoding",
    "enclosing_class",
    "enclosing_function",
    "header_end",
    "normalized_key",
    "parse",
    "query",
    "scope_facts",
    "statement_at",
    "syntax_ok",
]
