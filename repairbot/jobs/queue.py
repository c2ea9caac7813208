"""The Huey queue: SqliteHuey embedded by default, RedisHuey when REPAIRBOT_QUEUE_URL is redis://….

The queue carries only run ids; everything else is in the run record, so a task is small and a lost task can
be re-enqueued from the database (see `Store.stale_runs`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from huey import Huey, SqliteHuey

from repairbot.config import Settings
from repairbot.errors import EnvironmentProblem
from repairbot.jobs.store import Store

TASK_NAME = "repairbot.process_run"

log = logging.getLogger("repairbot.jobs")


def make_huey(settings: Settings) -> Huey:
    url = settings.queue_url
    if url is None or url.startswith("sqlite"):
        path = url[len("sqlite:///") :] if url and url.startswith("sqlite:///") else None
        filename = path or str(settings.data_dir / "queue.db")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # fsync off: WAL keeps the queue consistent; a task lost to power loss is recovered from the runs.
        return SqliteHuey("repairbot", filename=filename, fsync=False, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis  # noqa: F401
            from huey import RedisHuey
        except ImportError:
            raise EnvironmentProblem(
                "REPAIRBOT_QUEUE_URL is a Redis URL but the redis package is not installed",
                hint="pip install 'repairbot[redis]'",
            ) from None
        return RedisHuey("repairbot", url=url, results=False)
    raise EnvironmentProblem(f"unsupported REPAIRBOT_QUEUE_URL: {url} (use sqlite:///PATH or redis://HOST)")


@dataclass
class Queue:
    """A Huey instance with the repairbot task registered on it, and the store the task uses."""

    settings: Settings
    store: Store
    huey: Huey
    task: Any

    def enqueue(self, run_id: str, delay: float | None = None) -> None:
        if delay:
            self.task.schedule((run_id,), delay=delay)
        else:
            self.task(run_id)

    def pending(self) -> int:
        return int(self.huey.pending_count()) + int(self.huey.scheduled_count())


def build_queue(settings: Settings, store: Store | None = None) -> Queue:
    """Register the task on a fresh Huey instance (no module-level globals: tests run many configurations)."""
    from repairbot.jobs.tasks import process_run  # the task body imports GitHub code; keep it out of startup

    store = store or Store(settings.db_url)
    huey = make_huey(settings)

    def run(run_id: str) -> None:
        process_run(run_id, settings=settings, store=store, queue=queue)

    run.__name__ = TASK_NAME
    task = huey.task(name=TASK_NAME)(run)
    queue = Queue(settings=settings, store=store, huey=huey, task=task)
    return queue


def recover(queue: Queue, queued_after_s: float = 600.0) -> list[str]:
    """Re-enqueue runs whose worker died (lease expired) or that never reached the queue."""
    ids = queue.store.stale_runs(queued_after_s)
    for run_id in ids:
        log.warning("recovering run %s", run_id)
        queue.enqueue(run_id)
    return ids
