"""One-line messages from a run's output. (Which collection errors are targets, and which are kept apart,
is repairbot/testing/triage.py.)"""

from __future__ import annotations


def last_line(output: str) -> str:
    """The last non-blank line of a run's output, cut to 200 characters (for one-line messages)."""
    lines = [x.strip() for x in output.strip().splitlines() if x.strip()]
    return lines[-1][:200] if lines else ""
