"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat API with scripted replies, for tests.

    with ScriptedOpenAI([reply("```python\\ndef f():\\n    return 1\\n```"), Scripted(status=500)]) as server:
        LLMGenerator(server.url).generate(ctx)
        server.requests  # every request: method, path, headers, JSON body

`POST /v1/chat/completions` answers with the next scripted reply (an empty content once the script is used
up); `GET /v1/models` lists one model. It runs in a thread on a random port and stops on exit.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test) closes the socket before a delayed reply: not an error here.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class Scripted:
    """One scripted answer: `content` becomes a chat completion; `raw` is sent as the body verbatim."""

    content: str | tuple[str, ...] | None = None  # several strings: several choices
    status: int = 200
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def reply(*contents: str) -> Scripted:
    return Scripted(content=contents if len(contents) > 1 else contents[0])


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or the raw text when it is not JSON

    @property
    def prompt(self) -> str:
        """All message contents of a chat request, joined."""
        if not isinstance(self.body, dict):
            return ""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


class ScriptedOpenAI:
    def __init__(self, script: list[Scripted] | None = None, *, model: str = "scripted-model") -> None:
        self.script = list(script or [])
        self.model = model
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-stub", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def __enter__(self) -> ScriptedOpenAI:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self) -> Scripted:
        with self._lock:
            return self.script.pop(0) if self.script else Scripted(content="")

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _recorded(self) -> Recorded:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                owner._record(rec)
                return rec

            def do_GET(self) -> None:
                self._recorded()
                if self.path.rstrip("/").endswith("/models"):
                    data = {"object": "list", "data": [{"id": owner.model, "object": "model"}]}
                    self._send(200, json.dumps(data).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                rec = self._recorded()
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": "not found"}')
                    return
                step = owner._next()
                if step.delay_s:
                    time.sleep(step.delay_s)
                if step.raw is not None or step.content is None:
                    self._send(step.status, step.raw or b"", step.headers)
                    return
                contents = (step.content,) if isinstance(step.content, str) else step.content
                model = rec.body.get("model") if isinstance(rec.body, dict) else owner.model
                payload = {
                    "id": f"chatcmpl-{len(owner.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {"index": i, "message": {"role": "assistant", "content": c}, "finish_reason": "stop"}
                        for i, c in enumerate(contents)
                    ],
                }
                self._send(step.status, json.dumps(payload).encode(), step.headers)

        return Handler
