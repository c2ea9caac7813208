"""The real engine, with a record of every job it was given: which runs made repairbot run code, and whether
an issue's code was allowed to become a test (REPAIRBOT_ENGINE=tests.security.engines:recording)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from repairbot.models import Job, Report

LOG_ENV = "REPAIRBOT_SECURITY_ENGINE_LOG"


def recording(job: Job, progress: Callable[[str], None] | None = None) -> Report:
    from repairbot.pipeline import repair

    with open(os.environ[LOG_ENV], "a", encoding="utf-8") as fh:
        entry = {"job": job.job_id, "trigger": job.trigger, "issue_code": getattr(job, "issue_code", True)}
        fh.write(json.dumps(entry) + "\n")
    report = repair(job, progress)
    with open(os.environ[LOG_ENV], "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"job": job.job_id, "notes": list(getattr(report, "notes", ()))}) + "\n")
    return report
