"""Collection errors: a test module that fails to import is a failing "test" of its own (its path), located
by the error's file and line; errors that no source file explains are the environment's problem."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import replace

from repairbot.errors import BadInput
from repairbot.models import TestOutcome, TestRun

_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')


def with_collection_errors(run: TestRun, source_files: AbstractSet[str]) -> TestRun:
    """`run` with each collection error as a failing outcome, its frames in `source_files`."""
    if not run.collection_errors:
        return run
    extra = []
    for err in run.collection_errors:
        nodeid = err.split(":", 1)[0].strip() or "<collection>"
        frames = tuple(
            (p, int(n))
            for p, n in ((_relative(m.group(1), source_files), m.group(2)) for m in _FILE_LINE.finditer(err))
            if p
        )
        extra.append(TestOutcome(nodeid, "error", err[:500], err, frames))
    return replace(run, outcomes=run.outcomes + tuple(extra))


def check_collection(
    run: TestRun, source_files: AbstractSet[str], obsolete: AbstractSet[str] = frozenset()
) -> None:
    """BadInput when collection errors point into no source file and no intended change explains them."""
    errors = [
        o for o in run.outcomes if "::" not in o.nodeid and o.outcome == "error" and o.nodeid not in obsolete
    ]
    if not errors or any(o.frames for o in errors) or len(errors) < len(run.failing):
        return
    first = errors[0]
    reason = last_line(first.longrepr) or "collection failed"
    raise BadInput(f"test collection failed in {first.nodeid}: {reason}",
                   hint="fix the test environment (missing package? wrong --test-cmd?)")  # fmt: skip


def last_line(output: str) -> str:
    """The last non-blank line of a run's output, cut to 200 characters (for one-line messages)."""
    lines = [x.strip() for x in output.strip().splitlines() if x.strip()]
    return lines[-1][:200] if lines else ""


def _relative(path: str, source_files: AbstractSet[str]) -> str | None:
    for rel in source_files:
        if path == rel or path.endswith("/" + rel):
            return rel
    return None
