"""What a handler returns: a run to enqueue, bookkeeping to record, or a reason to ignore the event.

Handlers are thin and pure: they read the payload only (no GitHub calls, no slow work), so a webhook is
acknowledged in milliseconds. Repository configuration is read later by the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from repairbot.jobs.store import NewRun, Store

Payload = dict[str, Any]
COMMANDERS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})  # users with write access


@dataclass(frozen=True, slots=True)
class Decision:
    status: str  # "queued" | "ignored" | "recorded"
    run: NewRun | None = None
    reason: str = ""
    record: Callable[[Store], None] | None = None  # bookkeeping applied in the request (one small write)


def ignore(reason: str) -> Decision:
    return Decision("ignored", reason=reason)


def queue(run: NewRun) -> Decision:
    return Decision("queued", run=run)


def installation_id(payload: Payload) -> int | None:
    inst = payload.get("installation")
    return int(inst["id"]) if isinstance(inst, dict) and inst.get("id") is not None else None


def repo_name(payload: Payload) -> str:
    return str(payload["repository"]["full_name"])


def has_command(body: str | None, command: str) -> bool:
    """A command is a line of its own that starts with it (quoted text `> /repairbot fix` does not count)."""
    return any(line.strip().lower().startswith(command) for line in (body or "").splitlines())


def from_bot(payload: Payload) -> bool:
    sender = payload.get("sender") or {}
    return sender.get("type") == "Bot"
