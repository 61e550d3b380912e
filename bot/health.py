"""Operations: the HTTP endpoint on DUTA_HTTP_PORT — `/healthz` and `/metrics`.

In: `HealthChecks` (callables the service passes in) and the process's `Metrics`.
Out: `GET /healthz` → 200 JSON when the scheduler is alive, the database answers
and the last cycle is recent, else 503 naming the failing checks; `GET /metrics` →
the Prometheus text exposition; anything else 404. HEAD works on both. Each
connection carries one request and is closed; a malformed or slow request gets a
400 or is dropped, and never disturbs the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from bot.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 5.0  # a client that has not sent its headers by then is dropped
MAX_HEAD_BYTES = 8192  # request line and headers; probes send a few hundred bytes
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass
class HealthChecks:
    """What `/healthz` asks the service; each callable must be cheap and must not block.

    `database_ok` is the exception: it runs in a thread, bounded by `database_timeout_s`.
    """

    scheduler_alive: Callable[[], bool]
    database_ok: Callable[[], bool]
    last_cycle_at: Callable[[], datetime | None]  # end of the last scheduler tick
    max_cycle_age_s: float
    database_timeout_s: float = 2.0


@dataclass(frozen=True, slots=True)
class _Reply:
    status: HTTPStatus
    content_type: str
    body: bytes


class _DatabaseProbe:
    """Runs `database_ok` in a thread; a check still hanging is not started again.

    A thread cannot be cancelled, so without this a database that hangs would pin one
    more worker thread of the event loop's default executor on every probe; instead,
    probes arriving while a check runs wait for that same check.
    """

    def __init__(self, check: Callable[[], bool], timeout_s: float) -> None:
        self._check = check
        self._timeout_s = timeout_s
        self._running: asyncio.Future[bool] | None = None

    async def __call__(self) -> str | None:
        """None when the database answered, else why not."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(asyncio.to_thread(self._check))
            self._running.add_done_callback(_retrieve)
        try:
            ok = await asyncio.wait_for(asyncio.shield(self._running), self._timeout_s)
        except TimeoutError:
            return f"no answer within {self._timeout_s:g} s"
        except Exception as exc:  # any failure of the check means unreachable
            return f"check failed: {type(exc).__name__}"
        return None if ok else "check failed"


def _retrieve(done: asyncio.Future[bool]) -> None:
    """Take a late check's exception, so the loop does not log it as never retrieved."""
    if not done.cancelled():
        done.exception()


class _Health:
    """Evaluates the checks for one server."""

    def __init__(self, checks: HealthChecks) -> None:
        self.checks = checks
        self.started = time.monotonic()
        self.database = _DatabaseProbe(checks.database_ok, checks.database_timeout_s)

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the JSON document for `/healthz`)."""
        failing: dict[str, str] = {}
        if not _alive(self.checks.scheduler_alive):
            failing["scheduler"] = "not running"
        database_error = await self.database()
        if database_error is not None:
            failing["database"] = database_error
        age = _age_s(self.checks.last_cycle_at())
        # before the first cycle, the time since start stands in for the cycle's age
        waited = age if age is not None else time.monotonic() - self.started
        if waited > self.checks.max_cycle_age_s:
            failing["last_cycle"] = f"older than {self.checks.max_cycle_age_s:g} s"
        document: dict[str, Any] = {
            "status": "unhealthy" if failing else "ok",
            "scheduler": "scheduler" not in failing,
            "database": "database" not in failing,
            "last_cycle_age_s": None if age is None else round(age, 3),
            "failing": failing,
        }
        return not failing, document


def _alive(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:  # a check that breaks is a failing check, not a crashed server
        log.exception("health: the scheduler check raised")
        return False


def _age_s(at: datetime | None) -> float | None:
    if at is None:
        return None
    if at.tzinfo is None:  # the store keeps naive UTC on some engines
        at = at.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - at).total_seconds())


async def serve_health(
    host: str, port: int, checks: HealthChecks, metrics: Metrics
) -> asyncio.Server:
    """Start serving `/healthz` and `/metrics` on host:port; the caller closes the server."""
    health = _Health(checks)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _handle(reader, writer, health, metrics)

    server = await asyncio.start_server(handle, host, port, limit=MAX_HEAD_BYTES)
    log.info("health and metrics on http://%s:%d/healthz and /metrics", host, _port(server))
    return server


def _port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1]) if server.sockets else 0


async def _handle(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    health: _Health,
    metrics: Metrics,
) -> None:
    """Answer one request on one connection, then close it."""
    try:
        request = await asyncio.wait_for(_read_request(reader), REQUEST_TIMEOUT_S)
        if request is None:
            reply, head_only = _text(HTTPStatus.BAD_REQUEST), False
        else:
            method, path = request
            reply, head_only = await _route(method, path, health, metrics), method == "HEAD"
        writer.write(_encode(reply, head_only=head_only))
        await writer.drain()
    except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        pass  # the client went away or never finished its request
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str] | None:
    """(method, path without query) from the request head, or None if it is malformed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        return None
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        return None
    method, target, _version = parts
    return method, target.split("?", 1)[0]


async def _route(method: str, path: str, health: _Health, metrics: Metrics) -> _Reply:
    """The reply for one parsed request."""
    if path not in ("/healthz", "/metrics"):
        return _text(HTTPStatus.NOT_FOUND)
    if method not in ("GET", "HEAD"):
        return _text(HTTPStatus.METHOD_NOT_ALLOWED)
    if path == "/metrics":
        return _Reply(HTTPStatus.OK, CONTENT_TYPE, metrics.render())
    healthy, document = await health.report()
    status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
    return _Reply(status, JSON_TYPE, json.dumps(document).encode() + b"\n")


def _text(status: HTTPStatus) -> _Reply:
    return _Reply(status, TEXT_TYPE, f"{status.value} {status.phrase}\n".encode())


def _encode(reply: _Reply, *, head_only: bool) -> bytes:
    """The response bytes; HEAD gets the same headers and no body."""
    headers = [
        f"HTTP/1.1 {reply.status.value} {reply.status.phrase}",
        f"Content-Type: {reply.content_type}",
        f"Content-Length: {len(reply.body)}",
        "Cache-Control: no-store",
        "Connection: close",
    ]
    if reply.status is HTTPStatus.METHOD_NOT_ALLOWED:
        headers.append("Allow: GET, HEAD")
    head = ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + reply.body
