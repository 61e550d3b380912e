"""Fixtures for the fault suite: raw TCP listeners that record who connected."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest


class Listener:
    """A TCP socket that accepts and records connections and never answers.

    Where a refusal must happen before any connection is opened, an empty
    `connections` list proves it (an HTTP server only records complete requests).
    """

    def __init__(self, host: str, port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((host, port))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.host = host
        self.port = int(self._sock.getsockname()[1])
        self.connections: list[str] = []
        self._accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(str(peer[0]))
            self._accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._accepted:
            conn.close()
        self._sock.close()


@pytest.fixture
def listen() -> Iterator[Callable[..., Listener]]:
    """Start a recording listener on an address ('127.0.0.2', '::1') and optionally a port."""
    started: list[Listener] = []

    def start(host: str, port: int = 0) -> Listener:
        listener = Listener(host, port)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.close()
