"""Engines for queue tests, chosen through REPAIRBOT_ENGINE ("module:function"). They wrap the real engine."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from repairbot.models import Job, Report


def slow(job: Job, progress: Callable[[str], None] | None = None) -> Report:
    """The real engine after a pause, so a test can kill the worker while the job runs."""
    from repairbot.pipeline import repair

    time.sleep(float(os.environ.get("REPAIRBOT_TEST_ENGINE_DELAY", "4")))
    return repair(job, progress)


def broken(job: Job, progress: Callable[[str], None] | None = None) -> Report:
    raise RuntimeError("engine exploded")
