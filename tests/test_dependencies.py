"""Dependencies by use: every third-party import is declared in pyproject.toml, and the engine and its CLI
load none of what only the GitHub App needs."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Ours, and _typeshed: the standard library's typing stubs (imported under TYPE_CHECKING only).
NOT_DISTRIBUTIONS = ("repairbot", "webhooks", "__future__", "_typeshed")
APP_ONLY = ("fastapi", "uvicorn", "huey", "github", "pydantic", "requests", "redis", "psycopg")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, set[str]]:
    """Requirement names per group: "" for the core dependencies, else the extra's name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    return {group: {_normalized(re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0]) for req in reqs}
            for group, reqs in groups.items()}  # fmt: skip


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the files of repairbot/ and webhooks/ that import it."""
    found: dict[str, set[str]] = {}
    for package in ("repairbot", "webhooks"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in NOT_DISTRIBUTIONS:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_is_declared() -> None:
    declared = set().union(*_declared().values())
    owners = packages_distributions()
    missing = {}
    for module, files in _third_party_imports().items():
        dists = {_normalized(d) for d in owners.get(module, [])}
        if not dists & declared:
            missing[module] = sorted(files)
    assert missing == {}, "imported but not declared in pyproject.toml"


def test_the_app_only_extras_are_not_in_the_core() -> None:
    core = _declared()[""]
    assert not core & {"fastapi", "uvicorn", "huey", "pygithub", "pydantic", "requests"}
    assert {"fastapi", "uvicorn", "huey", "requests"} <= _declared()["app"]
    assert "pygithub" in _declared()["github"]


def test_the_engine_and_cli_load_nothing_of_the_app() -> None:
    code = (
        "import sys, repairbot.cli, repairbot.pipeline, repairbot.bench, repairbot.plugins\n"
        "from repairbot.plugins import GENERATORS, SANDBOXES, load_generator, sandbox_factory\n"
        "for name in GENERATORS: load_generator(name)\n"
        "for name in SANDBOXES: sandbox_factory(name)\n"
        f"print(sorted(m for m in {APP_ONLY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
