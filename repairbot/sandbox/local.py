"""Local backend: fork servers as plain subprocesses. No isolation; an explicit opt-in for development."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from repairbot.models import RunSpec, TestRun
from repairbot.sandbox.pool import FdLineReader, ServerPool
from repairbot.testing import instruments
from repairbot.testing.runs import SERVER_PATH, TestCommand

LOCAL_MEMORY_MB = 4096


class _ProcessChannel:
    def __init__(self, interpreter: str, cwd: Path, vendor: Path) -> None:
        env = passed_environment(os.environ)
        self._proc = subprocess.Popen(
            [interpreter, str(SERVER_PATH), str(vendor)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        assert self._proc.stdout is not None
        self._reader = FdLineReader(self._proc.stdout.fileno())

    def send(self, message: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write((json.dumps(message) + "\n").encode())
        self._proc.stdin.flush()

    def recv(self, timeout: float) -> dict[str, Any] | None:
        return self._reader.read(timeout)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()


# What test code gets from the host, by name: an allow-list (a deny-list of "secret-looking" names let through
# whatever it did not foresee: DATABASE_URL with a password, SENTRY_DSN, a cloud's session variables, …).
PASSED_VARS = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "TEMP", "TMP",
    "PYTHONPATH", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHONUTF8", "PYTHONIOENCODING",
    "PYTHONWARNINGS", "PYTHONFAULTHANDLER", "PYTHONDEVMODE", "PYTHONUNBUFFERED", "VIRTUAL_ENV",
    "CONDA_PREFIX", "LD_LIBRARY_PATH", "SYSTEMROOT",
})  # fmt: skip


def passed_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The host variables a local test run sees: PASSED_VARS and the locale's LC_* ones, nothing else."""
    return {k: v for k, v in environ.items() if k in PASSED_VARS or k.startswith("LC_")}


class LocalSandbox:
    name = "local"

    def __init__(
        self,
        scratch: Path,
        command: TestCommand,
        parallel: int = 0,
        *,
        image: str | None = None,  # the docker backend's; plain subprocesses use the host
        job_id: str = "local",
        project: Path | None = None,
    ) -> None:
        self.description = f"local subprocesses, no isolation ({command.interpreter})"
        self._scratch = scratch
        self._command = command
        size = parallel or max(1, min(4, os.cpu_count() or 1))
        # Even without isolation a test must not take the machine down: cap each run's address space.
        limits = {"as_mb": LOCAL_MEMORY_MB}
        vendor = scratch / ".runner" / instruments.VENDOR
        self._pool = ServerPool(
            lambda: _ProcessChannel(command.interpreter, scratch, vendor),
            size,
            command,
            scratch,
            limits,
            project,
        )
        # Repairbot's own copies of what the test interpreter lacks (coverage, pytest), for its servers only.
        instruments.stage(vendor.parent, self._pool.probe)

    @property
    def max_parallel(self) -> int:
        return self._pool.size

    @property
    def notes(self) -> tuple[str, ...]:
        return self._pool.notes()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pool.close()

    def run(self, spec: RunSpec) -> TestRun:
        return self._pool.run(spec)
