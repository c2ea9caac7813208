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
    """CREATE TABLE IF NOT EXISTS locks (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS installations (
        id BIGINT PRIMARY KEY, account TEXT NOT NULL, repositories TEXT NOT NULL,
        suspended INTEGER NOT NULL DEFAULT 0, updated_at DOUBLE PRECISION NOT NULL)""",
    # The caps a repository's .github/repairbot.yml sets, as its last job read them (the webhook reads no
    # repository files: it must answer in milliseconds).
    """CREATE TABLE IF NOT EXISTS repo_limits (
        repo TEXT PRIMARY KEY, max_jobs INTEGER NOT NULL, max_jobs_per_author INTEGER NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL)""",
    # Dashboard sign-ins: a random id in the cookie, the repositories GitHub said the user can see.
    """CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY, login TEXT NOT NULL, repositories TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL)""",
)
# Columns added after the first release: (table, column, type). Databases made before get them on start.
MIGRATIONS = (("deliveries", "body_sha", "TEXT"), ("runs", "author", "TEXT"))
# Made only when missing: in PostgreSQL even CREATE INDEX IF NOT EXISTS takes a table lock, and a server
# starting while another inserts would deadlock with it.
INDEXES = {
    "runs_created": "CREATE INDEX runs_created ON runs (created_at)",
    "runs_status": "CREATE INDEX runs_status ON runs (status)",
    # Covers the caps' count (repo, status → author) without reading rows, whose payloads are large.
    "runs_repo_status_author": "CREATE INDEX runs_repo_status_author ON runs (repo, status, author)",
    # A captured body replayed under a fresh (unsigned) delivery id is the same body: one delivery.
    "deliveries_body": "CREATE UNIQUE INDEX deliveries_body ON deliveries (body_sha)",
}

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
    author: str | None = None  # who caused it (the event's sender): per-author caps


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on a repository's queued and running jobs (.github/repairbot.yml `max_jobs`,
    `max_jobs_per_author`)."""

    max_jobs: int
    max_jobs_per_author: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """A verified webhook delivery to record: `run` to queue, or None (bookkeeping, ping)."""

    id: str  # X-GitHub-Delivery, or "sha256:…" of the body without one
    body_sha: str
    event: str
    run: NewRun | None = None


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
    author: str | None

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
            for table, column, kind in MIGRATIONS:
                if column not in self._columns(cur, table):
                    cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            present = self._indexes(cur)
            for name, ddl in INDEXES.items():
                if name not in present:
                    cur.execute(ddl)

    def _indexes(self, cur: _Cursor) -> set[str]:
        if self.kind == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        else:
            cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        return {row[0] for row in cur.fetchall()}

    def _columns(self, cur: _Cursor, table: str) -> set[str]:
        if self.kind == "sqlite":
            cur.execute(f"PRAGMA table_info({table})")
            return {row[1] for row in cur.fetchall()}
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
        return {row[0] for row in cur.fetchall()}

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

    def accept_delivery(
        self, delivery: str, event: str, run: NewRun | None, body_sha: str | None = None
    ) -> bool:
        """Record a delivery (and its run) atomically. False: this delivery id, or this body, was seen
        before."""
        now = time.time()
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO deliveries (id, event, received_at, body_sha) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (delivery, event, now, body_sha),
            )
            if cur.rowcount == 0:
                return False
            if run is not None:
                self._insert_run(cur, run, delivery, now)
        return True

    def accept_deliveries(self, batch: Sequence[Delivery], default: Limits) -> list[str]:
        """Record many deliveries in one transaction of a fixed number of statements, whatever the batch's
        size (a slow database costs a round trip per statement, not per delivery). Per delivery:
        "duplicate" (its id or body was seen), "recorded" (nothing to run), "queued" (its run is recorded,
        to be enqueued), or "limited: …" (its run is recorded as skipped: the repository's or the author's
        queued and running jobs are at their cap)."""
        now = time.time()
        results = ["duplicate"] * len(batch)
        seen_ids: set[str] = set()
        seen_bodies: set[str] = set()
        fresh_rows: list[int] = []
        for i, d in enumerate(batch):
            if d.id not in seen_ids and d.body_sha not in seen_bodies:
                seen_ids.add(d.id)
                seen_bodies.add(d.body_sha)
                fresh_rows.append(i)
        if not fresh_rows:
            return results
        with self._tx() as cur:
            marks = ", ".join("(?, ?, ?, ?)" for _ in fresh_rows)
            params = [v for i in fresh_rows for v in (batch[i].id, batch[i].event, now, batch[i].body_sha)]
            cur.execute(
                f"INSERT INTO deliveries (id, event, received_at, body_sha) VALUES {marks} "
                "ON CONFLICT DO NOTHING RETURNING id",
                params,
            )
            inserted = {row[0] for row in cur.fetchall()}
            runs = [(i, batch[i].run) for i in fresh_rows if batch[i].id in inserted]
            for i in fresh_rows:
                if batch[i].id in inserted and batch[i].run is None:
                    results[i] = "recorded"
            wanted = [(i, run) for i, run in runs if run is not None]
            if not wanted:
                return results
            repos = sorted({run.repo for _, run in wanted})
            where = ", ".join("?" for _ in repos)
            cur.execute(
                f"SELECT repo, max_jobs, max_jobs_per_author FROM repo_limits WHERE repo IN ({where})", repos
            )
            limits = {repo: Limits(int(a), int(b)) for repo, a, b in cur.fetchall()}
            by_repo, by_author = self._active_counts(cur, wanted, limits, default)
            rows: list[tuple[NewRun, str, str | None, str | None]] = []  # run, status, outcome, detail
            for i, run in wanted:
                cap = limits.get(run.repo, default)
                in_repo = by_repo.get(run.repo, 0)
                of_author = by_author.get((run.repo, run.author), 0)
                if in_repo >= cap.max_jobs:
                    reason = f"{in_repo} jobs of {run.repo} are queued or running (max_jobs: {cap.max_jobs})"
                elif run.author is not None and of_author >= cap.max_jobs_per_author:
                    reason = (
                        f"{of_author} jobs of @{run.author} in {run.repo} are queued or running "
                        f"(max_jobs_per_author: {cap.max_jobs_per_author})"
                    )
                else:
                    by_repo[run.repo] = in_repo + 1
                    by_author[(run.repo, run.author)] = of_author + 1
                    results[i] = "queued"
                    rows.append((run, "queued", None, None))
                    continue
                results[i] = f"limited: {reason}"
                rows.append((run, "skipped", "limited", reason))
            self._insert_runs(cur, [(batch[i].id, r) for (i, _), r in zip(wanted, rows, strict=True)], now)
        return results

    def _active_counts(
        self,
        cur: _Cursor,
        runs: Sequence[tuple[int, NewRun]],
        limits: dict[str, Limits],
        default: Limits,
    ) -> tuple[dict[str, int], dict[tuple[str, str | None], int]]:
        """Queued and running jobs per repository and per (repository, author), each counted only up to
        its cap (a repository with thousands queued costs no more than one at its cap), in one statement."""
        keys: list[tuple[str, str | None]] = sorted({(r.repo, None) for _, r in runs})
        keys += sorted({(r.repo, r.author) for _, r in runs if r.author is not None})
        parts: list[str] = []
        params: list[Any] = []
        active = "status IN ('queued', 'running')"
        for i, (repo, author) in enumerate(keys):
            cap = limits.get(repo, default)
            if author is None:
                inner = f"SELECT 1 FROM runs WHERE repo = ? AND {active} LIMIT ?"
                params += [repo, cap.max_jobs]
            else:
                inner = f"SELECT 1 FROM runs WHERE repo = ? AND {active} AND author = ? LIMIT ?"
                params += [repo, author, cap.max_jobs_per_author]
            parts.append(f"SELECT {i}, COUNT(*) FROM ({inner}) AS q{i}")
        cur.execute(" UNION ALL ".join(parts), params)
        counts = {int(i): int(n) for i, n in cur.fetchall()}
        by_repo: dict[str, int] = {}
        by_author: dict[tuple[str, str | None], int] = {}
        for i, (repo, author) in enumerate(keys):
            if author is None:
                by_repo[repo] = counts.get(i, 0)
            else:
                by_author[(repo, author)] = counts.get(i, 0)
        return by_repo, by_author

    def set_limits(self, repo: str, limits: Limits) -> None:
        """What the repository's configuration says, for the webhook's next deliveries."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO repo_limits (repo, max_jobs, max_jobs_per_author, updated_at) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (repo) DO UPDATE SET max_jobs = excluded.max_jobs, "
                "max_jobs_per_author = excluded.max_jobs_per_author, updated_at = excluded.updated_at",
                (repo, limits.max_jobs, limits.max_jobs_per_author, time.time()),
            )

    def count_active(self, repo: str, author: str | None = None) -> int:
        """Queued and running jobs of a repository (of one author in it, when given)."""
        sql = "SELECT COUNT(*) FROM runs WHERE repo = ? AND status IN ('queued', 'running')"
        params: list[Any] = [repo]
        if author is not None:
            sql += " AND author = ?"
            params.append(author)
        return int(self._query(sql, params)[0][0])

    def create_run(self, run: NewRun, delivery: str | None = None) -> None:
        with self._tx() as cur:
            self._insert_run(cur, run, delivery, time.time())

    def _insert_run(self, cur: _Cursor, run: NewRun, delivery: str | None, now: float) -> None:
        self._insert_runs(cur, [(delivery, (run, "queued", None, None))], now)

    def _insert_runs(
        self,
        cur: _Cursor,
        rows: Sequence[tuple[str | None, tuple[NewRun, str, str | None, str | None]]],
        now: float,
    ) -> None:
        """One multi-row INSERT: (delivery, (run, status, outcome, detail)) each."""
        if not rows:
            return
        marks = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in rows)
        params: list[Any] = []
        for delivery, (run, status, outcome, detail) in rows:
            finished = now if status not in ACTIVE else None
            params += [
                run.id, delivery, run.event, run.trigger, run.repo, run.installation_id, run.number, run.sha,
                run.lock_key, json.dumps(run.payload, separators=(",", ":")), status, outcome, detail,
                run.author, now, now if status in ACTIVE else None, finished,
            ]  # fmt: skip
        cur.execute(
            "INSERT INTO runs (id, delivery, event, trigger, repo, installation_id, number, sha, lock_key, "
            "payload, status, outcome, detail, author, created_at, enqueued_at, finished_at) "
            f"VALUES {marks}",
            params,
        )

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._query(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE id = ?", (run_id,))
        return _record(rows[0]) if rows else None

    def recent_runs(self, limit: int = 50) -> list[RunRecord]:
        rows = self._query(
            f"SELECT {', '.join(_COLUMNS)} FROM runs ORDER BY created_at DESC LIMIT ?", (limit,)
        )
        return [_record(r) for r in rows]

    def recent_runs_of(self, repos: Sequence[str], limit: int = 50) -> list[RunRecord]:
        """The newest runs of these repositories only (names compared case-insensitively, as GitHub does)."""
        names = sorted({r.lower() for r in repos})
        if not names:
            return []
        where = ", ".join("?" for _ in names)
        rows = self._query(
            f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE lower(repo) IN ({where}) "
            "ORDER BY created_at DESC LIMIT ?",
            (*names, limit),
        )
        return [_record(r) for r in rows]

    # -- dashboard sessions -------------------------------------------------------------------------------

    def create_session(self, key: str, login: str, repos: Sequence[str], ttl_s: float) -> None:
        """`key` is a hash of the cookie's value (the database never holds a usable session)."""
        now = time.time()
        with self._tx() as cur:
            cur.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            cur.execute(
                "INSERT INTO sessions (id, login, repositories, expires_at) VALUES (?, ?, ?, ?)",
                (key, login, json.dumps(sorted(set(repos))), now + ttl_s),
            )

    def session(self, key: str) -> tuple[str, list[str]] | None:
        rows = self._query(
            "SELECT login, repositories FROM sessions WHERE id = ? AND expires_at >= ?", (key, time.time())
        )
        return (str(rows[0][0]), list(json.loads(rows[0][1]))) if rows else None

    def delete_session(self, key: str) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM sessions WHERE id = ?", (key,))

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

    def last_head(self, repo: str, number: int, before: float) -> str | None:
        """The head commit the last pull_request event for this pull request named, received before
        `before`."""
        rows = self._query(
            "SELECT sha FROM runs WHERE repo = ? AND number = ? AND event = 'pull_request' "
            "AND sha IS NOT NULL AND created_at <= ? ORDER BY created_at DESC LIMIT 1",
            (repo, number, before),
        )
        return str(rows[0][0]) if rows else None

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

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cur.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


def _record(row: tuple[Any, ...]) -> RunRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["payload"] = json.loads(values["payload"])
    return RunRecord(**values)
