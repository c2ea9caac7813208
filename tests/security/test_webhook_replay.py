"""Webhook hardening (issue 11, item 4): a captured body replayed under a fresh delivery id, a days-old signed
body, and a slow database that used to stall every delivery behind it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from repairbot.config import Settings
from repairbot.jobs.queue import build_queue
from tests.support.github_server import SECRET, LiveServer, fresh, payload, post_webhook, push_event
from tests.support.latency import slow_postgres
from webhooks.app import create_app, signature

REPO = "octo/widgets"


def post(url: str, event: str, body: dict[str, Any], delivery: str) -> httpx.Response:
    return post_webhook(url, event, body, delivery)


def push(tmp_path: Path, n: int = 1) -> dict[str, Any]:
    return push_event(tmp_path / "remote.git", f"{n:040x}", REPO)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings)) as server:
        yield server


def test_a_captured_body_under_a_fresh_delivery_id_is_a_replay(
    live: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    body = push(tmp_path)
    first = post(live.url, "push", body, "d-original")
    assert first.status_code == 202 and first.json()["status"] == "queued"
    replay = post(live.url, "push", body, "d-forged-fresh-id")  # the id is not signed; the body is
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    queue = build_queue(settings)
    assert queue.store.count_runs() == 1
    assert queue.pending() == 1


def test_replay_detection_does_not_forget_on_a_restart(settings: Settings, tmp_path: Path) -> None:
    body = push(tmp_path, 2)
    with LiveServer(create_app(settings)) as one:
        assert post(one.url, "push", body, "r-1").status_code == 202
    with LiveServer(create_app(settings)) as two:  # nothing in memory: the database decides
        assert post(two.url, "push", body, "r-2").json() == {"status": "duplicate"}
    assert build_queue(settings).store.count_runs() == 1


@pytest.mark.parametrize(
    ("event", "relative"),
    [
        ("push", "push/payload.json"),
        ("issues", "issues/opened.payload.json"),
        ("pull_request", "pull_request/opened.payload.json"),
        ("issue_comment", "issue_comment/created.payload.json"),
    ],
)
def test_a_days_old_signed_body_is_refused(
    live: LiveServer, settings: Settings, tmp_path: Path, event: str, relative: str
) -> None:
    """GitHub lets an owner redeliver for three days; a body whose event is older is a captured one."""
    extra: dict[str, Any] = (
        {"ref": "refs/heads/main", "after": "c" * 40, "deleted": False} if event == "push" else {}
    )
    body = fresh(payload(relative, REPO, tmp_path / "remote.git", **extra), at=time.time() - 10 * 86400)
    if event == "issue_comment":
        body["comment"]["body"] = "/repairbot fix"
    response = post(live.url, event, body, f"old-{event}")
    assert response.status_code == 400 and "stale" in response.json()["error"], response.text
    assert build_queue(settings).store.count_runs() == 0


def test_a_slow_database_does_not_slow_the_acknowledgement(
    make_settings: Callable[..., Settings], postgres_url: str, tmp_path: Path
) -> None:
    """Every statement takes 100 ms more (a real PostgreSQL behind a delaying proxy). Twenty signed pushes
    at once are each answered within GitHub's patience and far below a statement's cost times the queue
    in front of it; all of them are recorded and enqueued afterwards."""
    with slow_postgres(postgres_url, 0.1) as slow_url:
        settings = make_settings(database_url=slow_url, webhook_ack_wait_s=0.01)
        app = create_app(settings)
        with LiveServer(app) as live:
            bodies = []
            for i in range(20):
                body = push(tmp_path, 100 + i)
                body["sender"]["login"] = f"dev{i}"  # twenty people push at once: under every cap
                bodies.append(json.dumps(body).encode())

            async def send_all() -> list[tuple[float, httpx.Response]]:
                async with httpx.AsyncClient(timeout=60) as client:

                    async def one(i: int) -> tuple[float, httpx.Response]:
                        headers = {
                            "X-GitHub-Event": "push",
                            "X-GitHub-Delivery": f"slow-{i}",
                            "X-Hub-Signature-256": signature(SECRET, bodies[i]),
                        }
                        started = time.perf_counter()
                        r = await client.post(f"{live.url}/webhook", content=bodies[i], headers=headers)
                        return time.perf_counter() - started, r

                    return await asyncio.gather(*(one(i) for i in range(len(bodies))))

            answers = asyncio.run(send_all())
            assert all(r.status_code == 202 for _, r in answers), [r.text for _, r in answers]
            slowest = max(t for t, _ in answers)
            # Writing in the request, 20 deliveries × 4 statements × 100 ms queue up behind one another (8 s
            # for the last); off the loop each answer waits for its journal and at most the ack wait.
            assert slowest < 1.0, f"slowest acknowledgement {slowest:.2f}s"
            assert app.state.recorder.flush(60)
            queue = build_queue(make_settings(database_url=postgres_url))
            assert queue.store.count_runs() == 20
            assert queue.pending() == 20
