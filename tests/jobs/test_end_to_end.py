"""Webhook → queue → real engine → GitHub (local API server) → git (local bare remote), end to end.

The engine is repairbot.pipeline.repair, run with the "local" sandbox here (the Docker variant is marked
`docker` and needs a running engine).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from repairbot.config import Settings
from repairbot.jobs.queue import Queue, build_queue, recover
from repairbot.jobs.store import RunRecord
from tests.support.github_server import (
    GitHubServer,
    LiveServer,
    commit_push,
    drain,
    init_remote,
    payload,
    post_webhook,
    run_git,
    settings_env,
)
from tests.support.servers import on_both_backends
from webhooks.app import create_app

REPO = "octo/widgets"
BUGGY = {
    "lib.py": "def within(x, hi):\n    return x < hi\n",
    "test_lib.py": "from lib import within\n\n\ndef test_edge():\n    assert within(3, 3)\n\n\n"
    "def test_inside():\n    assert within(1, 3)\n\n\ndef test_outside():\n    assert not within(5, 3)\n",
}
FIXED_LINE = "    return x <= hi\n"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@dataclass
class World:
    settings: Settings
    github: GitHubServer
    bare: Path
    clone: Path
    sha: str
    url: str
    queue: Queue
    tmp: Path

    def post(self, event: str, body: dict[str, Any], delivery: str) -> httpx.Response:
        return post_webhook(self.url, event, body, delivery)

    def push_payload(
        self, sha: str | None = None, branch: str = "main", before: str = "0" * 39 + "1"
    ) -> dict[str, Any]:
        """A push event; another push of the same commit differs in `before` (the same body twice is one
        delivery: a replay)."""
        return payload(
            "push/payload.json",
            REPO,
            self.bare,
            ref=f"refs/heads/{branch}",
            after=sha or self.sha,
            before=before,
            deleted=False,
            commits=[{"added": [], "modified": ["lib.py"], "removed": []}],
        )

    def drain(self, timeout: float = 240) -> None:
        drain(self.queue.huey, timeout)

    def run(self, job: str) -> RunRecord:
        record = self.queue.store.get_run(job)
        assert record is not None
        return record


def _world(
    tmp_path: Path, github: GitHubServer, settings: Settings, files: dict[str, str]
) -> Iterator[World]:
    bare, clone, sha = init_remote(tmp_path / "git", files)
    github.add_repo(REPO, bare)
    # The recorded payloads' user is a maintainer here; outsiders are the subject of tests/security.
    github.set_role(REPO, "Codertocat", "maintain")
    queue = build_queue(settings)
    with LiveServer(create_app(settings, queue)) as live:
        yield World(settings, github, bare, clone, sha, live.url, queue, tmp_path)


@pytest.fixture
def world(tmp_path: Path, github: GitHubServer, make_settings: Callable[..., Settings]) -> Iterator[World]:
    yield from _world(tmp_path, github, make_settings(), BUGGY)


def _assert_pr_branch_fixed(w: World, pr: dict[str, Any]) -> None:
    text = run_git(w.bare, "show", f"refs/heads/{pr['head']['ref']}:lib.py")
    assert FIXED_LINE in text
    author = run_git(w.bare, "log", "-1", "--format=%an", f"refs/heads/{pr['head']['ref']}").strip()
    assert author == "repairbot[bot]"


def test_push_with_failing_tests_ends_in_a_pr_and_redelivery_opens_nothing(world: World) -> None:
    first = world.post("push", world.push_payload(), "push-1")
    assert first.status_code == 202
    world.drain()
    run = world.run(first.json()["job"])
    assert (run.status, run.outcome) == ("succeeded", "pr_opened"), run.error

    pulls = world.github.pulls(REPO)
    assert len(pulls) == 1
    pr = pulls[0]
    assert "**Confidence: high**" in pr["body"]
    assert pr["head"]["ref"].startswith("repairbot/") and pr["base"]["ref"] == "main"
    body = pr["body"]
    for needle in (
        "### What failed",
        "test_lib.py::test_edge",
        "### Where the fault was localized",
        "`lib.py` | 2",
        "### The patch",
        "+    return x <= hi",
        "Whole suite after the patch: **green**",
        "### Tests updated or added",
        "**The code was judged wrong**",
    ):
        assert needle in body, needle
    _assert_pr_branch_fixed(world, pr)
    assert run.pr_url == pr["html_url"] and run.patch and "x <= hi" in run.patch
    checks = list(world.github.state.check_runs.values())
    assert len(checks) == 1 and checks[0]["conclusion"] == "failure" and "#1" in checks[0]["output"]["title"]

    # GitHub redelivers the same delivery: nothing new happens.
    again = world.post("push", world.push_payload(), "push-1")
    assert again.json() == {"status": "duplicate"}
    # A new delivery of the same failure (e.g. a re-push): the existing PR is updated, not duplicated.
    other = world.post("push", world.push_payload(before="0" * 39 + "2"), "push-2")
    assert other.status_code == 202
    world.drain()
    assert world.run(other.json()["job"]).outcome == "pr_updated"
    assert len(world.github.pulls(REPO)) == 1
    assert len(world.github.calls("POST", rf"^/repos/{REPO}/pulls$")) == 1


def test_a_green_push_reports_success(
    tmp_path: Path, github: GitHubServer, make_settings: Callable[..., Settings]
) -> None:
    files = {**BUGGY, "lib.py": "def within(x, hi):\n    return x <= hi\n"}
    for w in _world(tmp_path, github, make_settings(), files):
        job = w.post("push", w.push_payload(), "green-1").json()["job"]
        w.drain()
        assert w.run(job).outcome == "suite_green"
        (check,) = github.state.check_runs.values()
        assert check["conclusion"] == "success"
        assert github.pulls(REPO) == []


def test_a_suspended_installation_runs_nothing_until_unsuspended(world: World) -> None:
    suspend = payload("installation/suspend.payload.json", REPO, world.bare)
    assert world.post("installation", suspend, "suspend-1").json()["status"] == "recorded"
    job = world.post("push", world.push_payload(), "push-s1").json()["job"]
    world.drain()
    assert (world.run(job).status, world.run(job).outcome) == ("skipped", "installation_suspended")
    assert world.github.pulls(REPO) == [] and not world.github.state.check_runs
    assert world.github.calls("POST", r"/access_tokens$") == []  # not even a token was asked for

    unsuspend = payload("installation/unsuspend.payload.json", REPO, world.bare)
    assert world.post("installation", unsuspend, "unsuspend-1").json()["status"] == "recorded"
    another_push = world.push_payload(before="0" * 39 + "2")
    again = world.post("push", another_push, "push-s2").json()["job"]
    world.drain()
    assert world.run(again).outcome == "pr_opened"


def test_push_to_an_unwatched_branch_is_skipped(world: World) -> None:
    run_git(world.clone, "checkout", "--quiet", "-b", "feature")
    sha = commit_push(world.clone, {"notes.txt": "x\n"}, "feature", "notes")
    job = world.post("push", world.push_payload(sha, "feature"), "feat-1").json()["job"]
    world.drain()
    assert (world.run(job).status, world.run(job).outcome) == ("skipped", "branch_not_watched")
    assert world.github.pulls(REPO) == [] and not world.github.state.check_runs


def test_invalid_repo_config_gets_a_clear_comment(world: World) -> None:
    sha = commit_push(
        world.clone, {".github/repairbot.yml": "budget: -5\ncolour: blue\n"}, "main", "configure repairbot"
    )
    job = world.post("push", world.push_payload(sha), "cfg-1").json()["job"]
    world.drain()
    run = world.run(job)
    assert (run.status, run.outcome) == ("failed", "config_error")
    (comment,) = world.github.state.commit_comments[REPO]
    assert ".github/repairbot.yml is invalid" in comment["body"]
    assert "`budget`" in comment["body"] and "unknown key `colour`" in comment["body"]
    assert world.github.pulls(REPO) == []


def test_repo_config_limits_open_prs(world: World) -> None:
    sha = commit_push(world.clone, {".github/repairbot.yml": "max_open_prs: 0\n"}, "main", "no PRs please")
    job = world.post("push", world.push_payload(sha), "lim-1").json()["job"]
    world.drain()
    assert world.run(job).outcome == "rate_limited"
    assert world.github.pulls(REPO) == []
    (check,) = world.github.state.check_runs.values()
    assert "max_open_prs" in check["output"]["summary"] and "x <= hi" in check["output"]["summary"]


# The only patches that make this test pass swallow the exception (`__exit__` returning True) or delete the
# `raise`: plausible, and exactly what the assessment rates low.
SWALLOW = {
    "lib.py": "class Guard:\n    def __enter__(self):\n        return self\n\n"
    "    def __exit__(self, *exc):\n        return False\n\n\n"
    "def risky():\n    with Guard():\n        raise ValueError('boom')\n    return 'done'\n",
    "test_lib.py": "from lib import risky\n\n\ndef test_risky():\n    assert risky() == 'done'\n",
}


def test_a_low_confidence_patch_is_a_commit_comment_not_a_pr(
    tmp_path: Path, github: GitHubServer, make_settings: Callable[..., Settings]
) -> None:
    for w in _world(tmp_path, github, make_settings(), SWALLOW):
        job = w.post("push", w.push_payload(), "low-1").json()["job"]
        w.drain()
        run = w.run(job)
        assert (run.status, run.outcome) == ("succeeded", "patch_commented"), run.error
        assert github.pulls(REPO) == []
        (comment,) = github.state.commit_comments[REPO]
        assert comment["commit_id"] == w.sha
        assert "**Confidence: low**" in comment["body"] and "min_confidence: high" in comment["body"]
        assert "```diff" in comment["body"] and "swallows exceptions" in comment["body"]
        (check,) = github.state.check_runs.values()
        assert (
            "confidence low" in check["output"]["title"] and "Confidence: low" in check["output"]["summary"]
        )
        # A redelivery finds the comment instead of posting it again.
        again = w.post("push", w.push_payload(), "low-2").json()["job"]
        w.drain()
        assert w.run(again).outcome == "patch_commented"
        assert len(github.state.commit_comments[REPO]) == 1


def test_min_confidence_low_opens_the_pr_with_its_confidence(
    tmp_path: Path, github: GitHubServer, make_settings: Callable[..., Settings]
) -> None:
    files = {**SWALLOW, ".github/repairbot.yml": "min_confidence: low\n"}
    for w in _world(tmp_path, github, make_settings(), files):
        job = w.post("push", w.push_payload(), "low-pr").json()["job"]
        w.drain()
        run = w.run(job)
        assert (run.status, run.outcome) == ("succeeded", "pr_opened"), run.error
        (pr,) = github.pulls(REPO)
        assert "### Confidence" in pr["body"] and "**Confidence: low**" in pr["body"]


def test_github_errors_are_retried_with_backoff(world: World) -> None:
    # More 500s than PyGithub's own retries (3): the job fails once and the queue retries it.
    world.github.inject("POST", rf"^/repos/{REPO}/pulls$", 500, times=4)
    job = world.post("push", world.push_payload(), "retry-1").json()["job"]
    world.drain()
    run = world.run(job)
    assert (run.status, run.outcome, run.attempts) == ("succeeded", "pr_opened", 2)
    assert len(world.github.pulls(REPO)) == 1


def test_a_failing_job_tells_the_user(
    tmp_path: Path, github: GitHubServer, make_settings: Callable[..., Settings]
) -> None:
    for w in _world(tmp_path, github, make_settings(engine="tests.jobs.engines:broken"), BUGGY):
        job = w.post("push", w.push_payload(), "boom-1").json()["job"]
        w.drain()
        run = w.run(job)
        assert run.status == "failed" and "engine exploded" in (run.error or "")
        (check,) = github.state.check_runs.values()
        assert check["conclusion"] == "failure" and "engine exploded" in check["output"]["summary"]


def test_issue_with_traceback_ends_in_a_pr_that_fixes_it(world: World) -> None:
    body = payload("issues/opened.payload.json", REPO, world.bare)
    body["issue"]["number"] = 3
    body["issue"]["labels"] = [{"name": "bug"}]
    body["issue"]["title"] = "within() rejects the upper bound"
    body["issue"]["body"] = (
        "Calling within(3, 3) returns False.\n\n```\nTraceback (most recent call last):\n"
        '  File "app.py", line 4, in <module>\n    check()\n'
        '  File "lib.py", line 2, in within\n    return x < hi\nAssertionError\n```\n'
    )
    world.github.add_issue(REPO, 3, body["issue"]["title"], body["issue"]["body"])
    job = world.post("issues", body, "issue-1").json()["job"]
    world.drain()
    run = world.run(job)
    assert (run.status, run.outcome) == ("succeeded", "pr_opened"), run.error
    (pr,) = world.github.pulls(REPO)
    assert pr["body"].startswith("Fixes #3")
    assert pr["head"]["ref"] == "repairbot/issue-3"
    _assert_pr_branch_fixed(world, pr)
    comments = world.github.state.issue_comments[(REPO, 3)]
    assert len(comments) == 1 and f"#{pr['number']}" in comments[0]["body"]


def test_issue_that_cannot_be_fixed_gets_a_comment_with_findings(
    tmp_path: Path, github: GitHubServer, make_settings: Callable[..., Settings]
) -> None:
    files = {**BUGGY, "lib.py": "def within(x, hi):\n    return x <= hi\n"}
    for w in _world(tmp_path, github, make_settings(), files):
        body = payload("issue_comment/created.payload.json", REPO, w.bare)
        body["issue"]["number"] = 9
        body["issue"]["body"] = (
            'Traceback (most recent call last):\n  File "lib.py", line 2, in within\nTypeError\n'
        )
        body["comment"]["body"] = "/repairbot fix"
        body["comment"]["author_association"] = "OWNER"
        github.add_issue(REPO, 9, "crash", body["issue"]["body"])
        job = w.post("issue_comment", body, "ic-1").json()["job"]
        w.drain()
        assert w.run(job).outcome == "not_fixed"
        (comment,) = github.state.issue_comments[(REPO, 9)]
        assert "could not produce a validated fix" in comment["body"]
        assert "`lib.py` line 2 in `within`" in comment["body"]
        assert github.pulls(REPO) == []


def _pull_request(w: World) -> tuple[dict[str, Any], str, str]:
    """main is correct; a contributor's PR introduces the bug."""
    base_sha = commit_push(
        w.clone, {"lib.py": "def within(x, hi):\n    return x <= hi\n"}, "main", "fix main"
    )
    run_git(w.clone, "checkout", "--quiet", "-b", "feature")
    head_sha = commit_push(
        w.clone, {"lib.py": "def within(x, hi):\n    # strict bound\n    return x < hi\n"}, "feature", "tweak"
    )
    run_git(w.bare, "update-ref", "refs/pull/5/head", head_sha)
    w.github.add_pull(REPO, 5, "feature", head_sha, "main", base_sha)
    body = payload("pull_request/opened.payload.json", REPO, w.bare, number=5)
    body["pull_request"].update(number=5)
    body["pull_request"]["head"].update(sha=head_sha, ref="feature")
    body["pull_request"]["head"]["repo"] = {"full_name": "contributor/widgets"}
    body["pull_request"]["base"].update(sha=base_sha, ref="main")
    return body, head_sha, base_sha


