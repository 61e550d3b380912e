"""Fetch stage, connections: HTTP/1.1 connections kept open between requests to one origin.

In: an origin (its key, scheme://host:port, and the scheme, host and port). Out: an
`Http11` connection, either left idle by an earlier request to that origin and still
usable, or newly opened (TCP through the guarded backend, then TLS for https). Given
back after its exchange, a connection is kept while it can serve another request, for
at most `keepalive_s` and `max_idle` connections in all, the least recently used
closed first.

httpcore's pool does the same job but scans every connection it holds on each request;
here finding one is a dictionary lookup, and the limits on connections in use are the
fetcher's politeness slots.
"""

from __future__ import annotations

import ssl
from collections import OrderedDict

import httpcore

from bot.fetch.http11 import Http11

KEEPALIVE_S = 5.0  # idle time after which a connection is not reused
MAX_IDLE = 32  # idle connections kept in all, across origins


class Connections:
    """Idle connections by origin, and the way to open new ones."""

    def __init__(
        self,
        backend: httpcore.AsyncNetworkBackend,
        ssl_context: ssl.SSLContext,
        *,
        keepalive_s: float = KEEPALIVE_S,
        max_idle: int = MAX_IDLE,
    ) -> None:
        self.keepalive_s = keepalive_s
        self.max_idle = max_idle
        self._backend = backend
        self._ssl_context = ssl_context
        self._idle: OrderedDict[str, list[Http11]] = OrderedDict()
        self._idle_count = 0

    @property
    def idle(self) -> int:
        """Connections kept open for reuse."""
        return self._idle_count

    async def acquire(
        self, key: str, scheme: str, host: str, port: int, *, timeout_s: float | None
    ) -> Http11:
        """A usable idle connection to `key`, or a new one (connecting within `timeout_s`)."""
        while (connection := self._take(key)) is not None:
            if connection.reusable():
                return connection
            await connection.aclose()
        return await self._open(scheme, host, port, timeout_s)

    async def release(self, key: str, connection: Http11) -> None:
        """Keep `connection` for the next request to `key` if it can serve one; else close it."""
        if not connection.finish():
            await connection.aclose()
            return
        self._idle.setdefault(key, []).append(connection)
        self._idle.move_to_end(key)
        self._idle_count += 1
        while self._idle_count > self.max_idle:
            oldest = self._take(next(iter(self._idle)), newest=False)
            if oldest is not None:
                await oldest.aclose()

    async def aclose(self) -> None:
        """Close every idle connection."""
        idle = [c for connections in self._idle.values() for c in connections]
        self._idle.clear()
        self._idle_count = 0
        for connection in idle:
            await connection.aclose()

    def _take(self, key: str, *, newest: bool = True) -> Http11 | None:
        connections = self._idle.get(key)
        if not connections:
            return None
        connection = connections.pop() if newest else connections.pop(0)
        if not connections:
            del self._idle[key]
        self._idle_count -= 1
        return connection

    async def _open(self, scheme: str, host: str, port: int, timeout_s: float | None) -> Http11:
        stream = await self._backend.connect_tcp(host, port, timeout=timeout_s)
        if scheme == "https":
            try:
                # The certificate is checked against the URL's host name, not the address.
                stream = await stream.start_tls(
                    self._ssl_context, server_hostname=host, timeout=timeout_s
                )
            except BaseException:
                await stream.aclose()
                raise
        return Http11(stream, keepalive_s=self.keepalive_s)
