"""A pool of warm fork servers (repairbot/testing/server.py), shared by the sandbox backends.

A backend only supplies `connect()`: how to start one server process and talk to it (a local subprocess, or a
process inside the job's container). The pool hands one server to each concurrent `run`, builds requests,
restarts a server that died, and reads results back into TestRuns.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import select
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from repairbot.errors import EnvironmentProblem
from repairbot.models import RunSpec, TestRun
from repairbot.testing import instruments
from repairbot.testing.origin import origin_info
from repairbot.testing.runs import TestCommand, build_request, collect

_REPLY_GRACE_S = 30.0  # the server enforces spec.timeout itself; this only catches a dead server


class Channel(Protocol):
    """One running fork server: JSON lines in, JSON lines out."""

    def send(self, message: dict[str, Any]) -> None: ...

    def recv(self, timeout: float) -> dict[str, Any] | None:
        """The next reply, or None if the server died or said nothing in `timeout` seconds."""
        ...

    def close(self) -> None: ...


class FdLineReader:
    """Reads JSON lines from a raw file descriptor with a timeout (select, no threads)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buf = b""

    def read(self, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            result: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            return self.read(max(0.0, deadline - time.monotonic()))  # noise on stdout
        return result


class ServerPool:
    def __init__(
        self,
        connect: Callable[[], Channel],
        size: int,
        command: TestCommand,
        scratch: Path,
        limits: dict[str, int] | None = None,
        project: Path | None = None,
    ) -> None:
        self._connect = connect
        # What the test interpreter has (its path, its instruments), probed once on the host.
        self.probe = instruments.probe(command.interpreter)
        # The user's tree: every run imports its own copy instead, however the project is installed.
        self._origin = origin_info(project, self.probe.path if self.probe else ())
        self._project = project
        self.instruments: dict[str, str] = {}  # instrument -> which copy the servers loaded (their hello)
        self._limits = limits  # rlimits for each forked run (the docker backend relies on cgroups instead)
        self._command = command
        self._runs_dir = scratch / "runs"
        self._runs_dir.mkdir(parents=True, exist_ok=True)
        self._free: queue.Queue[Channel | None] = queue.Queue()
        self._all: list[Channel] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.size = size
        for _ in range(size):
            self._free.put(None)  # started lazily, on first use

    def use_interpreter(self, probe: str | None, aliases: Sequence[str] = ()) -> None:
        """The servers run another interpreter than the host's (a dependency image's virtualenv): what it
        reported when the image was built (instruments' probe line), and where the user's tree was inside
        the image (`aliases`: its editable install points there)."""
        self.probe = instruments.read_probe(probe) if probe else None
        self._origin = origin_info(self._project, self.probe.path if self.probe else (), aliases)

    def _start(self) -> Channel:
        channel = self._connect()
        hello = channel.recv(60.0)
        if not hello or not hello.get("ready"):
            channel.close()
            raise EnvironmentProblem(
                "the test runner did not start in the sandbox",
                hint="check that pytest is installed for the interpreter that runs the tests",
            )
        with self._lock:
            self._all.append(channel)
            self.instruments.update({str(k): str(v) for k, v in (hello.get("instruments") or {}).items()})
        return channel

    def run(self, spec: RunSpec) -> TestRun:
        channel = self._free.get()
        try:
            if channel is None:
                channel = self._start()
            req_id = f"r{next(self._ids)}"
            out_dir = self._runs_dir / req_id
            out_dir.mkdir()
            request = build_request(spec, self._command, out_dir, req_id)
            request["limits"] = self._limits
            request["tree"] = self._origin
            channel.send(request)
            reply = channel.recv(spec.timeout_s + _REPLY_GRACE_S)
            if reply is None:  # the server itself died (or hung): replace it, report a crash
                self._drop(channel)
                channel = None
                reply = {"id": req_id, "exit_code": None, "signal": None, "timed_out": False, "seconds": 0.0,
                         "server_died": True}  # fmt: skip
            result = collect(spec, self._command, out_dir, reply)
            shutil.rmtree(out_dir, ignore_errors=True)
            return result
        finally:
            self._free.put(channel)

    def notes(self) -> tuple[str, ...]:
        """For the report: instruments repairbot supplied, and a run without per-test coverage."""
        return instruments.notes(self.instruments)

    def _drop(self, channel: Channel) -> None:
        with self._lock:
            if channel in self._all:
                self._all.remove(channel)
        channel.close()

    def close(self) -> None:
        with self._lock:
            channels, self._all = self._all, []
        for channel in channels:
            with contextlib.suppress(OSError):
                channel.send({"quit": True})
            channel.close()
