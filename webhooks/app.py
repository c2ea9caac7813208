"""The GitHub App's web service: POST /webhook, GET /healthz, GET /runs.

A webhook is verified, deduplicated, turned into a run record and put on the queue inside the request; nothing
slow happens here (the job does the GitHub calls and the repair), so GitHub gets its answer in milliseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from repairbot.config import MAX_WEBHOOK_BYTES, Settings
from repairbot.jobs.queue import Queue, build_queue
from webhooks.handlers import HANDLERS
from webhooks.runs_page import render_runs

log = logging.getLogger("repairbot.webhooks")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 check, in constant time. An empty secret verifies nothing."""
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode())


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


def create_app(settings: Settings | None = None, queue: Queue | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    queue = queue or build_queue(settings)
    store = queue.store
    app = FastAPI(title="repairbot", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.queue = queue

    def answer(status: int, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse(body, status_code=status)

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        try:
            body = await _read_body(request, MAX_WEBHOOK_BYTES)
        except _TooLarge:
            return answer(413, {"error": f"payload over {MAX_WEBHOOK_BYTES} bytes"})
        if not verify_signature(settings.webhook_secret, body, request.headers.get("x-hub-signature-256")):
            return answer(401, {"error": "missing or invalid X-Hub-Signature-256"})
        try:
            payload = json.loads(body)
        except ValueError:
            return answer(400, {"error": "body is not valid JSON"})
        if not isinstance(payload, dict):
            return answer(400, {"error": "body is not a JSON object"})
        event = request.headers.get("x-github-event", "")
        # Without a delivery id (not GitHub), the body's hash still makes a replay a duplicate.
        delivery = request.headers.get("x-github-delivery") or "sha256:" + hashlib.sha256(body).hexdigest()

        if event == "ping":
            fresh = store.accept_delivery(delivery, event, None)
            return answer(200, {"status": "pong" if fresh else "duplicate", "zen": payload.get("zen")})
        handler = HANDLERS.get(event)
        if handler is None:
            return answer(200, {"status": "ignored", "reason": f"event {event or '(none)'} is not handled"})
        try:
            decision = handler(event, payload)
        except (KeyError, TypeError, ValueError) as err:
            return answer(400, {"error": f"malformed {event} payload: {err}"})
        if decision.status == "ignored":
            return answer(200, {"status": "ignored", "reason": decision.reason})
        if not store.accept_delivery(delivery, event, decision.run):
            return answer(200, {"status": "duplicate"})
        if decision.record is not None:
            decision.record(store)
        if decision.run is None:
            return answer(200, {"status": "recorded", "reason": decision.reason})
        # The run record is committed first; if the process dies before this enqueue, recovery re-enqueues it.
        queue.enqueue(decision.run.id)
        log.info("delivery %s: %s queued as run %s", delivery, event, decision.run.id)
        return answer(202, {"status": "queued", "job": decision.run.id})

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "runs": store.count_runs(), "pending": queue.pending()}

    @app.get("/runs", response_class=HTMLResponse)
    def runs(limit: int = 50) -> HTMLResponse:
        return HTMLResponse(render_runs(store.recent_runs(max(1, min(limit, 500)))))

    return app


def serve(host: str, port: int) -> None:
    """`repairbot serve --host H --port P`."""
    import uvicorn

    from repairbot.jobs.worker import service_logging

    service_logging()
    uvicorn.run(create_app(), host=host, port=port, access_log=False, log_level="info")
