"""issues opened/labeled and `/repairbot fix` issue comments → reproduce-and-repair jobs."""

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

EVENTS = ("issues", "issue_comment")


def handle(event: str, payload: Payload) -> Decision:
    action = payload.get("action")
    issue = payload.get("issue") or {}
    if event == "issues":
        if action not in ("opened", "labeled"):
            return ignore(f"issues.{action}")
        if issue.get("pull_request"):
            return ignore("a pull request")
        trigger = "issue"
    else:
        comment = payload.get("comment") or {}
        if action != "created" or from_bot(payload) or not has_command(comment.get("body"), "/repairbot fix"):
            return ignore("no command")
        if comment.get("author_association") not in COMMANDERS:
            return ignore("command from a user without write access")
        trigger = "issue_command"
    repo = repo_name(payload)
    number = int(issue["number"])
    return queue(
        NewRun(
            event=event,
            trigger=trigger,
            repo=repo,
            installation_id=installation_id(payload),
            lock_key=f"{repo}:issue:{number}",
            payload=payload,
            number=number,
        )
    )
