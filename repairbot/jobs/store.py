"""Run records, webhook deliveries, leases/locks and installations in one SQL database.

SQLite (a file in REPAIRBOT_DATA_DIR) by default; PostgreSQL when REPAIRBOT_DATABASE_URL is postgresql://…
(psycopg is imported only then). The SQL is the common subset of both dialects; placeholders are written `?`
and rewritten for psycopg.

Why a lease and not only the queue: an embedded queue deletes a task when a worker takes it, so a worker
killed mid-job would lose it. A run is claimed with a lease that its worker renews; a run whose lease expired
is put back on the queue by `stale_runs` + the worker's recovery loop.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repairbot.errors import EnvironmentProblem

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS deliveries (
        id TEXT PRIMARY KEY, event TEXT NOT NULL, received_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, delivery TEXT, event TEXT NOT NULL, trigger TEXT NOT NULL,
        repo TEXT NOT NULL, installation_id BIGINT, number BIGINT, sha TEXT, lock_key TEXT NOT NULL,
        payload TEXT NOT NULL, status TEXT NOT NULL, outcome TEXT, detail TEXT, error TEXT,
        pr_url TEXT, comment_url TEXT, check_run_id BIGINT, patch TEXT, attempts INTEGER NOT NULL DEFAULT 0,
        created_at DOUBLE PRECISION NOT NULL, enqueued_at DOUBLE PRECISION, started_at DOUBLE PRECISION,
        finished_at DOUBLE PRECISION, lease_until DOUBLE PRECISION, worker TEXT)""",
    "CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at)",
    "CREATE INDEX IF NOT EXISTS runs_status ON runs (status)",
    """CREATE TABLE IF NOT EXISTS locks (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS installations (
        id BIGINT PRIMARY KEY, account TEXT NOT NULL, repositories TEXT NOT NULL,
        suspended INTEGER NOT NULL DEFAULT 0, updated_at DOUBLE PRECISION NOT NULL)""",
)

ACTIVE = ("queued", "running")
log = logging.getLogger("repairbot.jobs")
_SCHEMA_LOCK = 0x7265_7061_6972  # "repair": the advisory lock key that serializes schema creation


@dataclass(frozen=True, slots=True)
class NewRun:
    event: str
    trigger: str  # push | issue | issue_command | pull_request | review_command
    repo: str  # owner/name
    installation_id: int | None
    lock_key: str  # jobs with the same key never run at the same time
    payload: dict[str, Any]
    number: int | None = None
    sha: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    delivery: str | None
    event: str
    trigger: str
    repo: str
    installation_id: int | None
    number: int | None
    sha: str | None
    lock_key: str
    payload: dict[str, Any]
    status: str
    outcome: str | None
    detail: str | None
    error: str | None
    pr_url: str | None
    comment_url: str | None
    check_run_id: int | None
    patch: str | None
    attempts: int
    created_at: float
    enqueued_at: float | None
    started_at: float | None
    finished_at: float | None
    lease_until: float | None
    worker: str | None

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at


_COLUMNS = list(RunRecord.__slots__)


