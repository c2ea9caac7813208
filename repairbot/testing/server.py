"""Fork server: runs test requests in forked children of one warm interpreter.

Started once per sandbox slot (a local subprocess, or a process inside the job's container) as
`python server.py [VENDOR]` (VENDOR: the folder of repairbot's own instruments, default `vendor/` beside
it); it imports pytest (and coverage) once, then for every request forks a child that runs pytest in the
requested directory. The child never shares project modules with the parent (the parent never
imports them), so every candidate is imported fresh, and startup costs a fork instead of an interpreter.

Protocol: one JSON object per line on stdin, one JSON object per line on stdout.
request:  {"id": str, "cwd": str, "env": {str: str}, "timeout": float, "log": str,
           "pytest": [args] | null, "argv": [args] | null, "limits": {"as_mb": int, "nproc": int} | null,
           "tree": {"origins": [str], "entries": [str], "links": {str: [str]}} | null}   (see origin.py)
reply:    {"id": str, "exit_code": int | null, "signal": int | null, "timed_out": bool, "seconds": float}
`pytest` runs pytest.main(args) in a forked child; `argv` runs an arbitrary command (custom --test-cmd).
Standalone: standard library, pytest and coverage only (it runs under the project's interpreter; where that
lacks them, repairbot's own copies are on the path). The first line it prints is {"ready": true, "pid": n,
"instruments": {"pytest": "...", "coverage": "..."}}: which copy of each instrument it loaded.
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


def _redirect_imports(tree: dict[str, Any] | None, copy: str) -> None:
    """Make the tree under test (`copy`) what the project's imports resolve to, however the project is
    installed in this interpreter (see repairbot/testing/origin.py): path entries into the user's tree and
    link trees become the copy's folders, editable-install import hooks map to the copy, modules of the
    user's tree imported before the fork are dropped, and PYTHONPATH carries the copy's roots to the
    subprocesses a test starts. Entries the copy lacks (a virtualenv inside the project) stay as they are."""
    if not tree:
        return
    origins = [o.rstrip(os.sep) for o in tree.get("origins") or () if o]
    links: dict[str, list[str]] = tree.get("links") or {}
    copy = copy.rstrip(os.sep)

    def mapped(path: str) -> str | None:
        path = os.path.normpath(path)
        for origin in origins:
            if path == origin or path.startswith(origin + os.sep):
                new = copy + path[len(origin) :]
                return new if os.path.exists(new) else None
        return None

    # In a container site.py dropped the `.pth` lines whose folders are absent: the host's view comes back.
    present = {os.path.normpath(e) for e in sys.path if e}
    sys.path[0:0] = [e for e in tree.get("entries") or () if e not in present]
    roots: list[str] = []
    new_path: list[str] = []
    for entry in sys.path:
        targets = links.get(os.path.normpath(entry)) if entry else None
        if targets is not None:
            found = [m for m in map(mapped, targets) if m]
            new_path.extend(found)
            roots.extend(found)
            continue
        new = mapped(entry) if entry else None
        if new:
            roots.append(new)
        new_path.append(new or entry)
    sys.path[:] = list(dict.fromkeys(new_path))
    for finder in list(sys.meta_path):
        module = sys.modules.get(getattr(finder, "__module__", "") or "")
        # setuptools' editable finder: module-level MAPPING {name: path} and NAMESPACES {name: [paths]}.
        table = getattr(module, "MAPPING", None) if module is not None else None
        if isinstance(table, dict) and str(getattr(module, "__name__", "")).startswith("__editable__"):
            for name, path in list(table.items()):
                new = mapped(str(path))
                if new:
                    table[name] = new
                    roots.append(os.path.dirname(new))
            spaces = getattr(module, "NAMESPACES", None)
            if isinstance(spaces, dict):
                for name, paths in list(spaces.items()):
                    spaces[name] = [mapped(str(p)) or p for p in paths]
        # `editables` (hatchling's editable installs): {module name: path of its file or __init__.py}.
        redirections = getattr(finder, "_redirections", None)
        if isinstance(redirections, dict):
            for name, path in list(redirections.items()):
                new = mapped(str(path))
                if new:
                    redirections[name] = new
    sys.path_importer_cache.clear()
    for name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None)
        if isinstance(file, str) and mapped(file):
            del sys.modules[name]
    if roots:
        extra = os.environ.get("PYTHONPATH", "")
        os.environ["PYTHONPATH"] = os.pathsep.join([*dict.fromkeys(roots), *([extra] if extra else [])])


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
        _redirect_imports(req.get("tree"), req["cwd"])
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


def _instruments(vendor: str) -> dict[str, str]:
    """Put repairbot's own copies of the instruments the interpreter lacks on the path (staged by the host,
    see repairbot/testing/instruments.py), then say where each one comes from."""
    for name in ("pytest", "coverage"):
        folder = os.path.join(vendor, name)
        try:
            with open(folder + ".mode", encoding="utf-8") as fh:
                mode = fh.read().strip()
        except OSError:
            continue
        if mode == "incompatible":
            sys.path.insert(0, folder)  # before the interpreter's own, older copy
        else:
            sys.path.append(folder)
    report: dict[str, str] = {}
    for name in ("pytest", "coverage"):
        try:
            module = __import__(name)
        except BaseException as exc:  # an instrument that does not import is reported, not fatal here
            report[name] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
            continue
        origin = os.path.realpath(getattr(module, "__file__", "") or "")
        own = origin.startswith(os.path.realpath(vendor) + os.sep)
        report[name] = f"{'repairbot' if own else 'interpreter'} {getattr(module, '__version__', '?')}"
    return report


def serve() -> None:
    vendor = sys.argv[1] if len(sys.argv) > 1 else os.path.join(_HERE, "vendor")
    instruments = _instruments(vendor)
    _freeze_distributions()
    _warm_imports()
    # Everything imported so far lives as long as the server: keep it out of every child's garbage
    # collections (pytest collects several times per session; scanning all of pytest and its plugins
    # cost more than half of a small run).
    gc.collect()
    gc.freeze()
    # Reap nothing automatically: we wait for each child ourselves.
    print(json.dumps({"ready": True, "pid": os.getpid(), "instruments": instruments}), flush=True)
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
