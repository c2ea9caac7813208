"""The attack suite's shared set-up: the App end to end (signed webhooks → queue → job → the local GitHub API
test server → git remotes), with the real engine recorded (`tests.security.engines`).

Layout of tests/security/ (one module per door, each attack a test that fails if the attack gets through):
- test_permissions.py: who may make repairbot run code (outsiders' pull requests and issues, commands by
  read/triage users, approvals, caps);
- test_webhook_replay.py, test_webhook_fuzz.py: the webhook (replays, stale bodies, a slow database, fuzzing);
- test_dashboard.py: the runs page behind a sign-in;
- test_containment.py: writes under their root, symlinks, the local sandbox's environment;
- dependency installs and the Action add their own modules here (test_installs.py, test_action.py), using
  `malicious.py` for hostile repository content and `app_world` for the App.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from repairbot.config import Settings
from repairbot.jobs.queue import Queue, build_queue
from repairbot.jobs.store import RunRecord
from tests.security.engines import LOG_ENV
from tests.security.malicious import BUGGY_LIB, TEST_LIB
from tests.support.github_server import (
    GitHubServer,
    LiveServer,
    commit_push,
    drain,
    init_remote,
    payload,
    post_webhook,
    run_git,
)
from webhooks.app import create_app

REPO = "octo/widgets"
MAINTAINER = "maint"  # write access through the maintain role
OUTSIDER = "mallory"  # read access only (any GitHub user on a public repository)


def docker_or_skip() -> None:
    """The App's attacks run in the Docker sandbox, as deployed; CI (REPAIRBOT_REQUIRE_DOCKER) needs it."""
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:
        if os.environ.get("REPAIRBOT_REQUIRE_DOCKER"):
            pytest.fail(f"CI requires the Docker engine: {exc}")
        pytest.skip(f"no Docker engine: {exc}")


@dataclass
class AppWorld:
    settings: Settings
    github: GitHubServer
    bare: Path
    clone: Path
    sha: str
    url: str
    queue: Queue
    engine_log: Path
    deliveries: int = 0

    def post(self, event: str, body: dict[str, Any]) -> httpx.Response:
        self.deliveries += 1
        return post_webhook(self.url, event, body, f"sec-{self.deliveries}")

    def event(self, relative: str, sender: str, **top: Any) -> dict[str, Any]:
        body = payload(relative, REPO, self.bare, **top)
        body["sender"] = {"login": sender, "id": abs(hash(sender)) % 10**6, "type": "User"}
        return body

    def drain(self, timeout: float = 300) -> None:
        drain(self.queue.huey, timeout)

    def run(self, job: str) -> RunRecord:
        record = self.queue.store.get_run(job)
        assert record is not None
        return record

    def engine_jobs(self) -> list[dict[str, Any]]:
        """What the engine was given (one entry per job, with its notes once it finished)."""
        if not self.engine_log.exists():
            return []
        entries: dict[str, dict[str, Any]] = {}
        for line in self.engine_log.read_text().splitlines():
            entry = json.loads(line)
            entries.setdefault(entry["job"], {}).update(entry)
        return list(entries.values())

    def ran_code_of(self, job: str) -> bool:
        return any(e["job"] == job for e in self.engine_jobs())

    def pull_request(self, author: str, files: dict[str, str], number: int = 5) -> dict[str, Any]:
        """A pull request from a fork: `author` changes `files` on a branch of their own."""
        run_git(self.clone, "checkout", "--quiet", "-B", f"pr-{number}", "main")
        head = commit_push(self.clone, files, f"pr-{number}", "contribution")
        run_git(self.clone, "checkout", "--quiet", "main")
        run_git(self.bare, "update-ref", f"refs/pull/{number}/head", head)
        self.github.add_pull(REPO, number, f"pr-{number}", head, "main", self.sha, user=author)
        body = self.event("pull_request/opened.payload.json", author, number=number)
        pr = body["pull_request"]
        pr.update(number=number, user={"login": author, "id": 99, "type": "User"})
        pr["head"].update(sha=head, ref=f"pr-{number}")
        pr["head"]["repo"] = {"full_name": f"{author}/widgets"}
        pr["base"].update(sha=self.sha, ref="main")
        pr["author_association"] = "FIRST_TIME_CONTRIBUTOR"
        return body


@pytest.fixture
def app_world(
    tmp_path: Path,
    github: GitHubServer,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[AppWorld]:
    """octo/widgets with a failing test, installed; `maint` maintains it, everyone else may only read it."""
    docker_or_skip()
    engine_log = tmp_path / "engine.jsonl"
    monkeypatch.setenv(LOG_ENV, str(engine_log))
    settings = make_settings(sandbox="docker", engine="tests.security.engines:recording")
    bare, clone, sha = init_remote(tmp_path / "git", {"lib.py": BUGGY_LIB, "test_lib.py": TEST_LIB})
    github.add_repo(REPO, bare)
    github.set_role(REPO, MAINTAINER, "maintain")
    queue = build_queue(settings)
    with LiveServer(create_app(settings, queue)) as live:
        yield AppWorld(settings, github, bare, clone, sha, live.url, queue, engine_log)