def test_pull_request_that_breaks_tests_gets_one_review_with_suggestions(world: World) -> None:
    body, head_sha, _ = _pull_request(world)
    job = world.post("pull_request", body, "pr-1").json()["job"]
    world.drain()
    run = world.run(job)
    assert (run.status, run.outcome) == ("succeeded", "review_posted"), run.error
    (review,) = world.github.state.reviews[(REPO, 5)]
    assert review["commit_id"] == head_sha and review["state"] == "COMMENTED"
    (comment,) = world.github.review_comments(REPO, 5)
    assert comment["pull_request_review_id"] == review["id"]
    assert comment["path"] == "lib.py" and comment["line"] == 3 and comment["side"] == "RIGHT"
    assert "```suggestion\n    return x <= hi\n```" in comment["body"]
    # never pushed to the contributor's branch, no PR of its own
    assert run_git(world.bare, "rev-parse", "refs/heads/feature").strip() == head_sha
    assert world.github.pulls(REPO)[0]["number"] == 5 and len(world.github.pulls(REPO)) == 1

    # the same body again (under any delivery id) is a duplicate; another event for the same head (here a
    # reopening) runs, and posts no second review
    assert world.post("pull_request", body, "pr-2").json() == {"status": "duplicate"}
    again = world.post("pull_request", {**body, "action": "reopened"}, "pr-3").json()["job"]
    world.drain()
    assert world.run(again).status == "succeeded"
    assert len(world.github.state.reviews[(REPO, 5)]) == 1


