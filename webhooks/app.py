"""The GitHub App's web service: POST /webhook, GET /healthz, and the dashboard (GET /runs, behind a sign-in).

A webhook is verified (signature, replay, age), turned into a run by a pure handler, journaled, and handed to
the recorder thread (`webhooks.intake`), which writes run records and enqueues in batches off the event loop;
GitHub gets its answer in milliseconds even while the database is slow.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from repairbot.config import MAX_WEBHOOK_BYTES, RepoConfig, Settings
from repairbot.jobs.queue import Queue, build_queue
from repairbot.jobs.store import Delivery, Limits
from webhooks.dashboard import mount_dashboard
from webhooks.handlers.base import Decision, Malformed
from webhooks.intake import (
    RecentlySeen,
    Recorder,
    body_hash,
    decide,
    delivery_for,
    event_time,
    outcome,
    replay_journal,
)

log = logging.getLogger("repairbot.webhooks")
MAX_DELIVERY_ID = 200
INLINE_JOURNAL_BYTES = 1 << 20  # larger bodies are journaled from a thread, not on the event loop


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 check, in constant time. An empty secret verifies nothing."""
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode(errors="replace"))


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # chunked bodies (or a lying Content-Length) are cut off while reading
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def create_app(settings: Settings | None = None, queue: Queue | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    queue = queue or build_queue(settings)
    store = queue.store
    defaults = RepoConfig()
    recorder = Recorder(
        queue, settings.data_dir / "journal", Limits(defaults.max_jobs, defaults.max_jobs_per_author)
    )
    seen = RecentlySeen()
    replay_journal(recorder)
    app = FastAPI(title="repairbot", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.queue = queue
    app.state.recorder = recorder

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        try:
            body = await _read_body(request, MAX_WEBHOOK_BYTES)
        except _TooLarge:
            return _answer(413, {"error": f"payload over {MAX_WEBHOOK_BYTES} bytes"})
        if not verify_signature(settings.webhook_secret, body, request.headers.get("x-hub-signature-256")):
            return _answer(401, {"error": "missing or invalid X-Hub-Signature-256"})
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return _answer(400, {"error": "body is not valid JSON"})
        if not isinstance(payload, dict):
            return _answer(400, {"error": "body is not a JSON object"})
        event = request.headers.get("x-github-event", "")
        sha = body_hash(body)
        # Without a delivery id (not GitHub), the body's hash is the id.
        delivery_id = request.headers.get("x-github-delivery") or sha
        if len(delivery_id) > MAX_DELIVERY_ID:
            return _answer(400, {"error": "X-GitHub-Delivery is too long"})

        if event == "ping":
            fresh = seen.add_if_new(delivery_id, sha)
            if fresh:
                recorder.submit(Delivery(delivery_id, sha, event), Decision("recorded"), None)
            return _answer(200, {"status": "pong" if fresh else "duplicate", "zen": payload.get("zen")})
        try:
            decision = decide(event, payload)
            when = event_time(event, payload) if decision.run is not None else None
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            return _answer(400, {"error": f"malformed {event} payload: {err}"})
        if decision.status == "ignored":
            return _answer(200, {"status": "ignored", "reason": decision.reason})
        if when is not None and when < time.time() - settings.max_delivery_age_s:
            return _answer(400, {"error": f"stale delivery: the {event} event happened {_ago(when)} ago"})
        if not seen.add_if_new(delivery_id, sha):
            return _answer(200, {"status": "duplicate"})
        delivery = delivery_for(delivery_id, sha, event, decision)
        try:
            if len(body) <= INLINE_JOURNAL_BYTES:
                future = recorder.accept(delivery, decision, body)
            else:
                future = await asyncio.to_thread(recorder.accept, delivery, decision, body)
        except OSError as err:
            seen.forget(delivery_id, sha)  # not taken: GitHub's redelivery must be accepted
            log.error("cannot journal delivery %s: %s", delivery_id, err)
            return _answer(503, {"error": "cannot record the delivery now; redeliver it later"})
        wait = 0.0 if recorder.behind(settings.webhook_ack_wait_s) else settings.webhook_ack_wait_s
        result = await outcome(future, wait)
        return _respond(result, delivery, decision)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "runs": store.count_runs(), "pending": queue.pending()}

    mount_dashboard(app, settings, store)
    return app


def _respond(result: str, delivery: Delivery, decision: Decision) -> JSONResponse:
    job = delivery.run.id if delivery.run is not None else None
    if result == "queued":
        return _answer(202, {"status": "queued", "job": job})
    if result == "accepted":  # the database is slow: recorded (or found a duplicate) after this answer
        return _answer(202, {"status": "accepted", "job": job})
    if result == "duplicate":
        return _answer(200, {"status": "duplicate"})
    if result.startswith("limited"):
        return _answer(200, {"status": "limited", "job": job, "reason": result.partition(": ")[2]})
    return _answer(200, {"status": "recorded", "reason": decision.reason})


def _ago(when: float) -> str:
    hours = (time.time() - when) / 3600
    return f"{hours:.0f} hours" if hours < 72 else f"{hours / 24:.0f} days"


def serve(host: str, port: int) -> None:
    """`repairbot serve --host H --port P`."""
    import uvicorn

    from repairbot.jobs.worker import service_logging

    service_logging()
    uvicorn.run(create_app(), host=host, port=port, access_log=False, log_level="info")


__all__ = ["Malformed", "create_app", "serve", "signature", "verify_signature"]
