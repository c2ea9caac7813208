"""Fuzzing POST /webhook (issue 11, item 4) with Hypothesis, over uvicorn on loopback: headers and payloads of
every handled event, mutated from GitHub's recorded payloads, raw bytes, and forged or missing signatures.

Properties, per request: never a 5xx; without a valid signature always 401 and nothing recorded; a run is
enqueued only for a signed, well-formed body (its repository, commit and number in GitHub's shapes, and its
stored payload the body that was sent). The count of generated requests is printed (`-s`) and written to
$REPAIRBOT_FUZZ_REPORT when set; REPAIRBOT_FUZZ_EXAMPLES sets the examples per event (default 150).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repairbot.config import Settings
from repairbot.jobs.queue import Queue, build_queue
from tests.support.github_server import APP_ID, SECRET, LiveServer, fresh, payload
from webhooks.app import create_app, signature

EXAMPLES = int(os.environ.get("REPAIRBOT_FUZZ_EXAMPLES", "150"))
HANDLED = {
    "push": ["push/payload.json", "push/with-new-branch.payload.json"],
    "issues": ["issues/opened.payload.json", "issues/labeled.payload.json"],
    "issue_comment": ["issue_comment/created.payload.json"],
    "pull_request": ["pull_request/opened.payload.json", "pull_request/synchronize.payload.json"],
    "pull_request_review_comment": ["pull_request_review_comment/created.payload.json"],
    "installation": ["installation/created.payload.json", "installation/deleted.payload.json"],
    "installation_repositories": ["installation_repositories/added.payload.json"],
    "ping": ["ping/payload.json"],
}
INTERESTING = {
    tuple(p.split("."))
    for p in (
        ".",
        "action",
        "ref",
        "after",
        "before",
        "deleted",
        "repository",
        "repository.full_name",
        "repository.clone_url",
        "repository.default_branch",
        "installation",
        "installation.id",
        "sender",
        "sender.login",
        "sender.type",
        "label",
        "label.name",
        "issue",
        "issue.number",
        "issue.user",
        "issue.user.login",
        "issue.pull_request",
        "issue.labels",
        "issue.body",
        "pull_request",
        "pull_request.number",
        "pull_request.head",
        "pull_request.head.sha",
        "pull_request.head.ref",
        "pull_request.head.repo",
        "pull_request.base",
        "pull_request.base.sha",
        "pull_request.user",
        "pull_request.user.login",
        "pull_request.updated_at",
        "comment",
        "comment.body",
        "comment.id",
        "comment.user",
        "comment.user.login",
        "comment.path",
        "comment.line",
        "comment.updated_at",
        "repositories",
        "repositories_added",
    )
}
REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
SHA = re.compile(r"[0-9a-f]{40}")
TALLY: Counter[str] = Counter()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# What HTTP allows in a header value (no surrounding blanks: the client itself refuses those).
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300).map(str.strip)


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if depth < 4 and isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k), depth + 1)
    elif depth < 4 and isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths(v, (*prefix, i), depth + 1)
    return out


def _apply(body: Any, path: tuple[Any, ...], op: str, value: Any) -> None:
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    if op == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


@st.composite
def bodies(draw: st.DrawFn, event: str, tmp: Path) -> tuple[bytes, Any]:
    """(raw body, the JSON it holds or None)."""
    kind = draw(st.sampled_from(["recorded", "mutated", "mutated", "mutated", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), None
    if kind == "json":
        value = draw(json_values)
        return json.dumps(value).encode(), value
    relative = draw(st.sampled_from(HANDLED.get(event) or HANDLED["push"]))
    body = payload(relative, "octo/widgets", tmp / "remote.git")
    if draw(st.booleans()) and isinstance(body.get("comment"), dict):
        body["comment"]["body"] = draw(
            st.sampled_from(["/repairbot fix", "/repairbot suggest", "> /repairbot fix"])
        )
    if event == "push" and draw(st.booleans()):
        body.update(
            ref="refs/heads/main", deleted=False, after=draw(st.sampled_from(["a" * 40, "0" * 40, "x"]))
        )
    body["sender"] = {**(body.get("sender") or {}), "login": draw(st.sampled_from(["alice", "bob", "eve"]))}
    if kind == "mutated":
        for _ in range(draw(st.integers(1, 4))):
            # Most mutations hit what handlers and jobs read (a dictionary-guided fuzzer); the rest anywhere.
            paths = _paths(body)
            targeted = [p for p in paths if p in INTERESTING]
            if targeted and draw(st.integers(0, 9)) < 7:
                paths = targeted
            if not paths:
                break
            path = draw(st.sampled_from(paths))
            _apply(body, path, draw(st.sampled_from(["set", "set", "delete"])), draw(json_values))
    fresh(body) if isinstance(body, dict) else None
    return json.dumps(body).encode(), body


@st.composite
def requests(draw: st.DrawFn, event: str, tmp: Path) -> dict[str, Any]:
    raw, value = draw(bodies(event, tmp))
    mode = draw(
        st.sampled_from(["valid", "valid", "valid", "missing", "wrong-secret", "other-body", "garbage"])
    )
    headers = {"X-GitHub-Event": draw(st.sampled_from([event, event, event, "", "check_run"]) | header_text)}
    if mode == "valid":
        headers["X-Hub-Signature-256"] = signature(SECRET, raw)
    elif mode == "wrong-secret":
        headers["X-Hub-Signature-256"] = signature("not the secret", raw)
    elif mode == "other-body":
        headers["X-Hub-Signature-256"] = signature(SECRET, raw + b" ")
    elif mode == "garbage":
        headers["X-Hub-Signature-256"] = draw(header_text)
    delivery = draw(st.none() | st.uuids().map(str) | header_text)
    if delivery is not None:
        headers["X-GitHub-Delivery"] = delivery
    headers["Content-Type"] = draw(
        st.sampled_from(["application/json", "text/plain", "application/x-www-form"])
    )
    return {"raw": raw, "value": value, "mode": mode, "headers": headers}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Queue, Path]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    settings = Settings(webhook_secret=SECRET, app_id=APP_ID, data_dir=tmp / "data", webhook_ack_wait_s=10.0)
    queue = build_queue(settings)
    with LiveServer(create_app(settings, queue)) as live:
        yield live.url, queue, tmp
    report = os.environ.get("REPAIRBOT_FUZZ_REPORT")
    summary = {"requests": sum(v for k, v in TALLY.items() if k.startswith("status:")), **TALLY}
    print(f"\nwebhook fuzz: {json.dumps(summary, sort_keys=True)}")
    if report:
        Path(report).write_text(json.dumps(summary, sort_keys=True) + "\n")


def _well_formed(run: Any, value: Any) -> bool:
    return (
        isinstance(value, dict)
        and run.payload == value
        and bool(REPO.fullmatch(run.repo))
        and (run.sha is None or bool(SHA.fullmatch(run.sha)))
        and (run.number is None or run.number > 0)
        and run.trigger in ("push", "issue", "issue_command", "pull_request", "review_command")
    )


@pytest.mark.parametrize("event", sorted(HANDLED))
def test_fuzzed_deliveries(server: tuple[str, Queue, Path], event: str) -> None:
    url, queue, tmp = server
    store = queue.store
    client = httpx.Client(timeout=30)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(req=requests(event, tmp))
    def one(req: dict[str, Any]) -> None:
        runs_before, pending_before = store.count_runs(), queue.pending()
        response = client.post(f"{url}/webhook", content=req["raw"], headers=req["headers"])
        TALLY[f"status:{response.status_code}"] += 1
        assert response.status_code < 500, (response.status_code, response.text)
        runs_after, pending_after = store.count_runs(), queue.pending()
        if req["mode"] != "valid":
            assert response.status_code == 401, response.text
            assert (runs_after, pending_after) == (runs_before, pending_before), "forged acceptance"
            return
        answer = response.json()
        if pending_after > pending_before:
            TALLY["enqueued"] += 1
            assert pending_after == pending_before + 1
            assert response.status_code == 202 and answer["status"] == "queued", answer
            run = store.get_run(answer["job"])
            assert run is not None and _well_formed(run, req["value"]), (run, req["value"])
        else:
            assert answer.get("status") != "queued", answer
        if not isinstance(req["value"], dict):
            assert response.status_code == 400 and runs_after == runs_before, answer

    one()
