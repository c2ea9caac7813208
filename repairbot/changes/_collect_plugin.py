"""pytest plugin for the dev runner (repairbot.changes.runner): one JSON line per test to $RB_CHANGES_OUT.

Standard library + pytest only: it runs under the project's interpreter."""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import pytest

_OUT = os.environ.get("RB_CHANGES_OUT")
_ROOT = os.path.realpath(os.getcwd())
_records: dict[str, dict[str, Any]] = {}


def _rel(path: str) -> str | None:
    real = os.path.realpath(path)
    if not real.startswith(_ROOT + os.sep):
        return None
    return os.path.relpath(real, _ROOT).replace(os.sep, "/")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    rep = outcome.get_result()
    rec = _records.setdefault(
        item.nodeid, {"nodeid": item.nodeid, "outcome": "passed", "message": "", "longrepr": "", "frames": []}
    )
    if rep.failed:
        rec["outcome"] = "failed" if rep.when == "call" else "error"
        rec["longrepr"] = str(rep.longreprtext)
        crash = getattr(rep.longrepr, "reprcrash", None)
        rec["message"] = (
            (crash.message if crash is not None else rec["longrepr"]).splitlines()[0]
            if rec["longrepr"]
            else ""
        )
        frames = []
        if call.excinfo is not None:
            for entry in call.excinfo.traceback:
                rel = _rel(str(entry.path))
                if rel is not None:
                    frames.append([rel, entry.lineno + 1])
        rec["frames"] = frames
    elif rep.skipped and rec["outcome"] == "passed":
        rec["outcome"] = "skipped"


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _records[report.nodeid] = {
            "nodeid": report.nodeid,
            "outcome": "error",
            "message": str(report.longreprtext).strip().splitlines()[-1] if report.longreprtext else "",
            "longrepr": str(report.longreprtext),
            "frames": [],
        }


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _OUT:
        with open(_OUT, "w", encoding="utf-8") as fh:
            for rec in _records.values():
                fh.write(json.dumps(rec) + "\n")
