"""POST /webhook over real HTTP (uvicorn on loopback): signatures, limits, ping, dedup, enqueue, ignore."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from repairbot.config import MAX_WEBHOOK_BYTES, Settings
from repairbot.jobs.queue import build_queue
from tests.support.github_server import PAYLOADS, SECRET, LiveServer, payload
from tests.support.servers import on_both_backends
from webhooks.app import create_app, signature, verify_signature

REPO = "octo/widgets"


def test_github_published_test_vector() -> None:
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature("It's a Secret to Everybody", b"Hello, World!") == expected
    assert verify_signature("It's a Secret to Everybody", b"Hello, World!", expected)
    assert not verify_signature("It's a Secret to Everybody", b"Hello, World?", expected)
    assert not verify_signature("another secret", b"Hello, World!", expected)
    assert not verify_signature("", b"Hello, World!", expected)
    assert not verify_signature("It's a Secret to Everybody", b"Hello, World!", None)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], backends: dict[str, str]) -> Settings:
    return make_settings(**backends)


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings)) as server:
        yield server


def post(
    url: str,
    event: str,
    body: dict[str, Any] | bytes,
    delivery: str = "d-1",
    secret: str = SECRET,
    sign: bool = True,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json"}
    if sign:
        headers["X-Hub-Signature-256"] = signature(secret, raw)
    return httpx.post(f"{url}/webhook", content=raw, headers=headers, timeout=10)


def push_payload(tmp_path: Path) -> dict[str, Any]:
    return payload(
        "push/payload.json",
        REPO,
        tmp_path / "remote.git",
        ref="refs/heads/main",
        after="a" * 40,
        deleted=False,
    )


def test_missing_or_wrong_signature_is_401(live: LiveServer, tmp_path: Path) -> None:
    body = push_payload(tmp_path)
    assert post(live.url, "push", body, sign=False).status_code == 401
    assert post(live.url, "push", body, secret="wrong").status_code == 401
    # a valid signature of another body
    raw = json.dumps(body).encode()
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": signature(SECRET, raw + b" ")}
    assert httpx.post(f"{live.url}/webhook", content=raw, headers=headers).status_code == 401


def test_invalid_json_is_400(live: LiveServer) -> None:
    response = post(live.url, "push", b"{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_oversized_body_is_413_from_content_length(live: LiveServer) -> None:
    raw = b" " * (MAX_WEBHOOK_BYTES + 1)
    response = httpx.post(
        f"{live.url}/webhook",
        content=raw,
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=0"},
    )
    assert response.status_code == 413


def test_oversized_chunked_body_is_413_while_reading(live: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: transfer-encoding chunked
        for _ in range(26):
            yield b" " * (1024 * 1024)

    response = httpx.post(
        f"{live.url}/webhook",
        content=chunks(),
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": "x"},
    )
    assert response.status_code == 413


def test_ping_is_answered(live: LiveServer) -> None:
    body = json.loads((PAYLOADS / "ping/payload.json").read_text())
    response = post(live.url, "ping", body, delivery="ping-1")
    assert response.status_code == 200
    assert response.json()["status"] == "pong"


@on_both_backends
def test_push_is_queued_once_and_redelivery_is_duplicate(
    live: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    body = push_payload(tmp_path)
    first = post(live.url, "push", body, delivery="abc-123")
    assert first.status_code == 202
    assert first.json()["status"] == "queued"
    job = first.json()["job"]
    again = post(live.url, "push", body, delivery="abc-123")
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}

    queue = build_queue(settings)
    run = queue.store.get_run(job)
    assert run is not None and run.status == "queued" and run.trigger == "push" and run.repo == REPO
    assert run.sha == "a" * 40 and run.installation_id == 1
    assert queue.pending() == 1  # the redelivery enqueued nothing
    assert queue.store.count_runs() == 1


@on_both_backends
def test_dedup_survives_a_restart(settings: Settings, tmp_path: Path) -> None:
    body = push_payload(tmp_path)
    with LiveServer(create_app(settings)) as one:
        assert post(one.url, "push", body, delivery="same").status_code == 202
    with LiveServer(create_app(settings)) as two:
        assert post(two.url, "push", body, delivery="same").json() == {"status": "duplicate"}


@pytest.mark.parametrize(
    ("event", "relative", "extra"),
    [
        ("check_run", "check_run/created.payload.json", {}),
        ("issues", "issues/edited.payload.json", {}),
        ("pull_request", "pull_request/closed.payload.json", {}),
        ("push", "push/with-installation.payload.json", {}),  # a tag
        (
            "push",
            "push/payload.json",
            {"ref": "refs/heads/repairbot/abc", "deleted": False, "after": "b" * 40},
        ),  # our own branch
        ("push", "push/payload.json", {"ref": "refs/heads/main", "deleted": True}),
        ("issue_comment", "issue_comment/created.payload.json", {}),  # no command
    ],
)
def test_events_it_does_not_act_on_are_ignored(
    live: LiveServer, tmp_path: Path, event: str, relative: str, extra: dict[str, Any]
) -> None:
    body = payload(relative, REPO, tmp_path / "remote.git", **extra)
    response = post(live.url, event, body, delivery=f"ign-{event}-{relative}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ignored"


def test_commands_are_left_to_the_job_whatever_author_association_says(
    live: LiveServer, tmp_path: Path
) -> None:
    """`author_association` is no permission (a read-only collaborator is COLLABORATOR; a member hiding their
    membership is CONTRIBUTOR): the job asks GitHub for the commenter's permission, see tests/security."""
    body = payload("issue_comment/created.payload.json", REPO, tmp_path / "remote.git")
    body["comment"]["body"] = "Please look at this.\n/repairbot fix\n"
    for i, association in enumerate(("NONE", "COLLABORATOR")):
        body["comment"]["author_association"] = association
        response = post(live.url, "issue_comment", body, delivery=f"c-{i}")
        assert response.status_code == 202 and response.json()["status"] == "queued"
        body["comment"]["id"] += 1  # another comment (the same body would be a replay)
    # a quoted command is not a command
    body["comment"]["body"] = "> /repairbot fix\nno"
    assert post(live.url, "issue_comment", body, delivery="c-3").json()["status"] == "ignored"


