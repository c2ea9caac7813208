"""Docker backend: one hardened container per job, warm fork servers exec'd inside it.

Why this shape: starting a container per candidate costs ~0.5 s plus a fresh interpreter and pytest import;
the fork servers (repairbot/testing/server.py) already make a candidate cost one fork. So the job gets one
container (started once, restarted only if it dies) and `parallel` servers inside it, each started by
`docker exec` with stdin attached; a request is one JSON line over that exec's socket, no API call.

Paths need no translation: the job's scratch directory is bind-mounted read-write at its own absolute path,
and (offline mode) the interpreter's installation read-only at its own paths (see images.py). The test runner
(server.py and its pytest plugin, and repairbot's own copies of the instruments the test interpreter lacks
in `vendor/`, see repairbot/testing/instruments.py) is copied once per job into the scratch directory
(`.runner/`) and mounted from there, read-only, at the package's own path: the engine resolves bind mounts on
its host, which sees the scratch directory (DESIGN §7, webhooks/compose.yml) but not necessarily repairbot's
installation, as when a worker runs in a container and talks to the host's engine through its socket.

Each server runs behind a tiny in-container proxy (container_proxy.py, staged with the runner) that reads the
container's cgroup counters (pids limit hits, OOM kills) around every request, so a fork bomb or a memory hog
is reported as such, and that kills its server's process tree when the host side goes away.

No container outlives its job: removal on `__exit__`, at interpreter exit and on SIGTERM/SIGHUP; PID 1 in
the container (container_init.py) exits after a wall-clock limit and when no server has been alive for a
while (the host died); and every start sweeps labelled containers whose owner process is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from repairbot.errors import BadInput, EnvironmentProblem
from repairbot.models import RunSpec, TestRun
from repairbot.sandbox.images import ImageChoice, choose_image
from repairbot.sandbox.pool import ServerPool
from repairbot.testing import instruments
from repairbot.testing.runs import SERVER_PATH, TestCommand

LABEL = "repairbot.job"
RUNNER_DIR = ".runner"  # in the scratch directory: the staged test runner
# Standalone programs (stdlib, pytest, coverage: all they need), staged into the job's scratch directory.
_RUNNER_FILES = {
    "server.py": SERVER_PATH,
    "_repairbot_plugin.py": SERVER_PATH.with_name("_repairbot_plugin.py"),
    "container_init.py": Path(__file__).with_name("container_init.py"),
    "container_proxy.py": Path(__file__).with_name("container_proxy.py"),
}
# Where the container sees them: the staged runner is mounted at the test runner's own path.
_IN_CONTAINER = {name: str(SERVER_PATH.with_name(name)) for name in _RUNNER_FILES}
_NOBODY = "65534:65534"
_IDLE_EXIT_S = 120.0  # PID 1 exits when no server has run this long (the host process is gone)

UNREACHABLE = EnvironmentProblem(
    "the Docker engine is not reachable",
    hint="start it with `dockerd &` or `sudo systemctl start docker`, or pass --sandbox local to run without "
    "isolation",
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of a job's container. Environment overrides: REPAIRBOT_SANDBOX_MEMORY_MB, _CPUS,
    _PIDS, _TMPFS_MB, _WALL_S, _USER ("uid:gid")."""

    memory_mb: int = 2048
    cpus: float = 0.0  # 0: one per server, at most the host's CPUs
    pids: int = 512
    tmpfs_mb: int = 256
    wall_s: float = 6 * 3600.0  # the container dies after this even if nobody removes it
    user: str | None = None  # None: the host user, or nobody (65534) when repairbot runs as root
    idle_exit_s: float = _IDLE_EXIT_S  # PID 1 exits when no server has been alive this long

    @classmethod
    def from_env(cls) -> Limits:
        env = os.environ
        base = cls()
        try:
            return cls(
                memory_mb=int(env.get("REPAIRBOT_SANDBOX_MEMORY_MB", base.memory_mb)),
                cpus=float(env.get("REPAIRBOT_SANDBOX_CPUS", base.cpus)),
                pids=int(env.get("REPAIRBOT_SANDBOX_PIDS", base.pids)),
                tmpfs_mb=int(env.get("REPAIRBOT_SANDBOX_TMPFS_MB", base.tmpfs_mb)),
                wall_s=float(env.get("REPAIRBOT_SANDBOX_WALL_S", base.wall_s)),
                user=env.get("REPAIRBOT_SANDBOX_USER") or None,
            )
        except ValueError as exc:
            raise BadInput(f"a REPAIRBOT_SANDBOX_* setting is not a number: {exc}") from None

    def resolved_user(self) -> tuple[int, int]:
        spec = self.user
        if spec is None:
            uid = os.geteuid()
            spec = _NOBODY if uid == 0 else f"{uid}:{os.getegid()}"
        uid_s, _, gid_s = spec.partition(":")
        try:
            uid, gid = int(uid_s), int(gid_s or uid_s)
        except ValueError:
            raise BadInput(f"REPAIRBOT_SANDBOX_USER must be uid:gid, not {spec!r}") from None
        if uid == 0:
            raise BadInput("the sandbox never runs tests as root (REPAIRBOT_SANDBOX_USER=0)")
        return uid, gid


