"""What a handler returns: a run to enqueue, bookkeeping to record, or a reason to ignore the event.

Handlers are thin and pure: they read the payload only (no GitHub calls, no slow work), so a webhook is
acknowledged in milliseconds. Repository configuration and who may make repairbot run code (the collaborator
permission endpoint, never `author_association`) are read later by the job.

A run is made only from fields of the types GitHub sends: a payload whose repository name, numbers or commit
ids are missing or of another shape is `Malformed` (400), never a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from repairbot.jobs.store import NewRun, Store

Payload = dict[str, Any]

_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_SHA = re.compile(r"[0-9a-f]{40}")
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")


class Malformed(ValueError):
    """The payload lacks a field a run needs, or has it in another shape than GitHub's."""


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


def field(payload: Any, *path: str) -> Any:
    """payload[path[0]][path[1]]…; Malformed when a step is missing or not an object."""
    value = payload
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise Malformed(f"no {'.'.join(path)}")
        value = value[key]
    return value


def obj(payload: Any, key: str) -> dict[str, Any]:
    """payload[key] when it is an object, {} when absent or null; Malformed otherwise."""
    value = payload.get(key) if isinstance(payload, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{key} is not an object")
    return value


def number(payload: Any, *path: str) -> int:
    value = field(payload, *path)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**53:
        raise Malformed(f"{'.'.join(path)} is not a positive integer")
    return value


def sha(payload: Any, *path: str) -> str:
    value = field(payload, *path)
    if not isinstance(value, str) or not _SHA.fullmatch(value):
        raise Malformed(f"{'.'.join(path)} is not a commit id")
    return value


def text(payload: Any, *path: str) -> str:
    value = field(payload, *path)
    if not isinstance(value, str):
        raise Malformed(f"{'.'.join(path)} is not a string")
    return value


def installation_id(payload: Payload) -> int | None:
    inst = obj(payload, "installation")
    return number(inst, "id") if inst.get("id") is not None else None


def repo_name(payload: Payload) -> str:
    name = text(payload, "repository", "full_name")
    if not _REPO.fullmatch(name):
        raise Malformed("repository.full_name is not owner/name")
    return name


def login(payload: Any, *path: str) -> str:
    value = text(payload, *path)
    if not _LOGIN.fullmatch(value):
        raise Malformed(f"{'.'.join(path)} is not a GitHub login")
    return value


def sender(payload: Payload) -> str | None:
    """Who caused the event (per-author caps); None when the payload names nobody."""
    return login(payload, "sender", "login") if obj(payload, "sender").get("login") is not None else None


def has_command(body: object, command: str) -> bool:
    """A command is a line of its own that starts with it (quoted text `> /repairbot fix` does not count)."""
    if not isinstance(body, str):
        return False
    return any(line.strip().lower().startswith(command) for line in body.splitlines())


def from_bot(payload: Payload) -> bool:
    return obj(payload, "sender").get("type") == "Bot"
