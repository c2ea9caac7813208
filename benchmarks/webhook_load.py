"""Webhook acknowledgement latency under open-loop load (a benchmark, not a test).

Starts the App's server as `repairbot serve` does (uvicorn, the real FastAPI app, SQLite run records and the
embedded SqliteHuey queue) in a child process on loopback, then sends signed push events at a fixed rate for a
fixed time (open loop: each request starts on schedule whether or not earlier ones were answered), and
reports p50/p99 acknowledgement latency, and whether every event was acknowledged (202) and then recorded and
enqueued (run records and queue length, polled until the recording behind the answers is done), none lost.

`--slow-db MS` keeps the run records in a real PostgreSQL server (started here from the installed binaries)
behind a proxy that delays each of its answers by MS milliseconds: a database that takes that long per query.

    python benchmarks/webhook_load.py [--rate 50] [--seconds 10] [--slow-db 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECRET = "benchmark-secret"
PAYLOAD = Path("/work/shared/github-webhook-payloads/push/payload.json")
REPO = "bench/repo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(i: int) -> bytes:
    data = json.loads(PAYLOAD.read_text()) if PAYLOAD.exists() else {"repository": {"full_name": "o/r"}}
    data.update(ref="refs/heads/main", deleted=False, after=f"{i + 1:040x}", installation={"id": 1})
    data["repository"]["full_name"] = REPO
    data["repository"]["pushed_at"] = int(time.time())  # a fresh event (a days-old one is a replay)
    return json.dumps(data).encode()


@contextlib.contextmanager
def _database(slow_ms: float | None, data_dir: Path) -> Iterator[str | None]:
    """None: the default SQLite file. Else a PostgreSQL database reached through a delaying proxy."""
    if slow_ms is None:
        yield None
        return
    from tests.support.latency import slow_postgres
    from tests.support.servers import PostgresServer, postgres_bindir

    bindir = postgres_bindir()
    if bindir is None:
        raise SystemExit("--slow-db needs PostgreSQL's initdb/postgres (apt-get install postgresql)")
    server = PostgresServer(bindir)
    try:
        with slow_postgres(server.create_database(), slow_ms / 1000) as url:
            yield url
    finally:
        server.stop()


def _allow_all(db_url: str | None, data_dir: Path) -> None:
    """The benchmark's repository allows as many queued jobs as it sends (as its .github/repairbot.yml
    would): the caps are checked on every delivery, but none is limited."""
    from repairbot.jobs.store import Limits, Store

    store = Store(db_url or f"sqlite:///{data_dir / 'repairbot.db'}")
    store.set_limits(REPO, Limits(max_jobs=10**9, max_jobs_per_author=10**9))
    store.close()


async def _main(rate: float, seconds: float, slow_ms: float | None) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="repairbot-bench-"))
    with _database(slow_ms, data_dir) as db_url:
        _allow_all(db_url, data_dir)
        return await _measure(rate, seconds, data_dir, db_url, slow_ms)


async def _measure(
    rate: float, seconds: float, data_dir: Path, db_url: str | None, slow_ms: float | None
) -> int:
    from webhooks.app import signature

    port = _free_port()
    env = {**os.environ, "REPAIRBOT_WEBHOOK_SECRET": SECRET, "REPAIRBOT_DATA_DIR": str(data_dir)}
    if db_url:
        env["REPAIRBOT_DATABASE_URL"] = db_url
    server = subprocess.Popen(
        [sys.executable, "-c", f"from webhooks.app import serve; serve('127.0.0.1', {port})"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=200)) as client:
            for _ in range(200):
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            total = int(rate * seconds)
            bodies = [_body(i) for i in range(total)]
            sigs = [signature(SECRET, b) for b in bodies]
            latencies: list[float] = []
            statuses: dict[int, int] = {}
            jobs: set[str] = set()

            async def one(i: int) -> None:
                headers = {
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": sigs[i],
                    "Content-Type": "application/json",
                }
                started = time.perf_counter()
                try:
                    r = await client.post(f"{url}/webhook", content=bodies[i], headers=headers)
                    code = r.status_code
                    if code == 202:
                        jobs.add(r.json()["job"])
                except httpx.TransportError:
                    code = -1
                latencies.append(time.perf_counter() - started)
                statuses[code] = statuses.get(code, 0) + 1

            # warm-up (not measured): first requests pay for imports and connection set-up
            for _ in range(5):
                await client.get(f"{url}/healthz")
            tasks = []
            t0 = time.perf_counter()
            for i in range(total):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
            sent_all = time.perf_counter()
            # The answers came before the recording (a slow database): wait for it to catch up with what
            # was acknowledged, as long as it makes progress.
            last, stalled_since = -1, time.monotonic()
            while True:
                health = (await client.get(f"{url}/healthz")).json()
                if health["runs"] >= len(jobs) and health["pending"] >= len(jobs):
                    break
                if health["runs"] != last:
                    last, stalled_since = health["runs"], time.monotonic()
                elif time.monotonic() - stalled_since > 20:
                    break
                await asyncio.sleep(0.2)
            recorded_after = time.perf_counter() - sent_all
    finally:
        server.terminate()
        server.wait(10)

    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    ok = statuses.get(202, 0) == total and len(jobs) == total and health["runs"] == total
    ok = ok and health["pending"] == total
    where = "SQLite" if slow_ms is None else f"PostgreSQL, {slow_ms:g} ms per query"
    print(f"database: {where}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"events sent: {total} at {rate:g}/s for {seconds:g}s (open loop)")
    print(f"answers: {dict(sorted(statuses.items()))}; distinct jobs: {len(jobs)}")
    print(f"run records: {health['runs']}; queued tasks: {health['pending']}")
    print(f"ack latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    print(f"all recorded and enqueued {recorded_after:.1f}s after the last event was sent")
    print("all acknowledged and enqueued, none lost" if ok else "LOST OR UNACKNOWLEDGED EVENTS")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--slow-db", type=float, default=None, metavar="MS", help="PostgreSQL, MS ms per query"
    )
    args = parser.parse_args()
    return asyncio.run(_main(args.rate, args.seconds, args.slow_db))


if __name__ == "__main__":
    sys.exit(main())