def connect_engine() -> Any:
    """A docker client for $DOCKER_HOST (or the local socket); UNREACHABLE when the engine does not answer."""
    try:
        import docker
        import docker.errors
    except ImportError:
        raise EnvironmentProblem("the docker Python package is missing", hint="pip install docker") from None
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException:
        raise UNREACHABLE from None
    except Exception:  # requests' connection errors
        raise UNREACHABLE from None
    return client


# -- the channel: one fork server behind an exec socket ---------------------------------------------------

_last_reply = threading.local()  # extra fields of the last reply seen by this thread (rb_pids, rb_oom)


class _ExecChannel:
    """A `docker exec` of the proxy + fork server with stdin attached; speaks the engine's stream framing."""

    def __init__(self, api: Any, container_id: str, argv: list[str], user: str, workdir: str) -> None:
        self._exec_id = api.exec_create(
            container_id, argv, stdin=True, stdout=True, stderr=False, user=user, workdir=workdir
        )["Id"]
        raw = api.exec_start(self._exec_id, socket=True)
        self._raw = raw
        self._sock: socket.socket = getattr(raw, "_sock", raw)
        self._frames = b""  # undecoded stream bytes
        self._lines = b""  # decoded stdout bytes
        self._closed = False
        self.before_send: Callable[[dict[str, Any]], None] | None = None

    def send(self, message: dict[str, Any]) -> None:
        if self.before_send is not None:
            self.before_send(message)
        # If the exec is gone, recv() reports it (None) and the pool replaces the server.
        with contextlib.suppress(OSError):
            self._sock.sendall((json.dumps(message) + "\n").encode())

    def recv(self, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._lines:
                line, self._lines = self._lines.split(b"\n", 1)
                try:
                    reply: dict[str, Any] = json.loads(line)
                except json.JSONDecodeError:
                    continue  # noise on stdout
                if "id" in reply:
                    _last_reply.extra = {k: reply.pop(k) for k in ("rb_pids", "rb_oom") if k in reply}
                    _last_reply.got = True
                return reply
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._sock], [], [], left)
            if not ready:
                return None
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return None
            if not chunk:
                return None  # the exec ended: the server (or the container) died
            self._frames += chunk
            self._decode()

    def _decode(self) -> None:
        # Stream framing without a TTY: 1 byte stream id, 3 zero bytes, 4 bytes big-endian length, payload.
        while len(self._frames) >= 8:
            stream, size = struct.unpack(">BxxxL", self._frames[:8])
            if len(self._frames) < 8 + size:
                return
            payload, self._frames = self._frames[8 : 8 + size], self._frames[8 + size :]
            if stream == 1:
                self._lines += payload

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # EOF on the proxy's stdin makes it kill its server's process tree.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(Exception):
            self._raw.close()


# -- cleanup of containers this process owns ---------------------------------------------------------------

_live: dict[str, Any] = {}  # container id -> client
_live_lock = threading.Lock()
_handlers_installed = False


def _remove(client: Any, container_id: str) -> None:
    with contextlib.suppress(Exception):
        client.api.remove_container(container_id, force=True)