class Store:
    """Thread-safe access; one connection per thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        if url.startswith("sqlite:///") or url == "sqlite://":
            self.kind = "sqlite"
            self._path = url[len("sqlite:///") :] or ":memory:"
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        elif url.startswith(("postgresql://", "postgres://")):
            self.kind = "postgres"
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise EnvironmentProblem(
                    "REPAIRBOT_DATABASE_URL is PostgreSQL but psycopg is not installed",
                    hint="pip install 'psycopg[binary]'",
                ) from None
        else:
            raise EnvironmentProblem(
                f"unsupported REPAIRBOT_DATABASE_URL: {url} (use sqlite:/// or postgresql://)"
            )
        with self._tx() as cur:
            if self.kind == "postgres":
                # CREATE … IF NOT EXISTS is not safe against itself in PostgreSQL: a server and workers
                # starting together on an empty database would collide on the catalog. Take turns.
                cur.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            for ddl in SCHEMA:
                cur.execute(ddl)

    # -- connections -------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not (self.kind == "postgres" and (conn.closed or conn.broken)):
            return conn
        if self.kind == "sqlite":
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit does not fsync; the database stays consistent after a crash and loses at
            # most the last transactions on power loss, which GitHub's redelivery covers.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
        else:
            import psycopg

            conn = psycopg.connect(self.url, autocommit=True)
        self._local.conn = conn
        return conn

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.kind == "postgres" else sql

    def _cursor(self, first: str, params: Sequence[Any] = ()) -> Any:
        """A cursor that ran `first`. A PostgreSQL connection lost while idle (a server restart, a failover,
        an idle timeout) fails on its first statement, before anything was done: reconnect, run it again."""
        for retry in (False, True):
            conn = self._connect()
            cur = conn.cursor()
            try:
                cur.execute(first, tuple(params))
                return cur
            except Exception:
                cur.close()
                if retry or self.kind != "postgres" or not conn.broken:
                    raise
                log.warning("the PostgreSQL connection was lost; reconnecting")
        raise AssertionError("unreachable")

    @contextmanager
    def _tx(self) -> Iterator[_Cursor]:
        cur = self._cursor("BEGIN IMMEDIATE" if self.kind == "sqlite" else "BEGIN")
        try:
            yield _Cursor(cur, self._sql)
        except BaseException:
            # A connection lost mid-transaction cannot roll back (the server already did); the next call
            # reconnects.
            with suppress(Exception):
                cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._cursor(self._sql(sql), params)
        try:
            return list(cur.fetchall())
        finally:
            cur.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- deliveries and runs -----------------------------------------------------------------------------

    def accept_delivery(self, delivery: str, event: str, run: NewRun | None) -> bool:
        """Record a delivery (and its run) atomically. False: this delivery id was seen before."""
        now = time.time()
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (delivery, event, now),
            )
            if cur.rowcount == 0:
                return False
            if run is not None:
                self._insert_run(cur, run, delivery, now)
        return True

    def create_run(self, run: NewRun, delivery: str | None = None) -> None:
        with self._tx() as cur:
            self._insert_run(cur, run, delivery, time.time())

    def _insert_run(self, cur: _Cursor, run: NewRun, delivery: str | None, now: float) -> None:
        cur.execute(
            "INSERT INTO runs (id, delivery, event, trigger, repo, installation_id, number, sha, lock_key, "
            "payload, status, created_at, enqueued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
            (
                run.id,
                delivery,
                run.event,
                run.trigger,
                run.repo,
                run.installation_id,
                run.number,
                run.sha,
                run.lock_key,
                json.dumps(run.payload, separators=(",", ":")),
                now,
                now,
            ),
        )

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._query(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE id = ?", (run_id,))
        return _record(rows[0]) if rows else None

    def recent_runs(self, limit: int = 50) -> list[RunRecord]:
        rows = self._query(
            f"SELECT {', '.join(_COLUMNS)} FROM runs ORDER BY created_at DESC LIMIT ?", (limit,)
        )
        return [_record(r) for r in rows]

    def count_runs(self, status: str | None = None) -> int:
        if status is None:
            return int(self._query("SELECT COUNT(*) FROM runs")[0][0])
        return int(self._query("SELECT COUNT(*) FROM runs WHERE status = ?", (status,))[0][0])

    def claim(self, run_id: str, worker: str, lease_s: float) -> RunRecord | None:
        """Take a queued run, or a running one whose worker's lease expired. None: not ours to run."""
        now = time.time()
        with self._tx() as cur:
            cur.execute(
                "UPDATE runs SET status = 'running', worker = ?, lease_until = ?, attempts = attempts + 1, "
                "started_at = COALESCE(started_at, ?) "
                "WHERE id = ? AND (status = 'queued' OR (status = 'running' AND lease_until < ?))",
                (worker, now + lease_s, now, run_id, now),
            )
            claimed = cur.rowcount == 1
        return self.get_run(run_id) if claimed else None

    def renew(self, run_id: str, worker: str, lease_s: float) -> bool:
        with self._tx() as cur:
            cur.execute(
                "UPDATE runs SET lease_until = ? WHERE id = ? AND worker = ? AND status = 'running'",
                (time.time() + lease_s, run_id, worker),
            )
            return cur.rowcount == 1

    def requeue(self, run_id: str, error: str | None = None, attempt_used: bool = True) -> None:
        """Back to the queue (a retry with backoff, or a lock held by another job)."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE runs SET status = 'queued', lease_until = NULL, worker = NULL, enqueued_at = ?, "
                "error = COALESCE(?, error), attempts = attempts - ? WHERE id = ?",
                (time.time(), error, 0 if attempt_used else 1, run_id),
            )

    def note(self, run_id: str, **fields: Any) -> None:
        """Store partial results as soon as they exist (a PR URL before the run ends)."""
        allowed = {"outcome", "detail", "pr_url", "comment_url", "check_run_id", "patch", "sha", "error"}
        assert set(fields) <= allowed, fields
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._tx() as cur:
            cur.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*fields.values(), run_id))

    def finish(self, run_id: str, status: str, outcome: str, **fields: Any) -> None:
        self.note(run_id, **fields)
        with self._tx() as cur:
            cur.execute(
                "UPDATE runs SET status = ?, outcome = ?, finished_at = ?, lease_until = NULL WHERE id = ?",
                (status, outcome, time.time(), run_id),
            )

    def stale_runs(self, queued_after_s: float) -> list[str]:
        """Runs a dead worker held (lease expired) or that sat queued too long (never reached the queue)."""
        now = time.time()
        rows = self._query(
            "SELECT id FROM runs WHERE (status = 'running' AND lease_until < ?) "
            "OR (status = 'queued' AND enqueued_at < ?) ORDER BY created_at",
            (now, now - queued_after_s),
        )
        ids = [r[0] for r in rows]
        if ids:
            with self._tx() as cur:
                for run_id in ids:
                    cur.execute(
                        "UPDATE runs SET enqueued_at = ? WHERE id = ? AND status IN ('queued', 'running')",
                        (now, run_id),
                    )
        return ids

    def prs_opened_since(self, repo: str, since: float) -> int:
        rows = self._query(
            "SELECT COUNT(*) FROM runs WHERE repo = ? AND outcome = 'pr_opened' AND finished_at >= ?",
            (repo, since),
        )
        return int(rows[0][0])

    # -- locks -------------------------------------------------------------------------------------------

    def acquire_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        now = time.time()
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                "SET owner = excluded.owner, expires_at = excluded.expires_at "
                "WHERE locks.expires_at < ? OR locks.owner = excluded.owner",
                (name, owner, now + ttl_s, now),
            )
            return cur.rowcount == 1

    def renew_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        with self._tx() as cur:
            cur.execute(
                "UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ?",
                (time.time() + ttl_s, name, owner),
            )
            return cur.rowcount == 1

    def release_lock(self, name: str, owner: str) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))

    # -- installations -----------------------------------------------------------------------------------

    def upsert_installation(
        self, installation_id: int, account: str, repositories: list[str] | None, suspended: bool = False
    ) -> None:
        with self._tx() as cur:
            cur.execute("SELECT repositories FROM installations WHERE id = ?", (installation_id,))
            row = cur.fetchone()
            repos = repositories if repositories is not None else (json.loads(row[0]) if row else [])
            cur.execute(
                "INSERT INTO installations (id, account, repositories, suspended, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET account = excluded.account, "
                "repositories = excluded.repositories, suspended = excluded.suspended, "
                "updated_at = excluded.updated_at",
                (installation_id, account, json.dumps(sorted(set(repos))), int(suspended), time.time()),
            )

    def change_installation_repos(self, installation_id: int, added: list[str], removed: list[str]) -> None:
        with self._tx() as cur:
            cur.execute("SELECT repositories FROM installations WHERE id = ?", (installation_id,))
            row = cur.fetchone()
            repos = set(json.loads(row[0])) if row else set()
            repos = (repos | set(added)) - set(removed)
            if row:
                cur.execute(
                    "UPDATE installations SET repositories = ?, updated_at = ? WHERE id = ?",
                    (json.dumps(sorted(repos)), time.time(), installation_id),
                )
            else:
                cur.execute(
                    "INSERT INTO installations (id, account, repositories, suspended, updated_at) "
                    "VALUES (?, '', ?, 0, ?)",
                    (installation_id, json.dumps(sorted(repos)), time.time()),
                )

    def delete_installation(self, installation_id: int) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM installations WHERE id = ?", (installation_id,))

    def installation(self, installation_id: int) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT id, account, repositories, suspended FROM installations WHERE id = ?", (installation_id,)
        )
        if not rows:
            return None
        i, account, repos, suspended = rows[0]
        return {"id": i, "account": account, "repositories": json.loads(repos), "suspended": bool(suspended)}


class _Cursor:
    """A DB-API cursor whose SQL uses `?` placeholders in both dialects."""

    def __init__(self, cur: Any, translate: Any) -> None:
        self._cur = cur
        self._translate = translate

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cur.execute(self._translate(sql), tuple(params))

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cur.fetchone()
        return tuple(row) if row is not None else None

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


def _record(row: tuple[Any, ...]) -> RunRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["payload"] = json.loads(values["payload"])
    return RunRecord(**values)
