"""From a verified delivery to a recorded, queued run, without the database or the queue on the event loop.

Why not write in the request: a slow database (100 ms a statement) would hold every delivery, and GitHub's
answer, behind it. Instead a delivery is

1. checked for replays in memory (the delivery id and the body's hash seen lately), and for its age: a signed
   body names when its event happened (`updated_at` of the issue, pull request or comment; the repository's
   `pushed_at`); one older than `max_delivery_age_s` is a replay of a captured body, not news;
2. journaled: appended to a local file under `DATA_DIR/journal/` (one write), so an acknowledged delivery
   survives a crash of this process and is recorded when it starts again;
3. handed to the `Recorder` thread, which records deliveries in batches (a fixed number of statements per
   batch, however many deliveries it holds: the database's unique keys on delivery id and body hash are the
   authority on duplicates; per-repository and per-author caps are applied there), enqueues their runs, and
   removes their journal files.

The request waits for its batch at most `webhook_ack_wait_s` (a few milliseconds when the database is well):
then it answers with the outcome (`queued`, `duplicate`, `limited`); past that it answers 202 `accepted`, and
the recording completes behind it. While batches take longer than that wait (a slow database), requests do
not wait at all.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import queue as queue_module
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from repairbot.jobs.queue import Queue
from repairbot.jobs.store import Delivery, Limits
from webhooks.handlers import HANDLERS
from webhooks.handlers.base import Decision, Malformed

log = logging.getLogger("repairbot.webhooks")

BATCH = 500  # deliveries per transaction at most
# Where a signed body says when its event happened, per event that can start a run.
EVENT_TIME: dict[str, tuple[tuple[str, ...], ...]] = {
    "push": (("repository", "pushed_at"),),
    "issues": (("issue", "updated_at"),),
    "issue_comment": (("comment", "updated_at"), ("comment", "created_at")),
    "pull_request": (("pull_request", "updated_at"),),
    "pull_request_review_comment": (("comment", "updated_at"), ("comment", "created_at")),
}


def body_hash(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def run_id_for(delivery: str) -> str:
    """The same delivery always makes the same run id: a journaled delivery recorded after a restart keeps
    the id its acknowledgement named."""
    return hashlib.sha256(f"run:{delivery}".encode()).hexdigest()[:16]


def event_time(event: str, payload: dict[str, Any]) -> float | None:
    """Epoch seconds of the event, from the first of its time fields present; None when it has none."""
    for path in EVENT_TIME.get(event, ()):
        value: Any = payload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise Malformed(f"{'.'.join(path)} is not a time") from None
    return None


class RecentlySeen:
    """Delivery ids and body hashes of the last `size` deliveries: a replay is answered at once, without
    the database (which still decides, for whatever this memory has forgotten)."""

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add_if_new(self, *keys: str) -> bool:
        with self._lock:
            if any(k in self._keys for k in keys):
                return False
            for k in keys:
                self._keys[k] = None
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True

    def forget(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._keys.pop(k, None)


class Journal:
    """Acknowledged deliveries not yet recorded, appended to segment files.

    A record is a JSON header line (delivery id, event, body length) and the body, written with one append:
    no file is created, renamed or removed per delivery (on a busy disk those cost milliseconds). A segment
    is removed once every delivery in it is recorded and a newer one has taken its place; the current one is
    emptied whenever all of its deliveries are recorded.

    Each process writes in a directory of its own under `root`, holding an exclusive lock on it while it
    lives: servers sharing a data directory never write into each other's segments, and `leftovers` reads
    back only what dead processes left (their lock is free), to be recorded again (the database's unique
    keys make that idempotent).
    """

    SEGMENT_BYTES = 16 << 20

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.dir = root / f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"
        self.dir.mkdir()
        self._lock_fd = os.open(self.dir / "lock", os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._seq = 1
        self._fd: int | None = None
        self._size = 0
        self._outstanding: dict[Path, int] = {}
        self._lock = threading.Lock()

    def _path(self, seq: int) -> Path:
        return self.dir / f"journal-{seq:08d}.log"

    def close(self) -> None:
        """Stop writing and let go of the directory (as a process that dies does)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            os.close(self._lock_fd)

    def append(self, delivery: str, event: str, body: bytes) -> Path:
        """Journal one delivery; returns its segment, to pass to `done` once it is recorded."""
        header = json.dumps({"delivery": delivery, "event": event, "bytes": len(body)}).encode() + b"\n"
        with self._lock:
            segment = self._path(self._seq)
            if self._fd is None:
                self._fd = os.open(segment, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                self._size = 0
            data = memoryview(header + body)
            while data:
                data = data[os.write(self._fd, data) :]
            self._size += len(header) + len(body)
            self._outstanding[segment] = self._outstanding.get(segment, 0) + 1
            if self._size >= self.SEGMENT_BYTES:  # the next delivery starts a new segment
                os.close(self._fd)
                self._fd = None
                self._seq += 1
            return segment

    def done(self, segment: Path) -> None:
        with self._lock:
            left = self._outstanding.get(segment, 0) - 1
            self._outstanding[segment] = left
            if left > 0:
                return
            del self._outstanding[segment]
            if segment == self._path(self._seq) and self._fd is not None:
                os.ftruncate(self._fd, 0)  # O_APPEND: the next record goes to the (new) end, 0
                self._size = 0
            else:
                segment.unlink(missing_ok=True)

    def leftovers(self) -> Iterator[tuple[Path, str, str, bytes]]:
        """(segment, delivery id, event, body) of each record a dead process left, counted as outstanding
        in its segment; a record cut short by a crash ends its segment."""
        for other in sorted(p for p in self.root.iterdir() if p.is_dir() and p != self.dir):
            try:
                fd = os.open(other / "lock", os.O_WRONLY | os.O_CREAT, 0o600)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # its process is alive
                os.close(fd)
                continue
            segments = sorted(other.glob("journal-*.log"))
            for segment in segments:
                yield from self._records(segment)
            if not any(s.exists() for s in segments):  # nothing was left: the directory goes too
                (other / "lock").unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    other.rmdir()
            os.close(fd)

    def _records(self, segment: Path) -> Iterator[tuple[Path, str, str, bytes]]:
        data = segment.read_bytes()
        pos = 0
        found = 0
        while pos < len(data):
            end = data.find(b"\n", pos)
            try:
                head: Any = json.loads(data[pos:end]) if end >= 0 else None
                size = int(head["bytes"])
                delivery, event = str(head["delivery"]), str(head["event"])
            except (ValueError, KeyError, TypeError):  # TypeError: no header (None) or not an object
                size = -1
            if size < 0 or end + 1 + size > len(data):
                log.warning("journal %s: record cut short at byte %d (a crash while writing)", segment, pos)
                break
            body = data[end + 1 : end + 1 + size]
            pos = end + 1 + size
            with self._lock:
                self._outstanding[segment] = self._outstanding.get(segment, 0) + 1
            found += 1
            yield segment, delivery, event, body
        if not found:
            segment.unlink(missing_ok=True)


@dataclass
class _Item:
    delivery: Delivery
    decision: Decision
    segment: Path | None
    future: concurrent.futures.Future[str]


class Recorder:
    """One thread that records deliveries and enqueues their runs, in batches; see the module docstring."""

    def __init__(self, queue: Queue, journal_dir: Path, default_limits: Limits) -> None:
        self.queue = queue
        self.journal = Journal(journal_dir)
        self.default_limits = default_limits
        self._items: queue_module.SimpleQueue[_Item | None] = queue_module.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="webhook-recorder", daemon=True)
        self._started = False
        self._start_lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._busy = 0
        self._busy_lock = threading.Lock()
        self.last_batch_s = 0.0  # how long recording the last batch took (inf: it failed)
        self._batch_started: float | None = None

    # -- the request side -------------------------------------------------------------------------------

    def accept(
        self, delivery: Delivery, decision: Decision, body: bytes | None
    ) -> concurrent.futures.Future[str]:
        """Journal the delivery (when `body` is given: a crash after the answer loses nothing), then queue
        it for recording. OSError: it could not be journaled, and is not taken."""
        segment = self.journal.append(delivery.id, delivery.event, body) if body is not None else None
        return self.submit(delivery, decision, segment)

    def submit(
        self, delivery: Delivery, decision: Decision, segment: Path | None
    ) -> concurrent.futures.Future[str]:
        future: concurrent.futures.Future[str] = concurrent.futures.Future()
        with self._busy_lock:
            self._busy += 1
            self._idle.clear()
        self._ensure_started()
        self._items.put(_Item(delivery, decision, segment, future))
        return future

    def behind(self, wait_s: float) -> bool:
        """Whether an answer waiting `wait_s` for its recording would only wait in vain (the database is
        slow or down, or deliveries are piling up): then it is answered at once."""
        started = self._batch_started
        running = time.monotonic() - started if started is not None else 0.0
        return max(self.last_batch_s, running) > wait_s or self._busy > BATCH

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is recorded (tests, shutdown)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        if self._started:
            self._items.put(None)
            self._thread.join(timeout=10)

    # -- the thread -------------------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        with self._start_lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def _loop(self) -> None:
        delay = 0.5
        retry: list[_Item] = []
        while True:
            batch = retry
            retry = []
            if not batch:
                first = self._items.get()
                if first is None:
                    return
                batch = [first]
            while len(batch) < BATCH:
                try:
                    more = self._items.get_nowait()
                except queue_module.Empty:
                    break
                if more is None:
                    self._items.put(None)
                    break
                batch.append(more)
            started = self._batch_started = time.monotonic()
            try:
                self._record(batch)
                delay = 0.5
                self.last_batch_s = time.monotonic() - started
                self._batch_started = None
            except Exception:
                self.last_batch_s = float("inf")
                self._batch_started = None
                # The deliveries are journaled: keep them and try again (the database may be restarting).
                log.exception("recording %d deliveries failed; retrying in %.1fs", len(batch), delay)
                for item in batch:
                    if not item.future.done():
                        item.future.set_result("accepted")
                retry = batch
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            with self._busy_lock:
                self._busy -= len(batch)
                if self._busy == 0:
                    self._idle.set()

    def _record(self, batch: list[_Item]) -> None:
        store = self.queue.store
        plain = [i for i in batch if i.decision.record is None]
        bookkeeping = [i for i in batch if i.decision.record is not None]
        results = store.accept_deliveries([i.delivery for i in plain], self.default_limits) if plain else []
        outcomes = list(zip(plain, results, strict=True))
        for item in bookkeeping:  # installation events: rare, one transaction each, as before
            fresh = store.accept_delivery(item.delivery.id, item.delivery.event, None, item.delivery.body_sha)
            if fresh and item.decision.record is not None:
                item.decision.record(store)
            outcomes.append((item, "recorded" if fresh else "duplicate"))
        for item, result in outcomes:
            if result == "queued" and item.delivery.run is not None:
                # The run record is committed first; if this process dies before the enqueue, the workers'
                # recovery re-enqueues it.
                self.queue.enqueue(item.delivery.run.id)
                log.info("delivery %s: %s queued as run %s", item.delivery.id, item.delivery.event,
                         item.delivery.run.id)  # fmt: skip
            elif result.startswith("limited"):
                log.warning("delivery %s: %s", item.delivery.id, result)
            if item.segment is not None:
                self.journal.done(item.segment)
            if not item.future.done():
                item.future.set_result(result)


