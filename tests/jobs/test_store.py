"""Run records, delivery dedup, leases and locks (repairbot/jobs/store.py), in SQLite and in PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from repairbot.jobs.store import Delivery, Limits, NewRun, Store


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same behaviours on both backends: a SQLite file, or a fresh database on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


def _run(key: str = "o/r:branch:main") -> NewRun:
    return NewRun(event="push", trigger="push", repo="o/r", installation_id=1, lock_key=key, payload={"a": 1})


def test_delivery_dedup_is_atomic_under_concurrency(db_url: str) -> None:
    store = Store(db_url)
    results: list[bool] = []

    def deliver() -> None:
        results.append(Store(store.url).accept_delivery("same-id", "push", _run()))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.count_runs() == 1


def test_claim_lease_and_recovery(db_url: str) -> None:
    store = Store(db_url)
    run = _run()
    store.create_run(run)
    claimed = store.claim(run.id, "w1", lease_s=0.3)
    assert claimed is not None and claimed.status == "running" and claimed.attempts == 1
    assert store.claim(run.id, "w2", lease_s=0.3) is None  # held by a live worker
    assert store.stale_runs(queued_after_s=600) == []
    time.sleep(0.4)  # w1 died: its lease ran out
    assert store.stale_runs(queued_after_s=600) == [run.id]
    again = store.claim(run.id, "w2", lease_s=30)
    assert again is not None and again.worker == "w2" and again.attempts == 2
    store.finish(run.id, "succeeded", "pr_opened", pr_url="https://x/pull/1")
    assert store.claim(run.id, "w3", lease_s=30) is None
    done = store.get_run(run.id)
    assert done is not None and done.status == "succeeded" and done.pr_url == "https://x/pull/1"
    assert done.duration is not None and done.payload == {"a": 1}


def test_locks_exclude_and_expire(db_url: str) -> None:
    store = Store(db_url)
    assert store.acquire_lock("lock:o/r:pr:1", "a", 0.3)
    assert not store.acquire_lock("lock:o/r:pr:1", "b", 0.3)
    assert store.acquire_lock("lock:o/r:pr:2", "b", 0.3)  # another PR is independent
    assert store.renew_lock("lock:o/r:pr:1", "a", 0.3)
    time.sleep(0.35)
    assert store.acquire_lock("lock:o/r:pr:1", "b", 30)  # a dead holder's lock expires
    assert not store.renew_lock("lock:o/r:pr:1", "a", 30)
    store.release_lock("lock:o/r:pr:1", "b")
    assert store.acquire_lock("lock:o/r:pr:1", "c", 30)


def test_server_and_workers_starting_together_create_the_schema_once(db_url: str) -> None:
    """Every process creates the schema at start; on an empty database they must not collide."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            Store(db_url).count_runs()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_postgres_connection_lost_while_idle_is_reopened(postgres_url: str) -> None:
    """A database restart or failover ends every session; the next call reconnects instead of failing."""
    import psycopg

    store = Store(postgres_url)
    store.create_run(_run())
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    assert store.count_runs() == 1  # a read
    store.create_run(_run())  # a transaction
    assert store.count_runs() == 2


def _delivery(i: int, body: str | None = None, author: str = "a", repo: str = "o/r") -> Delivery:
    run = NewRun(
        event="push",
        trigger="push",
        repo=repo,
        installation_id=1,
        lock_key=f"k{i}",
        payload={},
        author=author,
    )
    return Delivery(f"d-{i}", f"sha256:{body or i}", "push", run)


def test_batch_of_deliveries_dedups_by_id_and_body_and_applies_caps(db_url: str) -> None:
    store = Store(db_url)
    caps = Limits(max_jobs=4, max_jobs_per_author=2)
    assert store.accept_deliveries([_delivery(1), _delivery(2, author="b")], caps) == ["queued", "queued"]
    batch = [
        _delivery(1),  # seen id
        _delivery(3, body="2"),  # seen body under a new id
        _delivery(4, body="x"),
        _delivery(5, body="x"),  # the same body twice in one batch
        _delivery(6),  # author a: a second job
        _delivery(7),  # author a: a third, over max_jobs_per_author
        _delivery(8, author="c"),  # the repository's fourth
        _delivery(9, author="d"),  # fifth: over max_jobs
        Delivery("d-10", "sha256:10", "ping"),
    ]
    results = store.accept_deliveries(batch, caps)
    assert results[:4] == ["duplicate", "duplicate", "queued", "duplicate"]
    assert results[4] == "duplicate" or results[4].startswith("limited")  # d-4 was a's second job
    assert results[5].startswith("limited") and "max_jobs_per_author: 2" in results[5]
    assert results[6] == "queued"
    assert results[7].startswith("limited") and "(max_jobs: 4)" in results[7]
    assert results[8] == "recorded"
    assert store.count_active("o/r") == 4 and store.count_active("o/r", "a") == 2
    limited = store.get_run(batch[5].run.id if batch[5].run else "")
    assert limited is not None and (limited.status, limited.outcome) == ("skipped", "limited")
    assert limited.detail and "@a" in limited.detail and limited.author == "a"
    # A repository's own configuration raises its caps for the next deliveries.
    store.set_limits("o/r", Limits(max_jobs=10, max_jobs_per_author=10))
    assert store.accept_deliveries([_delivery(11, author="d")], caps) == ["queued"]


def test_a_database_made_before_the_new_columns_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE deliveries (id TEXT PRIMARY KEY, event TEXT NOT NULL, received_at REAL NOT NULL)"
    )
    conn.execute("INSERT INTO deliveries VALUES ('old', 'push', 0)")
    conn.commit()
    conn.close()
    store = Store(f"sqlite:///{path}")
    assert store.accept_delivery("old", "push", None) is False
    assert store.accept_delivery("new", "push", None, body_sha="sha256:1") is True
    assert store.accept_delivery("newer", "push", None, body_sha="sha256:1") is False