def _remove_all() -> None:
    with _live_lock:
        items = list(_live.items())
        _live.clear()
    for cid, client in items:
        _remove(client, cid)


def _install_handlers() -> None:
    """atexit + SIGTERM/SIGHUP: remove our containers, then behave as the previous handler would."""
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_remove_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit + sweep still hold
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(signum)

        def handler(num: int, frame: FrameType | None, previous: Any = previous) -> None:
            _remove_all()
            if callable(previous):
                previous(num, frame)
            elif previous == signal.SIG_IGN:
                return
            else:
                raise SystemExit(128 + num)

        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, handler)


def sweep_stale(client: Any) -> list[str]:
    """Remove labelled containers whose owner process (on this host) is gone, or whose deadline passed."""
    removed: list[str] = []
    try:
        containers = client.api.containers(all=True, filters={"label": LABEL})
    except Exception:
        return removed
    host = socket.gethostname()
    now = time.time()
    for c in containers:
        labels = c.get("Labels") or {}
        stale = False
        with contextlib.suppress(ValueError):
            stale = float(labels.get("repairbot.deadline", "inf")) < now
        if not stale and labels.get("repairbot.host") == host:
            stale = not _pid_alive(labels.get("repairbot.pid", ""), labels.get("repairbot.pid_start", ""))
        if stale:
            _remove(client, c["Id"])
            removed.append(c["Id"])
    return removed