def test_review_comment_command_gets_a_suggestion_in_the_thread(world: World) -> None:
    body, _head_sha, _ = _pull_request(world)
    root = world.github.add_review_comment(REPO, 5, "/repairbot suggest", "lib.py", 3)
    event = payload("pull_request_review_comment/created.payload.json", REPO, world.bare)
    event["pull_request"] = body["pull_request"]
    event["comment"].update(id=root["id"], body="/repairbot suggest", path="lib.py", line=3, start_line=None)
    event["comment"]["author_association"] = "COLLABORATOR"
    job = world.post("pull_request_review_comment", event, "rc-1").json()["job"]
    world.drain()
    run = world.run(job)
    assert (run.status, run.outcome) == ("succeeded", "replied"), run.error
    replies = [c for c in world.github.state.review_comments[(REPO, 5)] if c["in_reply_to_id"] == root["id"]]
    assert len(replies) == 1
    assert "```suggestion\n    return x <= hi\n```" in replies[0]["body"]


def test_a_retried_job_after_a_crash_updates_the_same_pr(world: World) -> None:
    """State a worker killed right after opening the PR leaves: the run is 'running' with a dead lease."""
    job = world.post("push", world.push_payload(), "crash-1").json()["job"]
    world.drain()
    assert world.run(job).outcome == "pr_opened"
    store = world.queue.store
    with store._tx() as cur:
        cur.execute(
            "UPDATE runs SET status = 'running', lease_until = 0, outcome = NULL WHERE id = ?", (job,)
        )
    assert recover(world.queue) == [job]
    world.drain()
    assert world.run(job).outcome == "pr_updated"
    assert len(world.github.pulls(REPO)) == 1


