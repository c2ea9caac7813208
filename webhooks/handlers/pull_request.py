"""pull_request opened/synchronize/reopened (and labeled: a maintainer's approval label) → run the head's
tests and review with suggestions; `/repairbot suggest` review comments → a suggestion in that thread.

Whether the head's code may run at all (its author's permission, or a maintainer's approval) is decided by the
job; see `repairbot.jobs.runner`."""

from __future__ import annotations

from repairbot.jobs.store import NewRun
from webhooks.handlers.base import (
    Decision,
    Malformed,
    Payload,
    from_bot,
    has_command,
    ignore,
    installation_id,
    login,
    number,
    obj,
    queue,
    repo_name,
    sender,
    sha,
)

EVENTS = ("pull_request", "pull_request_review_comment")


def handle(event: str, payload: Payload) -> Decision:
    action = payload.get("action")
    pr = obj(payload, "pull_request")
    repo = repo_name(payload)
    if event == "pull_request":
        if action not in ("opened", "synchronize", "reopened", "labeled"):
            return ignore(f"pull_request.{action}")
        head = obj(pr, "head")
        if str(head.get("ref", "")).startswith("repairbot/") and obj(head, "repo").get("full_name") == repo:
            return ignore("repairbot's own pull request")
        if action == "labeled" and not isinstance(obj(payload, "label").get("name"), str):
            raise Malformed("pull_request.labeled without label.name")
        login(pr, "user", "login")
        sha(pr, "base", "sha")
        trigger = "pull_request"
    else:
        comment = obj(payload, "comment")
        if (
            action != "created"
            or from_bot(payload)
            or not has_command(comment.get("body"), "/repairbot suggest")
        ):
            return ignore("no command")
        login(comment, "user", "login")
        number(comment, "id")
        trigger = "review_command"
    num = number(pr, "number")
    return queue(
        NewRun(
            event=event,
            trigger=trigger,
            repo=repo,
            installation_id=installation_id(payload),
            lock_key=f"{repo}:pr:{num}",
            payload=payload,
            number=num,
            sha=sha(pr, "head", "sha"),
            author=sender(payload),
        )
    )