def _pid_start(pid: int) -> str:
    """The process's start time (clock ticks since boot): tells a live owner from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _pid_alive(pid_s: str, start: str) -> bool:
    try:
        pid = int(pid_s)
    except ValueError:
        return True  # not ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not start or not os.path.exists(f"/proc/{pid}") or _pid_start(pid) == start


# -- the sandbox --------------------------------------------------------------------------------------------


def stage_runner(scratch: Path) -> Path:
    """Copy the test runner into `scratch`/.runner, which the job's container mounts (see the module
    docstring); readable by any sandbox user. Returns the directory."""
    runner = scratch / RUNNER_DIR
    runner.mkdir(exist_ok=True)
    runner.chmod(0o755)
    for name, source in _RUNNER_FILES.items():
        copy = runner / name
        shutil.copyfile(source, copy)
        copy.chmod(0o644)
    return runner


class DockerSandbox:
    name = "docker"

    def __init__(
        self,
        scratch: Path,
        command: TestCommand,
        parallel: int = 0,
        *,
        image: str | None = None,
        job_id: str = "local",
        limits: Limits | None = None,
        project: Path | None = None,
        client: Any = None,
    ) -> None:
        self._client = client if client is not None else connect_engine()
        self._scratch = scratch.absolute()
        self._command = command
        self._image_arg = image
        self._job_id = job_id
        self._limits = limits or Limits.from_env()
        self._project = project
        self._uid, self._gid = self._limits.resolved_user()
        self._chown = self._uid != os.geteuid()
        if self._chown and os.geteuid() != 0:
            raise BadInput(
                f"the sandbox user {self._uid} differs from yours and repairbot is not root",
                hint="unset REPAIRBOT_SANDBOX_USER",
            )
        size = parallel or max(1, min(4, os.cpu_count() or 1))
        self._lock = threading.Lock()
        self._container_id: str | None = None
        self._choice: ImageChoice | None = None
        self.description = "docker (not started)"
        self.restarts = 0
        self._scratch.mkdir(parents=True, exist_ok=True)
        self._pool = ServerPool(self._connect, size, command, self._scratch, project=project)

    @property
    def max_parallel(self) -> int:
        return self._pool.size

    @property
    def notes(self) -> tuple[str, ...]:
        return (*(self._choice.notes if self._choice else ()), *self._pool.notes())

    @property
    def container_id(self) -> str | None:
        return self._container_id

    # lifecycle

    def __enter__(self) -> Self:
        _install_handlers()
        sweep_stale(self._client)
        self._choice = choose_image(
            self._client,
            self._command.interpreter,
            self._image_arg,
            self._project,
            user=(self._uid, self._gid),
            job_id=self._job_id,
        )
        if self._choice.mode == "image":
            self._pool.use_interpreter(self._choice.probe, self._choice.origins)
        self._hand_over(self._scratch, recursive=True)
        runner = stage_runner(self._scratch)  # after the hand-over: the runner stays the repairbot user's
        instruments.stage(runner, self._pool.probe)
        with self._lock:
            self._start_container()
        limits = self._limits
        self.description = (
            f"docker, {self._choice.description}; no network, read-only root, "
            f"{limits.memory_mb} MiB, {self._cpus():g} CPUs, {limits.pids} pids, uid {self._uid}"
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._pool.close()
        finally:
            with self._lock:
                cid, self._container_id = self._container_id, None
            if cid is not None:
                _remove(self._client, cid)
                with _live_lock:
                    _live.pop(cid, None)

    def _cpus(self) -> float:
        return self._limits.cpus or float(max(1, min(self._pool.size, os.cpu_count() or 1)))

    def _start_container(self) -> None:
        """(Re)start the job's container; the caller holds `_lock`."""
        assert self._choice is not None
        if self._container_id is not None:
            _remove(self._client, self._container_id)
            with _live_lock:
                _live.pop(self._container_id, None)
        limits, choice = self._limits, self._choice
        # "source:target:mode", each at its own path; a list, since two targets may share one real source
        # (a symlinked /lib and /usr/lib).
        binds = [f"{os.path.realpath(p)}:{p}:ro" for p in choice.mounts]
        real = self._scratch.resolve()
        targets = sorted({str(self._scratch), str(real)})
        binds += [f"{real}:{target}:rw" for target in targets]
        # The staged runner at the package's path, and over its own place in the scratch mount: read-only in
        # both, so nothing a test does changes what later runs (or a restarted container) load.
        runner = real / RUNNER_DIR
        binds += [
            f"{runner}:{target}:ro"
            for target in (str(SERVER_PATH.parent), *(f"{t}/{RUNNER_DIR}" for t in targets))
        ]
        odd = [b for b in binds if b.count(":") != 2]
        if odd:
            raise BadInput(f"a path the sandbox mounts contains ':': {odd[0]}")
        deadline = time.time() + limits.wall_s
        labels = {
            LABEL: self._job_id,
            "repairbot.pid": str(os.getpid()),
            "repairbot.pid_start": _pid_start(os.getpid()),
            "repairbot.host": socket.gethostname(),
            "repairbot.deadline": f"{deadline:.0f}",
        }
        import docker.errors

        try:
            container = self._client.containers.create(
                choice.ref,
                [
                    choice.python,
                    _IN_CONTAINER["container_init.py"],
                    f"{limits.wall_s:g}",
                    f"{limits.idle_exit_s:g}",
                ],
                auto_remove=True,
                labels=labels,
                user=f"{self._uid}:{self._gid}",
                working_dir=str(self._scratch),
                environment=self._environment(),
                volumes=binds,
                network_mode="none",
                read_only=True,
                tmpfs={"/tmp": f"rw,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"},
                mem_limit=f"{limits.memory_mb}m",
                memswap_limit=f"{limits.memory_mb}m",
                nano_cpus=int(self._cpus() * 1e9),
                pids_limit=limits.pids,
                security_opt=["no-new-privileges"],
                cap_drop=["ALL"],
                ipc_mode="private",
                stop_signal="SIGKILL",
            )
        except docker.errors.DockerException as exc:
            raise EnvironmentProblem(
                f"cannot create the sandbox container: {str(exc).splitlines()[0][:300]}",
                hint="check `docker info`; pass --sandbox local to run without isolation",
            ) from None
        try:
            container.start()
        except docker.errors.DockerException as exc:
            _remove(self._client, container.id)
            raise EnvironmentProblem(
                f"cannot start the sandbox container: {str(exc).splitlines()[0][:300]}",
                hint="check `docker info`; pass --sandbox local to run without isolation",
            ) from None
        self._container_id = container.id
        with _live_lock:
            _live[container.id] = self._client

    def _environment(self) -> dict[str, str]:
        """Nothing from the host: only what Python and tests need."""
        assert self._choice is not None
        path = ["/usr/local/bin", "/usr/bin", "/bin"]
        if os.path.isabs(self._choice.python):  # a virtualenv's console scripts (image mode) or the host's
            path.insert(0, os.path.dirname(self._choice.python))
        return {
            "PATH": ":".join(path),
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }

    def _running(self) -> bool:
        if self._container_id is None:
            return False
        try:
            state = self._client.api.inspect_container(self._container_id)["State"]
        except Exception:
            return False
        return bool(state.get("Running"))

    def _connect(self) -> _ExecChannel:
        """Start one fork server in the container (restarting the container if it died)."""
        import docker.errors

        assert self._choice is not None, "use the sandbox as a context manager"
        argv = [self._choice.python, _IN_CONTAINER["container_proxy.py"], str(SERVER_PATH), "repairbot-proxy"]
        for attempt in range(2):
            with self._lock:
                if not self._running():
                    self.restarts += 1
                    self._start_container()
                cid = self._container_id
            assert cid is not None
            try:
                channel = _ExecChannel(
                    self._client.api, cid, argv, f"{self._uid}:{self._gid}", str(self._scratch)
                )
            except docker.errors.DockerException:
                if attempt:
                    raise EnvironmentProblem("cannot start the test runner in its container") from None
                with self._lock:  # the container died under us: replace it on the next attempt
                    if self._container_id == cid:
                        _remove(self._client, cid)
                continue
            channel.before_send = self._prepare_request
            return channel
        raise EnvironmentProblem("cannot start the test runner in the sandbox container")

    # ownership: the sandbox user must be able to write results and test files under scratch

    def _hand_over(self, path: Path, *, recursive: bool) -> None:
        if not self._chown:
            return
        try:
            os.chown(path, self._uid, self._gid)
            if recursive:
                for root, dirs, files in os.walk(path):
                    for name in (*dirs, *files):
                        with contextlib.suppress(FileNotFoundError):
                            os.chown(os.path.join(root, name), self._uid, self._gid, follow_symlinks=False)
        except PermissionError:
            raise EnvironmentProblem(f"cannot give {path} to the sandbox user {self._uid}") from None

    def _prepare_request(self, request: dict[str, Any]) -> None:
        if not self._chown or request.get("quit"):
            return
        out_dir = Path(str(request.get("log", ""))).parent
        if out_dir.is_relative_to(self._scratch):
            self._hand_over(out_dir, recursive=True)

    def _own_tree(self, workdir: Path) -> None:
        # One stat per run: a tree that was (re)created since the last run is handed over again.
        if self._chown and workdir.is_dir() and workdir.stat().st_uid != self._uid:
            self._hand_over(workdir, recursive=True)

    # running

    def run(self, spec: RunSpec) -> TestRun:
        workdir = spec.workdir.absolute()
        if not (workdir.is_relative_to(self._scratch) or workdir.is_relative_to(self._scratch.resolve())):
            raise BadInput(f"{workdir} is outside the sandbox's scratch directory {self._scratch}")
        self._own_tree(workdir)
        for attempt in range(2):
            _last_reply.extra, _last_reply.got = {}, False
            result = self._pool.run(spec)
            if _last_reply.got or attempt or self._running():
                break
            # No reply because the container itself is gone (killed, engine restart): that says nothing
            # about the candidate, so run it again in a fresh container.
        extra: dict[str, int] = _last_reply.extra
        return _verdict(result, extra)


def _verdict(result: TestRun, extra: dict[str, int]) -> TestRun:
    """Name the resource limit a run ran into. The cgroup counters are container-wide (a concurrent run may
    have hit the limit), so a run is only blamed when it shows the symptom itself."""
    if result.exit_code == 0 and not result.timed_out and result.killed is None:
        return result
    oom, pids = extra.get("rb_oom", 0) > 0, extra.get("rb_pids", 0) > 0
    if oom and result.killed in ("memory", "crash"):
        return replace(result, killed="memory")
    if pids and (result.killed is not None or any(s in result.output for s in _FORK_FAILED)):
        return replace(result, killed="pids")
    if result.killed == "memory" and extra and not oom:
        # SIGKILL without an OOM kill in the container: something else killed it, not the memory limit.
        return replace(result, killed="crash")
    return result


_FORK_FAILED = ("Resource temporarily unavailable", "BlockingIOError", "can't start new thread")
