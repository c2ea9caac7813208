"""Tree-sitter parsing, the one place for it: parse, the syntax gate, statements at lines, scopes and in-scope
names, a module's definitions, tests in source."""

from __future__ import annotations

from repairbot.parsing.normalize import normalized_key
from repairbot.parsing.scope import NameInfo, ScopeFacts, scope_facts
from repairbot.parsing.testcode import failing_line, find_test, split_nodeid
from repairbot.parsing.tree import (
    LANGUAGE,
    Source,
    call_name,
    detect_encoding,
    enclosing_class,
    enclosing_function,
    header_end,
    node_text,
    parse,
    query,
    statement_at,
    syntax_ok,
    walk,
)

__all__ = [
    "LANGUAGE",
    "NameInfo",
    "ScopeFacts",
    "Source",
    "call_name",
    "detect_encoding",
    "enclosing_class",
    "enclosing_function",
    "failing_line",
    "find_test",
    "header_end",
    "node_text",
    "normalized_key",
    "parse",
    "query",
    "scope_facts",
    "split_nodeid",
    "statement_at",
    "syntax_ok",
    "walk",
]
