"""`repairbot worker`: a Huey consumer plus a recovery loop for runs whose worker died."""

from __future__ import annotations

import logging
import threading

from repairbot.config import Settings
from repairbot.jobs.queue import Queue, build_queue, recover

log = logging.getLogger("repairbot.worker")


def _recovery_loop(queue: Queue, stop: threading.Event) -> None:
    interval = max(1.0, min(30.0, queue.settings.job_lease_s / 2))
    while True:
        try:
            recover(queue, queued_after_s=max(600.0, queue.settings.job_lease_s * 4))
        except Exception:
            log.exception("recovery pass failed")
        if stop.wait(interval):
            return


def service_logging() -> None:
    """A long-running service (worker, webhook server) logs what it does, INFO and up with timestamps,
    replacing the one-shot commands' set-up the CLI made (warnings only); `--debug` keeps DEBUG."""
    root = logging.getLogger()
    level = min(root.level, logging.INFO) if root.handlers else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True)


def run_worker(concurrency: int = 1, settings: Settings | None = None) -> None:
    """Consume jobs until interrupted (SIGINT/SIGTERM), `concurrency` jobs at a time (threads)."""
    service_logging()
    queue = build_queue(settings or Settings.from_env())
    stop = threading.Event()
    thread = threading.Thread(target=_recovery_loop, args=(queue, stop), name="recovery", daemon=True)
    thread.start()
    consumer = queue.huey.create_consumer(workers=max(1, concurrency), worker_type="thread", periodic=False)
    try:
        consumer.run()
    finally:
        stop.set()


if __name__ == "__main__":  # python -m repairbot.jobs.worker (used by tests and the compose file)
    import sys

    run_worker(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
