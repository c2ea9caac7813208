"""Run records, delivery dedup, leases and locks (repairbot/jobs/store.py), in SQLite and in PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from repairbot.jobs.store import NewRun, Store


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
