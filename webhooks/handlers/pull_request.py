"""pull_request opened/synchronize/reopened → run the head's tests and review with suggestions;
`/repairbot suggest` review comments → a suggestion in that thread."""

from __future__ import annotations

from repairbot.jobs.store import NewRun
from webhooks.handlers.base import (
    COMMANDERS,
    Decision,
    Payload,
    from_bot,
    has_command,
    ignore,
    installation_id,
    queue,
    repo_name,
)

EVENTS = ("pull_request", "pull_request_review_comment")


def handle(event: str, payload: Payload) -> Decision:
    action = payload.get("action")
    pr = payload.get("pull_request") or {}
    repo = repo_name(payload)
    number = int(pr.get("number") or payload.get("number") or 0)
    if event == "pull_request":
        if action not in ("opened", "synchronize", "reopened"):
            return ignore(f"pull_request.{action}")
        head = pr.get("head") or {}
        if (
            str(head.get("ref", "")).startswith("repairbot/")
            and (head.get("repo") or {}).get("full_name") == repo
        ):
            return ignore("repairbot's own pull request")
        trigger = "pull_request"
    else:
        comment = payload.get("comment") or {}
        if (
            action != "created"
            or from_bot(payload)
            or not has_command(comment.get("body"), "/repairbot suggest")
        ):
            return ignore("no command")
        if comment.get("author_association") not in COMMANDERS:
            return ignore("command from a user without write access")
        trigger = "review_command"
    return queue(
        NewRun(
            event=event,
            trigger=trigger,
            repo=repo,
            installation_id=installation_id(payload),
            lock_key=f"{repo}:pr:{number}",
            payload=payload,
            number=number,
            sha=str((pr.get("head") or {}).get("sha") or "") or None,
        )
    )
