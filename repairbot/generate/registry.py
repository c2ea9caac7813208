"""Generators by name. Built-ins: `rules`, `mask`; other modules register theirs with `register`.

A name that is not registered yet is looked up as the module `repairbot.generate.<name>`, which registers
itself on import (so `tests` and `llm` need no edit here).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from repairbot.errors import BadInput
from repairbot.generate.base import Generator

_FACTORIES: dict[str, Callable[[], Generator]] = {}


def register(name: str, factory: Callable[[], Generator]) -> None:
    _FACTORIES[name] = factory


def _builtins() -> None:
    if "rules" not in _FACTORIES:
        from repairbot.generate.rules import MaskGenerator, RulesGenerator

        register("rules", RulesGenerator)
        register("mask", MaskGenerator)
    if "tests" not in _FACTORIES:
        from repairbot.coevolve.updaters import TestsGenerator

        register("tests", TestsGenerator)


def available() -> list[str]:
    _builtins()
    return sorted(_FACTORIES)


def get_generator(name: str) -> Generator:
    _builtins()
    if (
        name not in _FACTORIES
        and name.isidentifier()
        and name not in ("base", "registry", "patterns", "donors")
    ):
        try:
            importlib.import_module(f"repairbot.generate.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"repairbot.generate.{name}":
                raise
    factory = _FACTORIES.get(name)
    if factory is None:
        raise BadInput(f"unknown generator {name!r}", hint=f"known generators: {', '.join(available())}")
    return factory()
