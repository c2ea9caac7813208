"""Webhook acknowledgement latency under open-loop load (a benchmark, not a test).

Starts the App's server as `repairbot serve` does (uvicorn, the real FastAPI app, SQLite run records and the
embedded SqliteHuey queue) in a child process on loopback, then sends signed push events at a fixed rate for a
fixed time (open loop: each request starts on schedule whether or not earlier ones were answered), and
reports p50/p99 acknowledgement latency, and whether every event was acknowledged (202) and enqueued (run
records and queue length), none lost.

    python benchmarks/webhook_load.py [--rate 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-secret"
PAYLOAD = Path("/work/shared/github-webhook-payloads/push/payload.json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(i: int) -> bytes:
    data = json.loads(PAYLOAD.read_text()) if PAYLOAD.exists() else {"repository": {"full_name": "o/r"}}
    data.update(ref="refs/heads/main", deleted=False, after=f"{i + 1:040x}", installation={"id": 1})
    data["repository"]["full_name"] = "bench/repo"
    return json.dumps(data).encode()


async def _main(rate: float, seconds: float) -> int:
    from webhooks.app import signature

    data_dir = Path(tempfile.mkdtemp(prefix="repairbot-bench-"))
    port = _free_port()
    env = {**os.environ, "REPAIRBOT_WEBHOOK_SECRET": SECRET, "REPAIRBOT_DATA_DIR": str(data_dir)}
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
            health = (await client.get(f"{url}/healthz")).json()
    finally:
        server.terminate()
        server.wait(10)

    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    ok = statuses.get(202, 0) == total and len(jobs) == total and health["runs"] == total
    ok = ok and health["pending"] == total
    print(f"events sent: {total} at {rate:g}/s for {seconds:g}s (open loop)")
    print(f"answers: {dict(sorted(statuses.items()))}; distinct jobs: {len(jobs)}")
    print(f"run records: {health['runs']}; queued tasks: {health['pending']}")
    print(f"ack latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    print("all acknowledged and enqueued, none lost" if ok else "LOST OR UNACKNOWLEDGED EVENTS")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    return asyncio.run(_main(args.rate, args.seconds))


if __name__ == "__main__":
    sys.exit(main())
