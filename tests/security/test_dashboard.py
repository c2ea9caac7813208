"""The dashboard behind a sign-in (issue 11, item 3), in headless Chromium: GET /runs used to show every
run (repository names, errors, whole patches) to anyone who could reach the webhook port.

A user signs in with GitHub (the App's OAuth flow, served by the local GitHub API test server) and sees the
runs of the repositories GitHub says they can see through the App's installations; nobody else sees any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from repairbot.config import Settings
from repairbot.jobs.queue import build_queue
from repairbot.jobs.store import NewRun
from tests.support.browser import dump_dom, needs_chromium
from tests.support.github_server import GitHubServer, LiveServer
from webhooks.app import create_app

CLIENT = ("Iv1.repairbot", "oauth-client-secret")
SEEN, HIDDEN = "octo/widgets", "acme/private-thing"
LEAK = "SECRET_SOURCE_LINE = 42"


@pytest.fixture
def server(
    tmp_path: Path, github: GitHubServer, make_settings: Callable[..., Settings]
) -> Iterator[LiveServer]:
    settings = make_settings(oauth_client_id=CLIENT[0], oauth_client_secret=CLIENT[1])
    github.enable_oauth(*CLIENT)
    for name, inst in ((SEEN, 1), (HIDDEN, 2)):
        github.add_repo(name, tmp_path / f"{name.replace('/', '_')}.git", installation_id=inst)
    queue = build_queue(settings)
    for repo in (SEEN, HIDDEN):
        run = NewRun(event="push", trigger="push", repo=repo, installation_id=1, lock_key=repo, payload={})
        queue.store.create_run(run)
        queue.store.claim(run.id, "w", 60)
        queue.store.finish(run.id, "succeeded", "pr_opened", patch=f"+{LEAK} in {repo}\n")
    with LiveServer(create_app(settings, queue)) as live:
        yield live


@needs_chromium
def test_anonymous_gets_nothing(server: LiveServer, tmp_path: Path) -> None:
    dom = dump_dom(f"{server.url}/runs", tmp_path / "anonymous")
    assert "Sign in with GitHub" in dom, dom[:500]
    assert SEEN not in dom and HIDDEN not in dom and LEAK not in dom and "data-run" not in dom
    direct = httpx.get(f"{server.url}/runs?limit=500")
    assert direct.status_code == 401 and LEAK not in direct.text
    assert direct.headers["cache-control"] == "no-store"


@needs_chromium
def test_a_signed_in_user_sees_only_the_repositories_github_shows_them(
    server: LiveServer, github: GitHubServer, tmp_path: Path
) -> None:
    github.sign_in_browser("alice", {SEEN})
    dom = dump_dom(f"{server.url}/login", tmp_path / "alice")  # GitHub → callback → /runs
    assert 'id="login">alice<' in dom, dom[:800]
    assert f"+{LEAK} in {SEEN}" in dom
    assert HIDDEN not in dom
    # The session stays in the browser's profile: /runs again, straight away, same view.
    again = dump_dom(f"{server.url}/runs", tmp_path / "alice")
    assert SEEN in again and HIDDEN not in again


def test_a_guessed_session_or_a_forged_callback_gets_nothing(
    server: LiveServer, github: GitHubServer
) -> None:
    guessed = httpx.get(f"{server.url}/runs", cookies={"repairbot_session": "guess"})
    assert guessed.status_code == 401 and SEEN not in guessed.text
    # A callback whose state was not issued to this browser (login CSRF) makes no session.
    github.sign_in_browser("mallory", {SEEN, HIDDEN})
    start = httpx.get(f"{server.url}/login")
    assert start.status_code == 302
    code = httpx.get(start.headers["location"]).headers["location"].split("code=")[1].split("&")[0]
    forged = httpx.get(f"{server.url}/oauth/callback", params={"code": code, "state": "attacker"})
    assert forged.status_code == 400 and "set-cookie" not in {k.lower() for k in forged.headers}


def test_without_an_oauth_client_the_dashboard_is_off(make_settings: Callable[..., Settings]) -> None:
    with LiveServer(create_app(make_settings())) as live:
        response = httpx.get(f"{live.url}/runs")
    assert response.status_code == 404 and "data-run" not in response.text
