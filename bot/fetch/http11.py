"""Fetch stage, HTTP/1.1: one GET at a time on one connection, spoken with h11.

In: an open stream (`bot.fetch.streams`), a request target and its headers. Out: the
answer's status, reason and headers, then its body chunk by chunk (framing, chunked
encoding and keep-alive rules are h11's). Afterwards `finish` makes the connection
idle for the next request when both sides completed their messages and the server
keeps it open; otherwise it is to be closed.

Protocol failures are raised as httpcore's RemoteProtocolError/LocalProtocolError, as
the stream raises httpcore's read/write errors, so the client translates both in one
place. httpcore's own connection class does the same with h11, with locks, trace hooks
and request models around every exchange that cost more event-loop time than h11 does.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import h11
import httpcore

MAX_HEAD_BYTES = 100 * 1024  # status line and headers (h11's default, 16 KiB, is tight)
READ_BYTES = 64 * 1024

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Head:
    """An answer's status line and headers (names lower-cased by h11)."""

    status: int
    reason: bytes
    headers: Headers


class Http11:
    """A client connection: `send`, `receive_head`, `body`, then `finish` or `aclose`."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, *, keepalive_s: float) -> None:
        self._stream = stream
        self._keepalive_s = keepalive_s
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._expires_at: float | None = None  # set while idle: reusable until then

    def reusable(self) -> bool:
        """True when idle, within keep-alive, and the server has neither closed nor written."""
        return (
            self._expires_at is not None
            and time.monotonic() < self._expires_at
            and not self._stream.get_extra_info("is_readable")
        )

    async def send(self, target: bytes, headers: Headers, *, timeout_s: float | None) -> None:
        """Write a GET for `target` (path and query) with `headers`."""
        self._expires_at = None
        try:
            data = self._h11.send(h11.Request(method=b"GET", target=target, headers=headers))
            end = self._h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:  # a header value h11 will not send
            raise httpcore.LocalProtocolError(str(exc)) from exc
        await self._stream.write((data or b"") + (end or b""), timeout_s)

    async def receive_head(self, *, timeout_s: float | None) -> Head:
        """The answer's status line and headers; interim 1xx answers are skipped."""
        while True:
            event = await self._next_event(timeout_s)
            if isinstance(event, h11.Response):
                return Head(event.status_code, bytes(event.reason), list(event.headers))
            if not isinstance(event, h11.InformationalResponse):
                raise httpcore.RemoteProtocolError(f"unexpected {type(event).__name__}")

    async def body(self, *, timeout_s: float | None) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive (still Content-Encoded), until its end."""
        while True:
            event = await self._next_event(timeout_s)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise httpcore.RemoteProtocolError(f"unexpected {type(event).__name__}")

    def finish(self) -> bool:
        """After an exchange: True, and idle, if the connection can serve another request."""
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            self._expires_at = time.monotonic() + self._keepalive_s
            return True
        return False

    async def aclose(self) -> None:
        """Close the connection."""
        self._expires_at = None
        await self._stream.aclose()

    async def _next_event(self, timeout_s: float | None) -> h11.Event:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpcore.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                if event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                    raise httpcore.RemoteProtocolError("connection closed mid-answer")
                assert isinstance(event, h11.Event)
                return event
            data = await self._stream.read(READ_BYTES, timeout_s)
            if not data and self._h11.their_state is h11.SEND_RESPONSE:
                raise httpcore.RemoteProtocolError("server closed without an answer")
            self._h11.receive_data(data)