def _start_worker(settings: Settings, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`repairbot worker` in its own process (group), configured through the environment as deployed."""
    env = {**os.environ, **settings_env(settings), "REPAIRBOT_TEST_ENGINE_DELAY": "4", **env}
    return subprocess.Popen(
        [sys.executable, "-m", "repairbot", "worker", "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop_workers(*workers: subprocess.Popen[bytes]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait(20)


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@on_both_backends
def test_a_worker_killed_mid_job_loses_nothing_and_opens_no_duplicate(
    tmp_path: Path,
    github: GitHubServer,
    make_settings: Callable[..., Settings],
    backends: dict[str, str],
) -> None:
    settings = make_settings(engine="tests.jobs.engines:slow", job_lease_s=3.0, **backends)
    log = tmp_path / "worker.log"
    for w in _world(tmp_path, github, settings, BUGGY):
        job = w.post("push", w.push_payload(), "kill-1").json()["job"]

        def status(w: World = w, job: str = job) -> str:
            return w.run(job).status

        worker = _start_worker(settings, log)
        try:
            _wait(lambda: status() == "running", 60, "the worker to take the job")
            time.sleep(1.0)
            os.killpg(worker.pid, signal.SIGKILL)  # mid-job: the engine is sleeping
            worker.wait(10)
            assert w.run(job).status == "running" and github.pulls(REPO) == []
            assert w.queue.pending() == 0  # the task left the queue with the dead worker; the record has it
            worker = _start_worker(settings, log, REPAIRBOT_TEST_ENGINE_DELAY="0")
            _wait(lambda: status() in ("succeeded", "failed"), 180, "the job to finish after recovery")
        finally:
            _stop_workers(worker)
        run = w.run(job)
        assert (run.status, run.outcome) == ("succeeded", "pr_opened"), (run.error, log.read_text()[-3000:])
        assert run.attempts == 2
        assert len(github.pulls(REPO)) == 1
        assert len(github.calls("POST", rf"^/repos/{REPO}/pulls$")) == 1


def test_two_workers_share_a_redis_queue_and_postgres_records_one_job_per_repo_at_a_time(
    tmp_path: Path,
    github: GitHubServer,
    make_settings: Callable[..., Settings],
    redis_url: str,
    postgres_url: str,
) -> None:
    """The scaled-out deployment: the webhook server enqueues on Redis, two `repairbot worker` processes
    consume it and share run records and locks in PostgreSQL. Two deliveries of the same failing push land
    on both workers at once; the repository's lock makes them run one after the other, and the second
    updates the first's pull request: exactly one PR."""
    settings = make_settings(engine="tests.jobs.engines:slow", queue_url=redis_url, database_url=postgres_url)
    engine_log = tmp_path / "engine.jsonl"
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    for w in _world(tmp_path, github, settings, BUGGY):
        env = {"REPAIRBOT_TEST_ENGINE_DELAY": "0", "REPAIRBOT_TEST_ENGINE_LOG": str(engine_log)}
        workers = [_start_worker(settings, log, **env) for log in logs]
        try:
            _wait(
                lambda: all("consumer started" in log.read_text() for log in logs),
                60,
                "both workers to start consuming",
            )
            jobs = [
                w.post("push", w.push_payload(before=f"{i:040x}"), f"twice-{i}").json()["job"] for i in (1, 2)
            ]

            def done(w: World = w, jobs: list[str] = jobs) -> bool:
                return all(w.run(job).status in ("succeeded", "failed") for job in jobs)

            _wait(done, 180, "both jobs to finish")
        finally:
            _stop_workers(*workers)
        text = "\n".join(log.read_text() for log in logs)
        runs = [w.run(job) for job in jobs]
        assert sorted((r.status, r.outcome) for r in runs) == [
            ("succeeded", "pr_opened"),
            ("succeeded", "pr_updated"),
        ], ([r.error for r in runs], text[-3000:])
        assert len(github.pulls(REPO)) == 1
        assert len(github.calls("POST", rf"^/repos/{REPO}/pulls$")) == 1
        # Both workers took a job from the queue; the one that found the repository locked waited.
        for log in logs:
            assert f"run {jobs[0]}" in log.read_text() or f"run {jobs[1]}" in log.read_text()
        assert f"waits for {REPO}:branch:main" in text
        first, second = sorted(
            (json.loads(line) for line in engine_log.read_text().splitlines()), key=lambda r: r["start"]
        )
        assert first["end"] <= second["start"], "two jobs on one repository ran at the same time"


def _docker_ok() -> bool:
    try:
        import docker

        return bool(docker.from_env().ping())
    except Exception:
        return False


@pytest.mark.docker
@pytest.mark.skipif(not _docker_ok(), reason="no Docker engine reachable (docker.from_env().ping() failed)")
def test_push_end_to_end_in_the_docker_sandbox(
    tmp_path: Path, github: GitHubServer, make_settings: Callable[..., Settings]
) -> None:
    for w in _world(tmp_path, github, make_settings(sandbox="docker"), BUGGY):
        job = w.post("push", w.push_payload(), "docker-1").json()["job"]
        w.drain()
        run = w.run(job)
        assert (run.status, run.outcome) == ("succeeded", "pr_opened"), run.error
        _assert_pr_branch_fixed(w, github.pulls(REPO)[0])
