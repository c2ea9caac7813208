"""Extension points chosen by name: generators and sandboxes.

The built-ins are listed here. Another distribution adds its own as entry points, in the groups
`repairbot.generators` (a class or factory taking no arguments, returning a `repairbot.models.Generator`) and
`repairbot.sandboxes` (a class or factory called as `factory(scratch, command, parallel, *, image, job_id,
project)`, returning a `repairbot.models.Sandbox`). A built-in name cannot be taken over.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast

from repairbot.errors import BadInput, EnvironmentProblem
from repairbot.models import Generator, Sandbox

GENERATOR_GROUP = "repairbot.generators"
SANDBOX_GROUP = "repairbot.sandboxes"

GENERATORS = {
    "rules": "repairbot.generate.rules:RulesGenerator",
    "mask": "repairbot.generate.rules:MaskGenerator",
    "guards": "repairbot.generate.guards:GuardGenerator",
    "llm": "repairbot.generate.llm:LLMGenerator",
    "tests": "repairbot.coevolve.updaters:TestsGenerator",
}
SANDBOXES = {
    "docker": "repairbot.sandbox.docker:DockerSandbox",
    "local": "repairbot.sandbox.local:LocalSandbox",
}


def generator_names() -> list[str]:
    return _names(GENERATORS, GENERATOR_GROUP)


def sandbox_names() -> list[str]:
    return _names(SANDBOXES, SANDBOX_GROUP)


def load_generator(name: str) -> Generator:
    """A fresh generator `name`; BadInput naming the known ones when there is none."""
    factory = _load(name, GENERATORS, GENERATOR_GROUP, "generator")
    return cast(Generator, factory())


def sandbox_factory(name: str) -> Callable[..., Sandbox]:
    """The class (or factory) of sandbox `name`; BadInput naming the known ones when there is none."""
    return cast(Callable[..., Sandbox], _load(name, SANDBOXES, SANDBOX_GROUP, "sandbox"))


def _names(builtins: dict[str, str], group: str) -> list[str]:
    return sorted({*builtins, *(ep.name for ep in entry_points(group=group))})


def _load(name: str, builtins: dict[str, str], group: str, what: str) -> Callable[..., Any]:
    if name in builtins:
        module, _, attr = builtins[name].partition(":")
        return cast(Callable[..., Any], getattr(importlib.import_module(module), attr))
    found: list[EntryPoint] = [ep for ep in entry_points(group=group) if ep.name == name]
    if not found:
        raise BadInput(
            f"unknown {what} {name!r}", hint=f"known {what}s: {', '.join(_names(builtins, group))}"
        )
    ep = found[0]
    try:
        loaded = ep.load()
    except Exception as err:  # a broken plugin is the environment's problem, named with its distribution
        dist = ep.dist.name if ep.dist is not None else "an installed distribution"
        raise EnvironmentProblem(
            f"the {what} {name!r} of {dist} cannot be loaded ({ep.value}): {err}"
        ) from None
    if not callable(loaded):
        raise EnvironmentProblem(f"the {what} {name!r} ({ep.value}) is not a class or a function")
    return cast(Callable[..., Any], loaded)
