"""Writes to GitHub through PyGithub, each idempotent: a retried job finds what an earlier attempt posted.

Pull requests are found by head branch (and a 422 "A pull request already exists" from a race is answered by
finding it); reviews, comments and replies carry a hidden marker that is looked for before posting again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from github import GithubException
from github.CheckRun import CheckRun
from github.PullRequest import PullRequest
from github.PullRequestComment import PullRequestComment
from github.PullRequestReview import PullRequestReview
from github.Repository import Repository

from repairbot.config import REPO_CONFIG_PATH, RepoConfig
from repairbot.github import messages
from repairbot.github.suggest import Suggestion

CHECK_NAME = "repairbot"
BRANCH_PREFIX = "repairbot/"


def push_fingerprint(branch: str, failing_tests: Sequence[str]) -> str:
    """Names repairbot's branch (`repairbot/<fingerprint>`) for a repair of `branch`: the same failures on the
    same branch give the same branch, so a later run updates its pull request instead of opening another."""
    return hashlib.sha1("\n".join([branch, *sorted(failing_tests)]).encode()).hexdigest()[:12]


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


def pr_limit(repo: Repository, cfg: RepoConfig, branch: str, recorded: int = 0) -> str | None:
    """Why a new pull request from `branch` must not be opened now (`max_open_prs`, `prs_per_hour` of
    `.github/repairbot.yml`), or None. `recorded`: pull requests opened in the last hour by this deployment's
    own records; GitHub's list also has what another server, or a workflow run, opened."""
    if find_open_pr(repo, branch) is not None:
        return None  # updating an existing PR is always allowed
    if open_repairbot_prs(repo) >= cfg.max_open_prs:
        return f"{cfg.max_open_prs} repairbot pull requests are already open (max_open_prs)"
    opened = recorded
    if opened < cfg.prs_per_hour:
        opened = max(opened, repairbot_prs_created_since(repo, time.time() - 3600))
    if opened >= cfg.prs_per_hour:
        return f"{cfg.prs_per_hour} pull requests were opened in the last hour (prs_per_hour)"
    return None


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
    return _comment_once(issue.get_comments(), issue.create_comment, body, mark)


def comment_commit(repo: Repository, sha: str, body: str, mark: str) -> str:
    """A comment on a commit, once per marker; returns its html_url."""
    commit = repo.get_commit(sha)
    return _comment_once(commit.get_comments(), commit.create_comment, body, mark)


def _comment_once(existing: Any, create: Any, body: str, mark: str) -> str:
    """A redelivered event finds its comment by the marker instead of posting it again."""
    for comment in existing:
        if mark in (comment.body or ""):
            return str(comment.html_url)
    return str(create(f"{body}\n\n{mark}").html_url)


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


# -- one review per pull request, kept current -------------------------------------------------------------
#
# GitHub has no call that adds comments to a submitted review; it has calls that edit a review's body and
# edit or delete its comments, and it moves a comment down or up with later pushes (or marks it outdated when
# its own lines change). So the review's body is edited on every run, a suggestion that still sits where
# the new one goes is edited in place, earlier suggestions that no longer apply are marked outdated, and only
# a suggestion on new lines is posted anew (GitHub files such a comment under an empty-bodied review).


@dataclass(frozen=True, slots=True)
class ReviewSync:
    url: str
    created: bool  # a new review (False: the existing one was updated)
    kept: int = 0  # suggestions updated in place
    posted: int = 0  # suggestions posted as new comments
    outdated: int = 0  # earlier suggestions marked outdated


def review_marks(key: str) -> tuple[str, str, str]:
    """(the review's marker, a live suggestion's, an outdated suggestion's) for the review named `key`."""
    return (
        messages.marker("pr-review", key),
        messages.marker("suggestion", key),
        messages.marker("outdated-suggestion", key),
    )


def find_review(pr: PullRequest, key: str) -> PullRequestReview | None:
    mark = review_marks(key)[0]
    return next((r for r in pr.get_reviews() if mark in (r.body or "")), None)


def sync_review(
    pr: PullRequest, head_sha: str, body: str, suggestions: Sequence[Suggestion], key: str
) -> ReviewSync:
    """Post the review named `key`, or bring the existing one up to date with `head_sha` (see above)."""
    _, live_mark, old_mark = review_marks(key)
    commit = pr.base.repo.get_commit(head_sha)
    marked = [replace(s, body=f"{s.body}\n\n{live_mark}") for s in suggestions]
    review = find_review(pr, key)
    if review is None:
        comments = [s.as_review_comment() for s in marked]
        created = pr.create_review(commit=commit, body=body, event="COMMENT", comments=comments)  # type: ignore[arg-type]
        return ReviewSync(str(created.html_url), True, posted=len(marked))
    review.edit(body)
    waiting = list(marked)
    kept = outdated = 0
    for comment in _live_suggestions(pr, live_mark):
        match = next((s for s in waiting if _same_place(comment, s)), None)
        if match is not None:
            waiting.remove(match)
            kept += 1
            if comment.body != match.body:
                comment.edit(match.body)
        else:
            reason = "superseded by the suggestions for this commit"
            comment.edit(messages.outdated_comment(comment.body, head_sha, reason, old_mark))
            outdated += 1
    for s in waiting:
        if s.start_line is None:
            pr.create_review_comment(s.body, commit, s.path, line=s.line, side="RIGHT")
        else:
            pr.create_review_comment(
                s.body, commit, s.path, line=s.line, side="RIGHT", start_line=s.start_line, start_side="RIGHT"
            )
    return ReviewSync(str(review.html_url), False, kept, len(waiting), outdated)


def retire_review(pr: PullRequest, head_sha: str, body: str, key: str, reason: str) -> ReviewSync | None:
    """The tests pass now (or no repair applies): the review says so and its suggestions are marked outdated.
    None when there is no review to update."""
    review = find_review(pr, key)
    if review is None:
        return None
    _, live_mark, old_mark = review_marks(key)
    review.edit(body)
    outdated = 0
    for comment in _live_suggestions(pr, live_mark):
        comment.edit(messages.outdated_comment(comment.body, head_sha, reason, old_mark))
        outdated += 1
    return ReviewSync(str(review.html_url), False, outdated=outdated)


def _live_suggestions(pr: PullRequest, live_mark: str) -> list[PullRequestComment]:
    return [c for c in pr.get_review_comments() if live_mark in (c.body or "")]


def _same_place(comment: PullRequestComment, s: Suggestion) -> bool:
    # `line` is where GitHub shows the comment on the current head; None when its lines changed (outdated).
    return (
        comment.path == s.path
        and comment.line is not None
        and comment.line == s.line
        and (comment.start_line or None) == s.start_line
    )
