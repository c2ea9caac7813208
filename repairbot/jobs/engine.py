"""The one door to the repair engine, so the HTTP and queue layers never import it at module load."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from repairbot.errors import EnvironmentProblem
from repairbot.models import Job, Report

Engine = Callable[[Job, Callable[[str], None] | None], Report]


def load_engine(spec: str | None = None) -> Engine:
    """`spec` is "module:function" (REPAIRBOT_ENGINE); None is the real engine, repairbot.pipeline.repair."""
    module_name, _, attr = (spec or "repairbot.pipeline:repair").partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise EnvironmentProblem(f"cannot load the repair engine {module_name!r}: {err}") from None
    engine = getattr(module, attr or "repair", None)
    if not callable(engine):
        raise EnvironmentProblem(f"repair engine {spec!r} is not a callable")
    return cast(Engine, engine)


def run_engine(job: Job, progress: Callable[[str], None] | None = None, spec: str | None = None) -> Report:
    return load_engine(spec)(job, progress)
