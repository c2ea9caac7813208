"""PyGithub over HTTP against the local GitHub API server: App auth, retries, idempotent writes, git."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest

from repairbot.config import Settings
from repairbot.github import git, publish
from repairbot.github.app import GitHubApp
from tests.support.github_server import APP_ID, GitHubServer, commit_push, init_remote, run_git

REPO = "octo/widgets"


@pytest.fixture
def remote(tmp_path: Path, github: GitHubServer) -> tuple[Path, Path, str]:
    bare, clone, sha = init_remote(tmp_path, {"lib.py": "x = 1\n"})
    github.add_repo(REPO, bare)
    return bare, clone, sha


def test_app_jwt_and_installation_token(
    github: GitHubServer,
    remote: tuple[Path, Path, str],
    make_settings: Callable[..., Settings],
    app_key: tuple[str, str],
) -> None:
    app = GitHubApp(make_settings())
    inst = app.installation_for_repo(REPO)
    assert inst.id == 1
    repo = inst.github.get_repo(REPO)
    assert repo.full_name == REPO and repo.default_branch == "main"

    lookup = github.calls("GET", rf"^/repos/{REPO}/installation$")[0]
    claims = jwt.decode(lookup.headers["authorization"][7:], app_key[1], algorithms=["RS256"])
    assert claims["iss"] == APP_ID
    assert len(github.calls("POST", r"^/app/installations/1/access_tokens$")) == 1
    repo_call = github.calls("GET", rf"^/repos/{REPO}$")[0]
    assert repo_call.headers["authorization"] == f"token {inst.token}"


def test_installation_token_is_refreshed_before_it_expires(
    github: GitHubServer, remote: tuple[Path, Path, str], make_settings: Callable[..., Settings]
) -> None:
    github.token_ttl_s = 25  # PyGithub refreshes tokens that expire within 20 s
    inst = GitHubApp(make_settings()).installation(1)
    first = inst.token
    assert inst.github.get_repo(REPO).full_name == REPO
    time.sleep(5.5)
    second = inst.token
    assert second != first
    assert inst.github.get_repo(REPO).full_name == REPO  # the old token would now be rejected... or soon
    assert len(github.calls("POST", r"access_tokens$")) == 2


def test_5xx_is_retried(
    github: GitHubServer, remote: tuple[Path, Path, str], make_settings: Callable[..., Settings]
) -> None:
    inst = GitHubApp(make_settings()).installation(1)
    github.inject("GET", rf"^/repos/{REPO}$", 502, times=2)
    assert inst.github.get_repo(REPO).full_name == REPO
    assert [c.status for c in github.calls("GET", rf"^/repos/{REPO}$")] == [502, 502, 200]


def test_secondary_rate_limit_waits_for_retry_after(
    github: GitHubServer, remote: tuple[Path, Path, str], make_settings: Callable[..., Settings]
) -> None:
    inst = GitHubApp(make_settings()).installation(1)
    github.inject_secondary_rate_limit("GET", rf"^/repos/{REPO}$", retry_after=1)
    started = time.monotonic()
    assert inst.github.get_repo(REPO).full_name == REPO
    assert time.monotonic() - started >= 0.95
    assert [c.status for c in github.calls("GET", rf"^/repos/{REPO}$")] == [403, 200]


def test_pull_request_is_opened_once_and_then_updated(
    github: GitHubServer, remote: tuple[Path, Path, str], make_settings: Callable[..., Settings]
) -> None:
    _bare, clone, _ = remote
    run_git(clone, "checkout", "--quiet", "-b", "repairbot/abc")
    commit_push(clone, {"lib.py": "x = 2\n"}, "repairbot/abc", "fix")
    repo = GitHubApp(make_settings()).installation(1).github.get_repo(REPO)
    pr, created = publish.open_or_update_pr(repo, branch="repairbot/abc", base="main", title="t1", body="b1")
    assert created and pr.number == 1
    again, created_again = publish.open_or_update_pr(
        repo, branch="repairbot/abc", base="main", title="t2", body="b2"
    )
    assert not created_again and again.number == 1
    assert len(github.pulls(REPO)) == 1 and github.pulls(REPO)[0]["title"] == "t2"


def test_422_pull_request_already_exists_finds_and_updates(
    github: GitHubServer, remote: tuple[Path, Path, str], make_settings: Callable[..., Settings]
) -> None:
    _bare, clone, _ = remote
    run_git(clone, "checkout", "--quiet", "-b", "repairbot/race")
    sha = commit_push(clone, {"lib.py": "x = 3\n"}, "repairbot/race", "fix")
    repo = GitHubApp(make_settings()).installation(1).github.get_repo(REPO)
    # Another worker opened it between our lookup and our create: the listing misses it, creating answers 422.
    github.inject("GET", rf"^/repos/{REPO}/pulls$", 200, times=1, body=[])
    github.add_pull(REPO, 7, "repairbot/race", sha, "main", sha, user="repairbot[bot]")
    pr, created = publish.open_or_update_pr(repo, branch="repairbot/race", base="main", title="new", body="b")
    assert not created and pr.number == 7
    assert [c.status for c in github.calls("POST", rf"^/repos/{REPO}/pulls$")] == [422]
    assert github.pulls(REPO)[0]["title"] == "new"


def test_injected_422_on_create_is_handled(
    github: GitHubServer, remote: tuple[Path, Path, str], make_settings: Callable[..., Settings]
) -> None:
    _bare, clone, _ = remote
    run_git(clone, "checkout", "--quiet", "-b", "repairbot/inj")
    sha = commit_push(clone, {"lib.py": "x = 4\n"}, "repairbot/inj", "fix")
    repo = GitHubApp(make_settings()).installation(1).github.get_repo(REPO)
    github.inject_pr_exists(REPO)
    github.inject("GET", rf"^/repos/{REPO}/pulls$", 200, times=1, body=[])
    with pytest.raises(Exception, match="already exists"):
        # nothing to find afterwards: the error is not swallowed
        publish.open_or_update_pr(repo, branch="repairbot/none", base="main", title="t", body="b")
    assert sha


def test_git_uses_the_token_without_persisting_it(
    tmp_path: Path, github: GitHubServer, remote: tuple[Path, Path, str]
) -> None:
    bare, _clone, sha = remote
    token = "ghs_supersecret_token_value"
    work = git.checkout(str(bare), tmp_path / "work", sha, token)
    assert (work / "lib.py").read_text() == "x = 1\n"
    diff = "--- a/lib.py\n+++ b/lib.py\n@@ -1 +1 @@\n-x = 1\n+x = 10\n"
    paths = git.apply_diff(work, diff)
    assert paths == ["lib.py"]
    new_sha = git.commit(work, paths, "fix x", "repairbot[bot]", "1+repairbot[bot]@users.noreply.github.com")
    git.push(work, "repairbot/t", token)
    assert run_git(bare, "rev-parse", "refs/heads/repairbot/t").strip() == new_sha
    assert run_git(bare, "log", "-1", "--format=%an <%ae>", new_sha).strip().startswith("repairbot[bot] <")
    for path in work.joinpath(".git").rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    assert git.remote_sha(str(bare), "repairbot/t", token) == new_sha


def test_git_error_message_hides_the_token(tmp_path: Path) -> None:
    with pytest.raises(git.GitError) as info:
        git.checkout(str(tmp_path / "missing.git"), tmp_path / "w", "0" * 40, "ghs_hidden")
    assert "ghs_hidden" not in str(info.value)
