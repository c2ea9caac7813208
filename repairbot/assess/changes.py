"""What a patch changed, function by function (Python's parser: the assessment compares meaning, not bytes).

A function is identified by its qualified name in the module (`Class.method`, `outer.<locals>.inner`); the
code outside every function is the pseudo-function `<module>`. A function changed when its AST (docstring
left out) differs between the original and the patched file.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

MODULE = "<module>"

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class FunctionChange:
    path: str
    qualname: str  # MODULE for code outside functions
    before: ast.AST | None  # None: the patch added the function
    after: ast.AST | None  # None: the patch removed it
    first_line: int  # in the original file (0 when added)
    last_line: int

    @property
    def key(self) -> str:
        return f"{self.path}::{self.qualname}"

    @property
    def probeable(self) -> bool:
        """Can the behaviour probe call it: a function (not module code) that exists on both sides, defined at
        module level or in a class body (a nested function only exists while its parent runs)."""
        return (
            self.qualname != MODULE
            and "<locals>" not in self.qualname
            and isinstance(self.before, FunctionNode)
            and isinstance(self.after, FunctionNode)
        )


def parse(source: bytes) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def functions(tree: ast.Module) -> dict[str, ast.AST]:
    """qualname -> function node, plus MODULE -> the module with function and class bodies emptied."""
    out: dict[str, ast.AST] = {}

    def visit(node: ast.AST, prefix: str, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, FunctionNode):
                name = f"{prefix}{child.name}"
                out[name] = child
                visit(child, f"{name}.<locals>.", True)
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", in_function)
            else:
                visit(child, prefix, in_function)

    visit(tree, "", False)
    out[MODULE] = _module_skeleton(tree)
    return out


def _module_skeleton(tree: ast.Module) -> ast.Module:
    """The module's own code: each function replaced by a placeholder statement naming it (functions are
    compared one by one; the placeholder keeps class bodies non-empty)."""

    class Strip(ast.NodeTransformer):
        def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
            return ast.Expr(ast.Name(f"def {node.name}", ast.Load()))

        def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
            return ast.Expr(ast.Name(f"async def {node.name}", ast.Load()))

    stripped = Strip().visit(copy.deepcopy(tree))
    assert isinstance(stripped, ast.Module)
    return stripped


def key_of(node: ast.AST | None) -> str:
    """A comparable dump: no positions, no docstring."""
    if node is None:
        return ""
    if isinstance(node, FunctionNode | ast.ClassDef | ast.Module) and _has_docstring(node):
        body = node.body[1:]
        dumped = [ast.dump(s, annotate_fields=False) for s in body]
        head = ast.dump(node.args, annotate_fields=False) if isinstance(node, FunctionNode) else ""
        decorators = (
            [ast.dump(d, annotate_fields=False) for d in node.decorator_list]
            if isinstance(node, FunctionNode | ast.ClassDef)
            else []
        )
        return "|".join([head, *decorators, *dumped])
    if isinstance(node, FunctionNode):
        return "|".join(
            [
                ast.dump(node.args, annotate_fields=False),
                *(ast.dump(d, annotate_fields=False) for d in node.decorator_list),
                *(ast.dump(s, annotate_fields=False) for s in node.body),
            ]
        )
    return ast.dump(node, annotate_fields=False)


def _has_docstring(node: ast.AST) -> bool:
    body = getattr(node, "body", None)
    return bool(
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )


def changed_functions(path: str, before: bytes, after: bytes) -> list[FunctionChange] | None:
    """The functions `after` changes in `before`; None when either side does not parse."""
    old, new = parse(before), parse(after)
    if old is None or new is None:
        return None
    a, b = functions(old), functions(new)
    out: list[FunctionChange] = []
    for name in [*a, *(n for n in b if n not in a)]:
        x, y = a.get(name), b.get(name)
        if key_of(x) == key_of(y):
            continue
        first = getattr(x, "lineno", 0) if name != MODULE else 1
        if isinstance(x, FunctionNode) and x.decorator_list:
            first = min(first, *(d.lineno for d in x.decorator_list))
        last = getattr(x, "end_lineno", 0) or first if name != MODULE else before.count(b"\n") + 1
        out.append(FunctionChange(path, name, x, y, first, last))
    return out


def all_changes(
    originals: Mapping[str, bytes | None], patched: Mapping[str, bytes]
) -> Iterator[FunctionChange]:
    """Changed functions of every Python file a patch changed (a file it added counts as all new)."""
    for path, data in sorted(patched.items()):
        if not path.endswith(".py"):
            continue
        before = originals.get(path)
        found = changed_functions(path, before if before is not None else b"", data)
        if found:
            yield from found