def decide(event: str, payload: dict[str, Any]) -> Decision:
    handler = HANDLERS.get(event)
    if handler is None:
        return Decision("ignored", reason=f"event {event or '(none)'} is not handled")
    return handler(event, payload)


def delivery_for(delivery_id: str, body_sha: str, event: str, decision: Decision) -> Delivery:
    run = decision.run
    if run is not None:
        run = replace(run, id=run_id_for(delivery_id))
    return Delivery(delivery_id, body_sha, event, run)


def replay_journal(recorder: Recorder) -> int:
    """Record the deliveries a previous process acknowledged but did not record (it died)."""
    count = 0
    for segment, delivery_id, event, body in recorder.journal.leftovers():
        try:
            decision = decide(event, json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
            log.error("journaled delivery %s is unusable (%s); dropped", delivery_id, err)
            recorder.journal.done(segment)
            continue
        if decision.status == "ignored":
            recorder.journal.done(segment)
            continue
        recorder.submit(delivery_for(delivery_id, body_hash(body), event, decision), decision, segment)
        count += 1
    if count:
        log.warning("recording %d journaled deliveries of an earlier process", count)
    return count


async def outcome(future: concurrent.futures.Future[str], wait_s: float) -> str:
    """The recording's result if it comes within `wait_s`, else "accepted" (it completes anyway)."""
    if future.done():
        return future.result()
    if wait_s <= 0:
        return "accepted"
    try:
        return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), wait_s)
    except TimeoutError:
        return "accepted"
