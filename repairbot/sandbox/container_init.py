"""PID 1 of a job's container (run there as a program, standard library only).

Reaps orphans, and exits at the wall-clock limit (argv[1] seconds), on SIGTERM/SIGINT/SIGHUP, or when no proxy
(container_proxy.py) has been alive for argv[2] seconds after one was seen. Its exit stops the container, and
auto-remove deletes it.
"""

from __future__ import annotations

import os
import signal
import sys
import time

SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def proxies() -> int:
    n = 0
    for p in os.listdir("/proc"):
        if p.isdigit() and p != "1":
            try:
                with open(f"/proc/{p}/cmdline", "rb") as fh:
                    n += b"repairbot-proxy" in fh.read()
            except OSError:
                pass
    return n


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(wall_s: float, idle_s: float) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    deadline = time.monotonic() + wall_s
    seen = False
    empty_since: float | None = None
    while True:
        now = time.monotonic()
        if now >= deadline:
            return
        info = signal.sigtimedwait(SIGNALS, min(deadline - now, 1.0))
        if info is not None and info.si_signo != signal.SIGCHLD:
            return
        reap()
        if proxies():
            seen, empty_since = True, None
        elif seen:
            empty_since = empty_since or time.monotonic()
            if time.monotonic() - empty_since > idle_s:
                return


if __name__ == "__main__":
    main(float(sys.argv[1]), float(sys.argv[2]))
