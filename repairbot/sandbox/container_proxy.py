"""Between a `docker exec` socket and one fork server (run in the container as a program, stdlib only).

Forwards request and reply lines, adds what the container's cgroup saw during the request ({"rb_pids": n,
"rb_oom": n}: limit hits), and kills the server's process tree on EOF. argv[1] is the server program; the last
argument, "repairbot-proxy", is how container_init.py counts live proxies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from typing import IO

COUNTERS = (
    ("pids", ("/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"), "max"),
    ("oom", ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"), "oom_kill"),
)


def counters() -> dict[str, int]:
    out: dict[str, int] = {}
    for key, paths, field in COUNTERS:
        for path in paths:
            try:
                with open(path) as fh:
                    for line in fh:
                        name, _, value = line.partition(" ")
                        if name == field:
                            out[key] = int(value)
                break
            except (OSError, ValueError):
                continue
    return out


def kill_tree(server: subprocess.Popen[bytes]) -> None:
    # The server's children run in their own sessions: find them by parent pid.
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                if ppid == server.pid:
                    os.killpg(int(p), signal.SIGKILL)
            except (OSError, ValueError, IndexError):
                pass
    with contextlib.suppress(OSError):
        os.killpg(server.pid, signal.SIGKILL)


def relay(server_in: IO[bytes], server_out: IO[bytes], out: IO[bytes]) -> None:
    out.write(server_out.readline())  # the server's hello
    out.flush()
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        before = counters()
        server_in.write(line)
        server_in.flush()
        if b'"quit"' in line and json.loads(line).get("quit"):
            return
        reply = server_out.readline()
        if not reply:
            return
        after = counters()
        msg = json.loads(reply)
        msg["rb_pids"] = after.get("pids", 0) - before.get("pids", 0)
        msg["rb_oom"] = after.get("oom", 0) - before.get("oom", 0)
        out.write((json.dumps(msg) + "\n").encode())
        out.flush()


def main(server_program: str) -> None:
    server = subprocess.Popen(
        [sys.executable, server_program],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        relay(server.stdin, server.stdout, sys.stdout.buffer)
    except (OSError, ValueError):
        pass
    finally:
        kill_tree(server)


if __name__ == "__main__":
    main(sys.argv[1])
