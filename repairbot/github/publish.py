"""Writes to GitHub through PyGithub, each idempotent: a retried job finds what an earlier attempt posted.

Pull requests are found by head branch (and a 422 "A pull request already exists" from a race is answered by
finding it); reviews, comments and replies carry a hidden marker that is looked for before posting again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from github import GithubException
from github.CheckRun import CheckRun
from github.PullRequest import PullRequest
from github.Repository import Repository

from repairbot.config import REPO_CONFIG_PATH

CHECK_NAME = "repairbot"
BRANCH_PREFIX = "repairbot/"


def read_config_text(repo: Repository, ref: str) -> str | None:
    """The repository's `.github/repairbot.yml` at `ref`, or None when there is none."""
    try:
        content = repo.get_contents(REPO_CONFIG_PATH, ref=ref)
    except GithubException as err:
        if err.status == 404:
            return None
        raise
    if isinstance(content, list):  # a directory of that name
        return "[]"
    return content.decoded_content.decode("utf-8", errors="replace")


def find_open_pr(repo: Repository, branch: str) -> PullRequest | None:
    for pr in repo.get_pulls(state="open", head=f"{repo.owner.login}:{branch}"):
        if pr.head.ref == branch:
            return pr
    return None


def open_repairbot_prs(repo: Repository) -> int:
    return sum(1 for pr in repo.get_pulls(state="open") if pr.head.ref.startswith(BRANCH_PREFIX))


def repairbot_prs_created_since(repo: Repository, since: float) -> int:
    """Pull requests from repairbot's branches created at or after `since` (epoch seconds), open or closed:
    what GitHub knows was opened, whichever server or database opened it. Newest first, so only the pages
    back to `since` are fetched, not the repository's whole history."""
    start = datetime.fromtimestamp(since, UTC)
    count = 0
    for pr in repo.get_pulls(state="all", sort="created", direction="desc"):
        if pr.created_at < start:
            break
        if pr.head.ref.startswith(BRANCH_PREFIX):
            count += 1
    return count


def open_or_update_pr(
    repo: Repository, *, branch: str, base: str, title: str, body: str
) -> tuple[PullRequest, bool]:
    """(pull request, created). An open PR from `branch` is updated rather than duplicated."""
    existing = find_open_pr(repo, branch)
    if existing is None:
        try:
            return repo.create_pull(
                base=base, head=branch, title=title, body=body, maintainer_can_modify=True
            ), True
        except GithubException as err:
            if err.status != 422 or "already exists" not in str(err.data):
                raise
            existing = find_open_pr(repo, branch)
            if existing is None:
                raise
    existing.edit(title=title, body=body)
    return existing, False


def has_marker(bodies: Any, mark: str) -> bool:
    return any(mark in (getattr(item, "body", None) or "") for item in bodies)


def comment_issue(repo: Repository, number: int, body: str, mark: str) -> str:
    """Post once per marker; returns the comment's html_url."""
    issue = repo.get_issue(number)
    for comment in issue.get_comments():
        if mark in (comment.body or ""):
            return str(comment.html_url)
    return str(issue.create_comment(f"{body}\n\n{mark}").html_url)


def post_review(
    pr: PullRequest, sha: str, body: str, comments: list[dict[str, object]], mark: str
) -> str | None:
    """ONE review per head commit; None when an earlier attempt already posted it."""
    if has_marker(pr.get_reviews(), mark):
        return None
    commit = pr.base.repo.get_commit(sha)
    review = pr.create_review(commit=commit, body=body, event="COMMENT", comments=comments)  # type: ignore[arg-type]
    return str(review.html_url)


def reply_in_thread(pr: PullRequest, comment_id: int, body: str, mark: str) -> str:
    for comment in pr.get_review_comments():
        if mark in (comment.body or ""):
            return str(comment.html_url)
    return str(pr.create_review_comment_reply(comment_id, f"{body}\n\n{mark}").html_url)


def start_check(repo: Repository, sha: str, run_id: str, existing: int | None) -> CheckRun:
    if existing is not None:
        return repo.get_check_run(existing)
    return repo.create_check_run(
        name=CHECK_NAME,
        head_sha=sha,
        status="in_progress",
        external_id=run_id,
        output={"title": "Running the tests", "summary": "repairbot is running the test suite."},
    )


def finish_check(check: CheckRun, conclusion: str, title: str, summary: str) -> None:
    check.edit(status="completed", conclusion=conclusion, output={"title": title[:250], "summary": summary})
