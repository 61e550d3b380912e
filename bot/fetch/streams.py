"""Fetch stage, sockets: network streams on asyncio's own transports.

In: an address and port to connect to (from `bot.fetch.network`), and for https the
TLS context and server name. Out: a stream with httpcore's network-stream interface
(read, write, start_tls, aclose), or httpcore's ConnectError/ConnectTimeout; reads and
writes fail with its Read/Write errors and timeouts. `bot.fetch.http11` speaks HTTP on it.

httpcore's default backend goes through anyio, whose cancel scopes cost more per read
and write than parsing the response does; an asyncio protocol, with a timer only when
a read or write has to wait, does the same job with a fraction of the event loop's time.
"""

from __future__ import annotations

import asyncio
import ssl
import typing

import httpcore

READ_LIMIT = 256 * 1024  # bytes buffered before the socket stops being read


class _Receiver(asyncio.Protocol):
    """One connection's incoming bytes, buffered until they are read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.ended = False  # the peer closed its side, or the connection was lost
        self.error: Exception | None = None
        self._reading_paused = False
        self.writing_paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()
        if len(self.buffer) > READ_LIMIT and not self._reading_paused:
            self._reading_paused = True
            self.require_transport().pause_reading()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self.writing_paused = False
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    def take(self, max_bytes: int) -> bytes:
        """Up to `max_bytes` buffered bytes; b'' once the peer has closed and all was read."""
        if self.buffer:
            data = bytes(self.buffer[:max_bytes])
            del self.buffer[:max_bytes]
            if self._reading_paused and len(self.buffer) <= READ_LIMIT // 2:
                self._reading_paused = False
                self.require_transport().resume_reading()
            return data
        if self.error is not None:
            raise self.error
        return b""

    def put(self, data: bytes) -> None:
        """Hand `data` to the transport, which sends what it can at once."""
        if self.error is not None:
            raise self.error
        self.require_transport().write(data)

    async def readable(self) -> None:
        """Wait until there are bytes to take, or the stream has ended."""
        while not self.buffer and not self.ended:
            await self._wait()

    async def writable(self) -> None:
        """Wait until the transport's send buffer has room again."""
        while self.writing_paused:
            await self._wait()
        if self.error is not None:
            raise self.error

    def require_transport(self) -> asyncio.Transport:
        """The open transport (TLS once upgraded)."""
        if self.transport is None:
            raise ConnectionResetError("connection not open")
        return self.transport

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """A TCP (or TLS) connection, read and written with timeouts."""

    def __init__(self, receiver: _Receiver) -> None:
        self._receiver = receiver

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 (httpcore's signature)
        """Bytes as they arrive; b'' at the end of the stream."""
        receiver = self._receiver
        try:
            if not receiver.buffer and not receiver.ended:
                # A timer only when there is something to wait for: most reads find
                # their bytes already buffered.
                async with asyncio.timeout(timeout):
                    await receiver.readable()
            return receiver.take(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(f"no data in {timeout:g} s") from exc
        except OSError as exc:
            raise httpcore.ReadError(_detail(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Send `buffer`, waiting (up to `timeout`) only while the send buffer is full."""
        receiver = self._receiver
        try:
            receiver.put(buffer)
            if receiver.writing_paused:
                async with asyncio.timeout(timeout):
                    await receiver.writable()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"could not send in {timeout:g} s") from exc
        except OSError as exc:
            raise httpcore.WriteError(_detail(exc)) from exc

    async def aclose(self) -> None:
        """Close the connection (TLS is shut down in the background)."""
        if self._receiver.transport is not None:
            self._receiver.transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        """The same connection after a TLS handshake (certificate checked for `server_hostname`)."""
        receiver = self._receiver
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = receiver.require_transport()
                tls = await loop.start_tls(
                    transport, receiver, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout(f"no TLS handshake in {timeout:g} s") from exc
        except OSError as exc:  # ssl.SSLError included
            await self.aclose()
            raise httpcore.ConnectError(_detail(exc)) from exc
        if tls is None:  # the connection closed during the handshake
            await self.aclose()
            raise httpcore.ConnectError("connection closed during the TLS handshake")
        receiver.transport = tls
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        """Addresses, socket, TLS object, or whether an idle connection got data or a close."""
        receiver = self._receiver
        if info == "is_readable":
            # On an idle connection anything to read, even a close, means it is unusable.
            return bool(receiver.buffer) or receiver.ended
        names = {"client_addr": "sockname", "server_addr": "peername"}
        transport = receiver.transport
        return None if transport is None else transport.get_extra_info(names.get(info, info))


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens `AsyncioStream`s; given addresses, never names (the caller resolved them)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A TCP connection to `host`:`port` within `timeout` seconds."""
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        try:
            async with asyncio.timeout(timeout):
                transport, receiver = await loop.create_connection(
                    _Receiver, host, port, local_addr=local
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection in {timeout:g} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(_detail(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(receiver)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never used: the fetcher speaks TCP only."""
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """httpcore's retry pauses."""
        await asyncio.sleep(seconds)


def _detail(exc: OSError) -> str:
    """'Connection refused' rather than '[Errno 111] Connect call failed (…)'."""
    return exc.strerror or str(exc) or type(exc).__name__
