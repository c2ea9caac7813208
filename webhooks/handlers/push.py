"""push → a job that runs the suite at the pushed commit and proposes a repair (branch filter in the job).

Only users with write access can push to a repository, so a push needs no further permission check."""

from __future__ import annotations

from repairbot.jobs.store import NewRun
from webhooks.handlers.base import Decision, Payload, ignore, installation_id, queue, repo_name, sender, sha

EVENTS = ("push",)
ZERO = "0" * 40


def handle(event: str, payload: Payload) -> Decision:
    ref = payload.get("ref")
    if not isinstance(ref, str) or not ref.startswith("refs/heads/"):
        return ignore("not a branch")
    if payload.get("deleted") or payload.get("after") in (None, ZERO):
        return ignore("branch deleted")
    branch = ref.removeprefix("refs/heads/")
    if branch.startswith("repairbot/"):
        return ignore("repairbot's own branch")
    repo = repo_name(payload)
    return queue(
        NewRun(
            event=event,
            trigger="push",
            repo=repo,
            installation_id=installation_id(payload),
            lock_key=f"{repo}:branch:{branch}",
            payload=payload,
            sha=sha(payload, "after"),
            author=sender(payload),
        )
    )
