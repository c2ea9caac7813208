"""`prs_per_hour` counts what GitHub knows repairbot opened, not only this database's records
(repairbot/jobs/triggers.py, repairbot/github/publish.py): PyGithub against the local GitHub API server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from github.Repository import Repository

from repairbot.config import RepoConfig, Settings
from repairbot.github import publish
from repairbot.github.app import GitHubApp
from repairbot.jobs import triggers
from repairbot.jobs.store import NewRun, Store
from tests.jobs.engines import broken
from tests.support.github_server import GitHubServer, init_remote

REPO = "octo/widgets"
PULLS = rf"^/repos/{REPO}/pulls$"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def repo(tmp_path: Path, github: GitHubServer, settings: Settings) -> Repository:
    """octo/widgets with a history of pull requests: repairbot's and a person's, recent and old, open and
    closed, more than one page of them (GitHub pages by 30)."""
    bare, _clone, sha = init_remote(tmp_path / "git", {"lib.py": "x = 1\n"})
    github.add_repo(REPO, bare)
    now = datetime.now(UTC)

    def pull(number: int, branch: str, age: timedelta, state: str) -> None:
        github.add_pull(REPO, number, branch, sha, "main", sha, "repairbot[bot]", now - age, state)

    for n in range(1, 41):  # last week's repairbot PRs, all closed
        pull(n, f"repairbot/old{n}", timedelta(days=7, minutes=n), "closed")
    pull(41, "repairbot/hour-ago", timedelta(minutes=61), "closed")
    pull(42, "repairbot/merged", timedelta(minutes=40), "closed")  # closed still counts: it was opened
    pull(43, "feature", timedelta(minutes=30), "open")  # not repairbot's
    pull(44, "repairbot/recent", timedelta(minutes=5), "open")
    return GitHubApp(settings).installation(1).github.get_repo(REPO)


def _context(settings: Settings, store: Store) -> triggers.Context:
    run = NewRun(event="push", trigger="push", repo=REPO, installation_id=1, lock_key="k", payload={})
    store.create_run(run)
    record = store.get_run(run.id)
    assert record is not None
    return triggers.Context(settings, store, GitHubApp(settings), broken, record, lambda _m: None)


def test_github_count_reads_only_the_recent_pages(repo: Repository, github: GitHubServer) -> None:
    since = datetime.now(UTC).timestamp() - 3600
    assert publish.repairbot_prs_created_since(repo, since) == 2
    (listing,) = github.calls("GET", PULLS)  # 44 PRs, two pages: the first already reaches past the hour
    assert listing.query["state"] == "all" and listing.query["direction"] == "desc"
    # A window reaching last week pages on: 40 old, the one just over an hour old, and the 2 recent ones.
    assert publish.repairbot_prs_created_since(repo, since - 7 * 86400) == 43
    assert len(github.calls("GET", PULLS)) == 3


def test_a_wiped_database_does_not_bypass_the_hourly_limit(
    repo: Repository, settings: Settings, tmp_path: Path
) -> None:
    ctx = _context(settings, Store(f"sqlite:///{tmp_path / 'fresh.db'}"))  # no record of any PR
    limited = triggers._rate_limited(ctx, repo, RepoConfig(prs_per_hour=2), "repairbot/new")
    assert limited is not None and "prs_per_hour" in limited
    assert triggers._rate_limited(ctx, repo, RepoConfig(prs_per_hour=3), "repairbot/new") is None
    # Updating repairbot's open pull request is never limited.
    assert triggers._rate_limited(ctx, repo, RepoConfig(prs_per_hour=0), "repairbot/recent") is None


def test_the_larger_count_wins_and_the_database_is_asked_first(
    repo: Repository, settings: Settings, tmp_path: Path, github: GitHubServer
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'runs.db'}")
    ctx = _context(settings, store)
    for _ in range(3):  # this server opened three in the hour (GitHub shows two of repairbot's)
        run = NewRun(event="push", trigger="push", repo=REPO, installation_id=1, lock_key="k", payload={})
        store.create_run(run)
        store.finish(run.id, "succeeded", "pr_opened")
    before = len(github.calls("GET", PULLS))
    limited = triggers._rate_limited(ctx, repo, RepoConfig(prs_per_hour=3), "repairbot/new")
    assert limited is not None and "prs_per_hour" in limited
    all_listings = [c for c in github.calls("GET", PULLS)[before:] if c.query.get("state") == "all"]
    assert all_listings == []  # the records already reach the limit: no need to page through GitHub
