"""Real Redis and PostgreSQL servers for tests: one of each per session, started from the installed binaries.

Each test gets a clean Redis database (flushed) and a fresh PostgreSQL database on the session's cluster.
Without the binaries the tests that need them are skipped with the reason; with REPAIRBOT_REQUIRE_SERVICES=1
(CI) they fail instead, so a CI machine that lost a server cannot pass silently.

PostgreSQL refuses to run as root: as root the cluster is created and run as the `postgres` system user, in a
temporary directory of its own (not under pytest's tmp, which only root may enter).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

REQUIRE_ENV = "REPAIRBOT_REQUIRE_SERVICES"
_START_TIMEOUT_S = 30.0


def unavailable(what: str, why: str) -> NoReturn:
    """Skip (developer machine) or fail (CI, REPAIRBOT_REQUIRE_SERVICES=1): `what` cannot run."""
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{REQUIRE_ENV} is set but {what} is unavailable: {why}", pytrace=False)
    pytest.skip(f"{what} unavailable: {why}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes], sig: int, timeout: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait_until(ready: Any, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {_START_TIMEOUT_S:.0f}s:\n{log.read_text()[-2000:]}")


# -- Redis -------------------------------------------------------------------------------------------------


class RedisServer:
    """`redis-server` on a free loopback port, nothing persisted."""

    def __init__(self, binary: str, root: Path) -> None:
        self.port = free_port()
        self.log = root / "redis.log"
        self.proc = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "no"),
                *("--save", "", "--appendonly", "no", "--dir", str(root), "--logfile", str(self.log)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        _wait_until(self._pings, self.proc, self.log, "redis-server")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def _pings(self) -> bool:
        try:
            return self.client().ping() is True
        except Exception:
            return False

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url(), socket_timeout=5)

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("Redis", "redis-server is not on PATH (apt-get install redis-server)")
    try:
        import redis  # noqa: F401
    except ImportError:
        unavailable("Redis", "the redis package is not installed (pip install -e '.[redis]')")
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """An empty Redis database for this test."""
    redis_server.client().flushall()
    return redis_server.url()


# -- PostgreSQL --------------------------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """Where initdb and postgres are: PATH, else Debian's /usr/lib/postgresql/<newest>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
    )
    return Path(versions[-1]).parent if versions else None


class PostgresServer:
    """A throwaway cluster: initdb (trust auth, no fsync) and `postgres` on a free loopback port."""

    def __init__(self, bindir: Path) -> None:
        self.port = free_port()
        # As root the server runs as `postgres`, which must reach its directory: not under pytest's tmp.
        self.root = Path(tempfile.mkdtemp(prefix="repairbot-pg-"))
        self.log = self.root / "postgres.log"
        run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            import pwd

            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root)
                unavailable("PostgreSQL", "running as root and there is no `postgres` user to run the server")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        data = self.root / "data"
        subprocess.run(
            [
                *(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"),
                *("--no-locale", "-E", "UTF8"),
            ],
            check=True,
            capture_output=True,
            cwd=self.root,
            **run_as,
        )
        self.proc = subprocess.Popen(
            [
                *(str(bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.root)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"),
                *("-c", "full_page_writes=off", "-c", "max_connections=200"),
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=self.root,
            **run_as,
        )
        _wait_until(self._answers, self.proc, self.log, "postgres")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _answers(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url(), connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    def create_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT)  # "fast" shutdown: ends the sessions tests left open
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    if bindir is None:
        unavailable("PostgreSQL", "initdb/postgres not found (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("PostgreSQL", "psycopg is not installed (pip install -e '.[postgres]')")
    server = PostgresServer(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh PostgreSQL database for this test."""
    return postgres_server.create_database()


# -- both ------------------------------------------------------------------------------------------------


BACKENDS = ("sqlite", "redis+postgres")
# A test so marked runs twice: on the embedded defaults, and on a real Redis queue and PostgreSQL records.
on_both_backends = pytest.mark.parametrize("backends", BACKENDS, indirect=True)


@pytest.fixture
def backends(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings overrides for where the queue and the run records live (REPAIRBOT_QUEUE_URL,
    REPAIRBOT_DATABASE_URL): the embedded SQLite defaults unless the test is marked `on_both_backends`."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return {}
    return {
        "queue_url": request.getfixturevalue("redis_url"),
        "database_url": request.getfixturevalue("postgres_url"),
    }
