"""Engines for queue tests, chosen through REPAIRBOT_ENGINE ("module:function"). They wrap the real engine."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from repairbot.models import Job, Report


def slow(job: Job, progress: Callable[[str], None] | None = None) -> Report:
    """The real engine after a pause, so a test can kill the worker while the job runs. With
    REPAIRBOT_TEST_ENGINE_LOG set, each call appends when it ran (and in which process) to that file."""
    from repairbot.pipeline import repair

    start = time.time()
    time.sleep(float(os.environ.get("REPAIRBOT_TEST_ENGINE_DELAY", "4")))
    report = repair(job, progress)
    log = os.environ.get("REPAIRBOT_TEST_ENGINE_LOG")
    if log:
        line = {"job": job.job_id, "pid": os.getpid(), "start": start, "end": time.time()}
        with open(log, "a") as fh:
            fh.write(json.dumps(line) + "\n")
    return report


def broken(job: Job, progress: Callable[[str], None] | None = None) -> Report:
    raise RuntimeError("engine exploded")