@on_both_backends
def test_each_trigger_family_is_queued(live: LiveServer, settings: Settings, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    cases = [
        ("issues", payload("issues/opened.payload.json", REPO, remote), "issue"),
        ("pull_request", payload("pull_request/opened.payload.json", REPO, remote), "pull_request"),
        ("pull_request", payload("pull_request/synchronize.payload.json", REPO, remote), "pull_request"),
    ]
    review = payload("pull_request_review_comment/created.payload.json", REPO, remote)
    review["comment"]["body"] = "/repairbot suggest"
    cases.append(("pull_request_review_comment", review, "review_command"))
    store = build_queue(settings).store
    for i, (event, body, trigger) in enumerate(cases):
        response = post(live.url, event, body, delivery=f"t-{i}")
        assert response.status_code == 202, response.text
        run = store.get_run(response.json()["job"])
        assert run is not None and run.trigger == trigger


@on_both_backends
def test_installation_bookkeeping(live: LiveServer, settings: Settings) -> None:
    created = json.loads((PAYLOADS / "installation/created.payload.json").read_text())
    response = post(live.url, "installation", created, delivery="i-1")
    assert response.status_code == 200 and response.json()["status"] == "recorded"
    inst_id = created["installation"]["id"]
    store = build_queue(settings).store
    recorded = store.installation(inst_id)
    assert recorded is not None
    assert recorded["repositories"] == sorted(r["full_name"] for r in created["repositories"])

    added = json.loads((PAYLOADS / "installation_repositories/added.payload.json").read_text())
    added["installation"]["id"] = inst_id
    added["repositories_added"] = [{"full_name": "octo/new-one"}]
    assert post(live.url, "installation_repositories", added, delivery="i-2").json()["status"] == "recorded"
    recorded = store.installation(inst_id)
    assert recorded is not None and "octo/new-one" in recorded["repositories"]

    deleted = json.loads((PAYLOADS / "installation/deleted.payload.json").read_text())
    deleted["installation"]["id"] = inst_id
    assert post(live.url, "installation", deleted, delivery="i-3").json()["status"] == "recorded"
    assert store.installation(inst_id) is None


def test_healthz(live: LiveServer) -> None:
    response = httpx.get(f"{live.url}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
