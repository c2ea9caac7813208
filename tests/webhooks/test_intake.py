"""The intake behind POST /webhook: acknowledged before the database answers, recorded afterwards, and never
lost when the process dies in between (the journal)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from repairbot.config import Settings
from repairbot.jobs.queue import build_queue
from tests.support import latency
from tests.support.github_server import SECRET, LiveServer, push_event
from tests.support.latency import slow_postgres
from webhooks.app import create_app, signature
from webhooks.intake import Journal, body_hash, decide, delivery_for, run_id_for

REPO = "octo/widgets"


def _push(tmp_path: Path, n: int) -> bytes:
    return json.dumps(push_event(tmp_path / "remote.git", f"{n:040x}", REPO)).encode()


def test_a_journaled_delivery_is_recorded_by_the_next_process(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """What a process that acknowledged a delivery and died before recording it leaves behind."""
    settings = make_settings()
    raw = _push(tmp_path, 7)
    decision = decide("push", json.loads(raw))
    delivery = delivery_for("lost-1", body_hash(raw), "push", decision)
    dead = Journal(settings.data_dir / "journal")
    dead.append(delivery.id, "push", raw)  # acknowledged; then the process died
    dead.append("torn", "push", raw)  # and one it was writing: cut short
    dead.close()
    (segment,) = dead.dir.glob("journal-*.log")
    segment.write_bytes(segment.read_bytes()[:-100])
    alive = Journal(settings.data_dir / "journal")  # another server on the same data directory, running
    alive.append("not-mine-to-replay", "push", raw)

    app = create_app(settings)  # the next start records it
    assert app.state.recorder.flush(30)
    queue = build_queue(settings)
    run = queue.store.get_run(run_id_for("lost-1"))
    assert run is not None and run.status == "queued" and run.sha == f"{7:040x}"
    assert queue.pending() == 1 and queue.store.count_runs() == 1
    assert not list(dead.dir.glob("*.log"))  # recorded, so removed
    assert list(alive.dir.glob("*.log"))  # the live server's journal is its own, not replayed
    create_app(settings).state.recorder.flush(30)  # a third start finds nothing left to do
    assert queue.store.count_runs() == 1 and queue.pending() == 1
    assert not dead.dir.exists()


def test_a_hung_database_gets_acknowledged_deliveries_once_it_answers(
    make_settings: Callable[..., Settings], postgres_url: str, tmp_path: Path
) -> None:
    with slow_postgres(postgres_url, 0.0) as url:
        settings = make_settings(database_url=url, webhook_ack_wait_s=0.05)
        app = create_app(settings)  # the schema is made; now the database stops answering
        with LiveServer(app) as live:
            (proxy,) = [p for p in latency.LIVE if f":{p.port}/" in url]
            proxy.pause()
            raw = _push(tmp_path, 9)
            headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "hung-1"}
            headers["X-Hub-Signature-256"] = signature(SECRET, raw)
            started = time.perf_counter()
            answer = httpx.post(f"{live.url}/webhook", content=raw, headers=headers, timeout=30)
            assert answer.status_code == 202 and answer.json()["status"] == "accepted"
            assert time.perf_counter() - started < 2.0
            again = httpx.post(f"{live.url}/webhook", content=raw, headers=headers, timeout=30)
            assert again.json() == {"status": "duplicate"}  # answered from memory, the database still hung
            proxy.resume()
            assert app.state.recorder.flush(60)
    store = build_queue(make_settings(database_url=postgres_url)).store
    run = store.get_run(answer.json()["job"])
    assert run is not None and run.status == "queued"


def test_a_damaged_journal_record_ends_its_segment_without_stopping_the_start(tmp_path: Path) -> None:
    """A header that is not the journal's own (no delivery id, not an object) is read as the end of what a
    dead process left, as a torn record is: the records before it are recorded, the server starts."""
    root = tmp_path / "journal"
    dead = Journal(root)
    dead.append("kept", "push", b"{}")
    dead.close()
    (segment,) = dead.dir.glob("journal-*.log")
    with segment.open("ab") as fh:
        fh.write(json.dumps({"event": "push", "bytes": 2}).encode() + b"\n{}")  # no delivery id
        fh.write(b"[1, 2]\n")
    found = [(delivery, event) for _, delivery, event, _ in Journal(root).leftovers()]
    assert found == [("kept", "push")]
