"""The queue task: claim a run, take its lock, execute it, record the outcome; retry transient failures.

Claim and lock are leases renewed by a heartbeat thread: if the worker dies, both expire, and the recovery
loop (`recover`) puts the run back on the queue; the job's idempotent writes make the second attempt converge.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from typing import TYPE_CHECKING, Protocol

import requests
from github import GithubException

from repairbot.config import Settings
from repairbot.errors import EnvironmentProblem, RepairbotError
from repairbot.jobs.store import RunRecord, Store
from repairbot.models import Job, Report

if TYPE_CHECKING:
    from repairbot.github.app import GitHubApp

log = logging.getLogger("repairbot.jobs")

_apps: dict[tuple[str | None, str], GitHubApp] = {}
_apps_lock = threading.Lock()


class Queue(Protocol):
    """What a task needs of its queue: putting a run back on it."""

    def enqueue(self, run_id: str, delay: float | None = None) -> None: ...


class LockBusy(Exception):
    """Another job holds this repository/PR; try again later (does not use up an attempt)."""


def is_transient(err: BaseException) -> bool:
    """Worth a retry with backoff: GitHub 5xx / rate limits after PyGithub's own retries, the network."""
    if isinstance(err, GithubException):
        return err.status >= 500 or (err.status in (403, 429) and "rate limit" in str(err.data).lower())
    # requests' RetryError: PyGithub's GithubRetry gave up on repeated 5xx answers.
    network = requests.ConnectionError | requests.Timeout | requests.exceptions.RetryError
    return isinstance(err, network | ConnectionError | TimeoutError)


def _app(settings: Settings) -> GitHubApp:
    from repairbot.github.app import GitHubApp

    key = (settings.app_id, settings.github_api_url)
    with _apps_lock:
        if key not in _apps:
            _apps[key] = GitHubApp(settings)
        return _apps[key]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class _Heartbeat:
    def __init__(self, store: Store, run_id: str, lock: str, owner: str, lease_s: float) -> None:
        self.store, self.run_id, self.lock, self.owner, self.lease_s = store, run_id, lock, owner, lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.lease_s / 3):
                try:
                    self.store.renew(self.run_id, self.owner, self.lease_s)
                    self.store.renew_lock(self.lock, self.owner, self.lease_s)
                except Exception:
                    log.exception("heartbeat failed for run %s", self.run_id)
        finally:
            self.store.close()  # this thread's connection; a thread per job must not leave one per job

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def process_run(run_id: str, *, settings: Settings, store: Store, queue: Queue) -> None:
    from repairbot.jobs import triggers
    from repairbot.jobs.engine import load_engine

    owner = worker_id()
    run = store.claim(run_id, owner, settings.job_lease_s)
    if run is None:
        log.info("run %s is not claimable (done or held by a live worker)", run_id)
        return
    if _suspended(store, run):
        # GitHub refuses a suspended installation's tokens; a run queued before the suspension ends here.
        store.finish(
            run_id, "skipped", "installation_suspended", detail="the App's installation is suspended"
        )
        log.info("run %s skipped: installation %s is suspended", run_id, run.installation_id)
        return
    lock = f"lock:{run.lock_key}"
    if not store.acquire_lock(lock, owner, settings.job_lease_s):
        store.requeue(run_id, attempt_used=False)
        queue.enqueue(run_id, delay=min(settings.retry_base_s, 30.0))
        log.info("run %s waits for %s", run_id, run.lock_key)
        return
    log.info("run %s started: %s %s attempt %d", run_id, run.trigger, run.repo, run.attempts)

    def progress(message: str) -> None:
        log.info("run %s: %s", run_id, message)

    try:
        with _Heartbeat(store, run_id, lock, owner, settings.job_lease_s):
            try:
                engine = load_engine(settings.engine)
                ctx = triggers.Context(settings, store, _app(settings), engine, run, progress)
                result = triggers.execute(ctx)
            except Exception as err:
                _failed(run, err, settings=settings, store=store, queue=queue)
                return
            store.finish(run_id, result.status, result.outcome, **result.fields)
            log.info("run %s finished: %s/%s", run_id, result.status, result.outcome)
    finally:
        store.release_lock(lock, owner)


def _suspended(store: Store, run: RunRecord) -> bool:
    if run.installation_id is None:
        return False
    installation = store.installation(run.installation_id)
    return installation is not None and bool(installation["suspended"])


def _failed(run: RunRecord, err: Exception, *, settings: Settings, store: Store, queue: Queue) -> None:
    message = str(err) if isinstance(err, RepairbotError) else f"{type(err).__name__}: {err}"
    if is_transient(err) and run.attempts < settings.job_attempts:
        delay = settings.retry_base_s * 2 ** (run.attempts - 1)
        log.warning("run %s attempt %d failed (%s); retrying in %.0fs", run.id, run.attempts, message, delay)
        store.requeue(run.id, error=message)
        queue.enqueue(run.id, delay=delay)
        return
    if not isinstance(err, RepairbotError):
        log.error("run %s failed:\n%s", run.id, "".join(traceback.format_exception(err)))
    link = None
    try:
        from repairbot.jobs import triggers

        fresh = store.get_run(run.id) or run
        ctx = triggers.Context(settings, store, _app(settings), _no_engine, fresh, lambda _m: None)
        link = triggers.report_failure(ctx, message)
    except Exception as report_err:  # the failure notice itself failed: keep the record honest
        message = f"{message}; the failure could not be reported on GitHub: {report_err}"
    store.finish(run.id, "failed", "error", error=message, comment_url=link)


def _no_engine(job: Job, progress: object = None) -> Report:
    raise EnvironmentProblem("the engine is not used while reporting a failure")
