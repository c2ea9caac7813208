"""issues opened/labeled and `/repairbot fix` comments → reproduce-and-repair jobs (on a pull request, the
comment is a maintainer's approval to run the pull request's code).

Who may make repairbot run code is decided by the job (GitHub's collaborator permission), not here: the
payload's `author_association` says nothing reliable about write access."""

from __future__ import annotations

from repairbot.jobs.store import NewRun
from webhooks.handlers.base import (
    Decision,
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
)

EVENTS = ("issues", "issue_comment")


def handle(event: str, payload: Payload) -> Decision:
    action = payload.get("action")
    issue = obj(payload, "issue")
    if event == "issues":
        if action not in ("opened", "labeled"):
            return ignore(f"issues.{action}")
        if issue.get("pull_request"):
            return ignore("a pull request")
        login(issue, "user", "login")  # the author, whose permission decides whether its code may run
        trigger = "issue"
        kind = "issue"
    else:
        comment = obj(payload, "comment")
        if action != "created" or from_bot(payload) or not has_command(comment.get("body"), "/repairbot fix"):
            return ignore("no command")
        login(comment, "user", "login")
        trigger = "issue_command"
        kind = "pr" if issue.get("pull_request") else "issue"
    repo = repo_name(payload)
    num = number(issue, "number")
    return queue(
        NewRun(
            event=event,
            trigger=trigger,
            repo=repo,
            installation_id=installation_id(payload),
            lock_key=f"{repo}:{kind}:{num}",
            payload=payload,
            number=num,
            author=sender(payload),
        )
    )
