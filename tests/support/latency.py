"""A TCP proxy that delays every answer of a server: a real database made slow, as a far or overloaded one is.

Each chunk the server sends back is held `delay_s` before it is forwarded, so every statement's round trip
costs at least that much (psycopg waits for one answer per statement). `pause()` stops forwarding new
connections' data altogether (a database that hangs).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

LIVE: list[LatencyProxy] = []  # the proxies running in this process (a test pauses the one it made)


class LatencyProxy:
    def __init__(self, target_host: str, target_port: int, delay_s: float) -> None:
        self.target = (target_host, target_port)
        self.delay_s = delay_s
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._open = threading.Event()
        self._open.set()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._socks: list[socket.socket] = []

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        LIVE.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        LIVE.remove(self)
        self._stop.set()
        self._open.set()
        self._thread.join(5)
        self._listener.close()
        for s in self._socks:
            with suppress(OSError):
                s.close()

    def pause(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(self.target)
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socks += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, 0.0), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, self.delay_s), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, delay: float) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._open.wait()
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@contextmanager
def slow_postgres(url: str, delay_s: float) -> Iterator[str]:
    """`url` (postgresql://…@127.0.0.1:PORT/DB) behind a LatencyProxy: the same database, slow."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    with LatencyProxy(host, port, delay_s) as proxy:
        netloc = parts.netloc.rsplit("@", 1)
        where = f"127.0.0.1:{proxy.port}"
        new = f"{netloc[0]}@{where}" if len(netloc) == 2 else where
        yield urlunsplit(parts._replace(netloc=new))
