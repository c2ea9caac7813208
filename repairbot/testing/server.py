"""Fork server: runs test requests in forked children of one warm interpreter.

Started once per sandbox slot (a local subprocess, or a process inside the job's container) as
`python server.py`; it imports pytest (and coverage) once, then for every request forks a child that runs
pytest in the requested directory. The child never shares project modules with the parent (the parent never
imports them), so every candidate is imported fresh, and startup costs a fork instead of an interpreter.

Protocol: one JSON object per line on stdin, one JSON object per line on stdout.
request:  {"id": str, "cwd": str, "env": {str: str}, "timeout": float, "log": str,
           "pytest": [args] | null, "argv": [args] | null, "limits": {"as_mb": int, "nproc": int} | null}
reply:    {"id": str, "exit_code": int | null, "signal": int | null, "timed_out": bool, "seconds": float}
`pytest` runs pytest.main(args) in a forked child; `argv` runs an arbitrary command (custom --test-cmd).
Standalone: standard library, pytest and coverage only (it runs under the project's interpreter).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.metadata
import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))


def _warm_imports() -> None:
    """Import, once, everything a pytest run imports: pytest, coverage and the installed pytest plugins.

    A throwaway session on an empty test makes plugins import their lazy dependencies too (hypothesis'
    plugin imports all of hypothesis at the end of a session: over a second per run if left to the child).
    Our own plugin is left out on purpose: it reads its settings at import, per run.
    """
    import tempfile

    import pytest

    with contextlib.suppress(ImportError):
        import coverage  # noqa: F401
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)  # stdout is the protocol channel: keep the warm-up session off it
        os.dup2(devnull, 2)
        with tempfile.TemporaryDirectory(prefix="repairbot-warm-") as tmp:
            with open(os.path.join(tmp, "test_warm.py"), "w", encoding="utf-8") as fh:
                fh.write("def test_warm():\n    assert True\n")
            pytest.main(["-q", "-p", "no:cacheprovider", f"--junitxml={tmp}/j.xml", f"--rootdir={tmp}", tmp])
    except BaseException:  # a broken plugin shows up in the real runs, with its message
        pass
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


class _FrozenDistribution(importlib.metadata.Distribution):
    """An installed distribution read once: pytest and pluggy scan every distribution's entry points and
    file lists at each session start (a third of a small run); the environment does not change under us."""

    def __init__(self, dist: importlib.metadata.Distribution) -> None:
        self._dist = dist
        self._files: Any = None

    def read_text(self, filename: str) -> str | None:
        return self._dist.read_text(filename)

    def locate_file(self, path: Any) -> Any:
        return self._dist.locate_file(path)

    @functools.cached_property
    def metadata(self) -> Any:
        return self._dist.metadata

    @functools.cached_property
    def entry_points(self) -> Any:
        return self._dist.entry_points

    @property
    def files(self) -> Any:
        return self._files if self._files is not None else self._dist.files

    @functools.cached_property
    def _normalized_name(self) -> Any:
        return getattr(self._dist, "_normalized_name", None) or self.metadata["Name"]


def _freeze_distributions() -> None:
    """Serve the installed distributions from memory to every child (filters go to the real scan)."""
    scan = importlib.metadata.distributions
    try:
        frozen = [_FrozenDistribution(d) for d in scan()]
        for d in frozen:
            d.metadata, d._normalized_name  # noqa: B018 (read now, in the parent)
            # pytest lists the files of its plugins only; all file lists would cost tens of MB (torch).
            if any(ep.group == "pytest11" for ep in d.entry_points):
                d._files = d._dist.files
    except Exception:  # an odd installation: keep the real scan
        return

    def distributions(**kwargs: Any) -> Any:
        return iter(frozen) if not kwargs else scan(**kwargs)

    importlib.metadata.distributions = distributions


def _apply_limits(limits: dict[str, int] | None) -> None:
    if not limits:
        return
    import resource

    if limits.get("as_mb"):
        size = int(limits["as_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    if limits.get("nproc"):
        n = int(limits["nproc"])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))


def _child(req: dict[str, Any]) -> None:
    """In the forked child: never returns."""
    code = 70
    try:
        os.setsid()  # own process group, so a timeout kills everything the test started
        log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.chdir(req["cwd"])
        os.environ.update(req.get("env") or {})
        sys.dont_write_bytecode = True  # never write __pycache__ into work trees
        _apply_limits(req.get("limits"))
        if req.get("argv"):
            os.execvpe(req["argv"][0], req["argv"], os.environ)
        import pytest

        sys.path.insert(0, _HERE)  # for `-p _repairbot_plugin`
        sys.path.insert(0, req["cwd"])
        code = int(pytest.main(list(req["pytest"])))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid: int, timeout: float) -> tuple[int | None, int | None, bool]:
    """Wait for the child; kill its whole process group past the timeout. (exit_code, signal, timed_out)"""
    deadline = time.monotonic() + timeout
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    timed_out = False
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                _kill_group(pid)
                _, status = os.waitpid(pid, 0)
                break
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.005))
    finally:
        if pidfd is not None:
            os.close(pidfd)
    _kill_group(pid)  # leftovers a test started in the background
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status), timed_out
    return os.WEXITSTATUS(status), None, timed_out


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def serve() -> None:
    _freeze_distributions()
    _warm_imports()
    # Everything imported so far lives as long as the server: keep it out of every child's garbage
    # collections (pytest collects several times per session; scanning all of pytest and its plugins
    # cost more than half of a small run).
    gc.collect()
    gc.freeze()
    # Reap nothing automatically: we wait for each child ourselves.
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req.get("quit"):
            break
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(req)
        exit_code, sig, timed_out = _wait(pid, float(req.get("timeout", 60)))
        reply = {
            "id": req.get("id"),
            "exit_code": exit_code,
            "signal": sig,
            "timed_out": timed_out,
            "seconds": time.monotonic() - start,
        }
        print(json.dumps(reply), flush=True)


def run_once(req: dict[str, Any]) -> dict[str, Any]:
    """Run one request in a fresh subprocess of this interpreter (no warm server)."""
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__)],
        input=json.dumps(req) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    lines: list[dict[str, Any]] = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    return lines[-1]


if __name__ == "__main__":
    serve()
