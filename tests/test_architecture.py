"""The module layout as a test: no import cycles, and data flowing one way (DESIGN §1, §8).

Every import counts, also those inside functions and under TYPE_CHECKING. Each module of repairbot/ and
webhooks/ belongs to one layer:
- shared: records, errors and libraries every stage may use; they import only each other;
- stages: each may import the shared modules and itself, never another stage;
- the composer, pipeline.py: the shared modules and the stages;
- edges (CLI, Action, App, benchmark runner, configuration): anything.
A new module must be placed in a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("repairbot", "webhooks")

SHARED = {"models", "errors", "parsing", "diffs", "workspace", "plugins", "paths"}
STAGES = {  # subpackage -> stage (the test runner and its sandboxes are one stage: running tests)
    "testing": "run tests",
    "sandbox": "run tests",
    "localize": "localize",
    "generate": "generate",
    "coevolve": "coevolve",
    "reproduce": "reproduce",
    "validate": "validate",
    "report": "report",
    "assess": "assess",
}
COMPOSER = {"pipeline"}
EDGES = {"cli", "action", "bench", "config", "github", "jobs", "__main__"}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of `known` that `name` imports (a name imported from a package counts as its module
    when it is one)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        for target in targets:
            parts = target.split(".")
            for i in range(len(parts), 0, -1):
                candidate = ".".join(parts[:i])
                if candidate in known:
                    if candidate != name:
                        found.add(candidate)
                    break
    return found


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def _layer(module: str) -> tuple[str, str]:
    """(layer, unit): the unit is the stage for stages, the top-level module otherwise."""
    parts = module.split(".")
    if parts[0] == "webhooks":
        return "edge", "webhooks"
    top = parts[1] if len(parts) > 1 else ""
    if top in SHARED or not top:
        return "shared", top
    if top in STAGES:
        return "stage", STAGES[top]
    if top in COMPOSER:
        return "composer", top
    if top in EDGES:
        return "edge", top
    return "unplaced", top


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _violations(graph: dict[str, set[str]]) -> list[str]:
    allowed = {
        "shared": {"shared"},
        "stage": {"shared", "stage"},
        "composer": {"shared", "stage", "composer"},
        "edge": {"shared", "stage", "composer", "edge"},
    }
    out = []
    for module, targets in sorted(graph.items()):
        layer, unit = _layer(module)
        if layer == "unplaced":
            out.append(f"{module} is in no layer (place `{unit}` in tests/test_architecture.py)")
            continue
        for target in sorted(targets):
            target_layer, target_unit = _layer(target)
            if target_layer not in allowed[layer]:
                out.append(f"{module} ({layer}) imports {target} ({target_layer})")
            elif layer == "stage" and target_layer == "stage" and unit != target_unit:
                out.append(f"stage {unit} imports stage {target_unit}: {module} -> {target}")
    return out


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_stages_do_not_import_each_other_and_data_flows_one_way() -> None:
    assert _violations(_graph()) == []


def test_the_checks_catch_what_they_are_for() -> None:
    graph = {"repairbot.a": {"repairbot.b"}, "repairbot.b": {"repairbot.c"}, "repairbot.c": {"repairbot.a"}}
    assert _cycles(graph) == [["repairbot.a", "repairbot.b", "repairbot.c"]]
    crossing = {
        "repairbot.generate.rules": {"repairbot.coevolve.classify"},
        "repairbot.coevolve.classify": set(),
    }
    assert _violations(crossing) == [
        "stage generate imports stage coevolve: repairbot.generate.rules -> repairbot.coevolve.classify"
    ]
    assert _violations({"repairbot.models": {"repairbot.pipeline"}, "repairbot.pipeline": set()}) == [
        "repairbot.models (shared) imports repairbot.pipeline (composer)"
    ]


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = _graph()
    assert "repairbot.pipeline" in graph["repairbot.cli"]  # imported by a command's function
    assert "repairbot.jobs.tasks" in graph["repairbot.jobs.queue"]
