"""Benchmark fixture: many news sites on loopback addresses, served by one child process.

Every site is its own host (127.0.x.y on one shared port; Linux routes all of 127/8 to
the loopback interface), so per-host politeness limits apply per site as they would on
the web. Each site serves an RSS feed at /feed.rss with `items` entries, gzip when
asked, an ETag and Last-Modified that answer conditional requests with 304, and the
article pages its entries link to (at /a/N.html). Every response waits `latency_s`.

The server runs in its own process so its work never competes with the measured client
for the GIL. The parent drives it through a pipe: `advance()` publishes one new entry in
every feed, `stats()` returns what the server saw (requests, bytes, per-host concurrency).
"""

from __future__ import annotations

import asyncio
import gzip
import multiprocessing
import socket
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from multiprocessing.connection import Connection
from typing import Any

import h11

from bench.corpus import article_page, feed_xml

ARTICLE_PREFIX = "/a/"


def host_address(index: int) -> str:
    """The loopback address of site `index` (0-based): 127.0.1.1, 127.0.1.2, …"""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """What the child process serves."""

    sites: int
    items: int  # entries per feed
    latency_s: float
    port: int


@dataclass
class HostStats:
    """What one site saw."""

    in_flight: int = 0
    max_in_flight: int = 0
    last_start: float | None = None
    min_gap_s: float | None = None  # smallest gap between two request starts


@dataclass
class ServerStats:
    """Totals since the last reset, as sent to the parent."""

    requests: int = 0
    not_modified: int = 0
    feed_requests: int = 0
    article_requests: int = 0
    body_bytes: int = 0
    first_request_at: float | None = None  # time.monotonic(), shared by processes on Linux
    hosts: dict[str, HostStats] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A picklable summary for the parent."""
        gaps = [h.min_gap_s for h in self.hosts.values() if h.min_gap_s is not None]
        return {
            "requests": self.requests,
            "not_modified": self.not_modified,
            "feed_requests": self.feed_requests,
            "article_requests": self.article_requests,
            "body_bytes": self.body_bytes,
            "first_request_at": self.first_request_at,
            "max_in_flight_per_host": max(
                (h.max_in_flight for h in self.hosts.values()), default=0
            ),
            "min_gap_per_host_s": min(gaps) if gaps else None,
        }


class _Site:
    """The state of every site: the current feed version and cached bodies."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.version = 0
        self.stats = ServerStats()
        self._cache: dict[tuple[int, int, bool], bytes] = {}
        self._index = {host_address(i): i for i in range(config.sites)}

    def site_of(self, address: str) -> int | None:
        return self._index.get(address)

    def feed(self, site: int, gzipped: bool) -> bytes:
        key = (site, self.version, gzipped)
        body = self._cache.get(key)
        if body is None:
            base = f"http://{host_address(site)}:{self.config.port}"
            xml = feed_xml(site, self.version, self.config.items, base).encode()
            body = gzip.compress(xml, compresslevel=6) if gzipped else xml
            self._cache[key] = body
        return body

    def etag(self, site: int) -> str:
        return f'"{site}-{self.version}"'

    def last_modified(self) -> str:
        return formatdate(1_764_806_400 + 3600 * self.version, usegmt=True)


async def _serve_connection(
    sites: _Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    conn = h11.Connection(h11.SERVER)
    address = writer.get_extra_info("sockname")[0]
    try:
        while True:
            request = await _next_request(conn, reader)
            if request is None:
                return
            status, headers, body = await _answer(sites, address, request)
            writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
            if body:
                writer.write(conn.send(h11.Data(data=body)) or b"")
            writer.write(conn.send(h11.EndOfMessage()) or b"")
            await writer.drain()
            if conn.our_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()
    except (h11.ProtocolError, ConnectionError):
        return
    finally:
        writer.close()


async def _next_request(conn: h11.Connection, reader: asyncio.StreamReader) -> h11.Request | None:
    request: h11.Request | None = None
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            if not data and request is None:
                return None
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.EndOfMessage):
            return request
        elif isinstance(event, h11.ConnectionClosed):
            return None


async def _answer(
    sites: _Site, address: str, request: h11.Request
) -> tuple[int, list[tuple[str, str]], bytes]:
    stats = sites.stats
    now = time.monotonic()
    host = stats.hosts.setdefault(address, HostStats())
    host.in_flight += 1
    host.max_in_flight = max(host.max_in_flight, host.in_flight)
    if host.last_start is not None:
        gap = now - host.last_start
        host.min_gap_s = gap if host.min_gap_s is None else min(host.min_gap_s, gap)
    host.last_start = now
    if stats.first_request_at is None:
        stats.first_request_at = now
    stats.requests += 1
    try:
        await asyncio.sleep(sites.config.latency_s)
        status, headers, body = _route(sites, address, request)
    finally:
        host.in_flight -= 1
    stats.not_modified += status == 304
    stats.body_bytes += len(body)
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


def _route(
    sites: _Site, address: str, request: h11.Request
) -> tuple[int, list[tuple[str, str]], bytes]:
    site = sites.site_of(address)
    path = request.target.decode("ascii", "replace")
    asked = {name.decode().lower(): value.decode() for name, value in request.headers}
    if site is None:
        return 404, [], b"no such site"
    if path == "/feed.rss":
        sites.stats.feed_requests += 1
        return _feed(sites, site, asked)
    if path.startswith(ARTICLE_PREFIX) and path.endswith(".html"):
        sites.stats.article_requests += 1
        number = path.removeprefix(ARTICLE_PREFIX).removesuffix(".html")
        if number.isdigit():
            page = article_page(site, int(number))
            return 200, [("Content-Type", "text/html; charset=utf-8")], page
    return 404, [("Content-Type", "text/plain")], b"not found"


def _feed(
    sites: _Site, site: int, asked: dict[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    etag, modified = sites.etag(site), sites.last_modified()
    validators = [("ETag", etag), ("Last-Modified", modified)]
    if asked.get("if-none-match") == etag or asked.get("if-modified-since") == modified:
        return 304, validators, b""
    gzipped = "gzip" in asked.get("accept-encoding", "")
    headers = [("Content-Type", "application/rss+xml; charset=utf-8"), *validators]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    return 200, headers, sites.feed(site, gzipped)


def _listeners(config: ServerConfig) -> list[socket.socket]:
    """One listening socket per site address, all on the configured port."""
    listeners = []
    for index in range(config.sites):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host_address(index), config.port))
        sock.listen(256)
        sock.setblocking(False)
        listeners.append(sock)
    return listeners


def _command(sites: _Site, pipe: Connection, stop: asyncio.Event) -> None:
    """Run one command from the parent: advance, stats, reset or stop."""
    name = pipe.recv()
    if name == "advance":
        sites.version += 1
        pipe.send(sites.version)
    elif name == "stats":
        pipe.send(sites.stats.summary())
    elif name == "reset":
        sites.stats = ServerStats()
        pipe.send(True)
    else:
        stop.set()
        pipe.send(True)


async def _main(config: ServerConfig, pipe: Connection) -> None:
    sites = _Site(config)
    stop = asyncio.Event()
    servers = []
    for sock in _listeners(config):

        def handle(
            r: asyncio.StreamReader, w: asyncio.StreamWriter
        ) -> asyncio.Future[None] | asyncio.Task[None]:
            return asyncio.ensure_future(_serve_connection(sites, r, w))

        servers.append(await asyncio.start_server(handle, sock=sock, backlog=256))
    loop = asyncio.get_running_loop()
    loop.add_reader(pipe.fileno(), _command, sites, pipe, stop)
    pipe.send("ready")
    await stop.wait()
    loop.remove_reader(pipe.fileno())
    for server in servers:
        server.close()


def _run(config: ServerConfig, pipe: Connection) -> None:
    asyncio.run(_main(config, pipe))


def _free_port(sites: int) -> int:
    """A port that is free on every site address (tried a few times)."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind((host_address(0), 0))
            port = int(probe.getsockname()[1])
        try:
            for sock in _listeners(ServerConfig(sites, 1, 0.0, port)):
                sock.close()
        except OSError:
            continue
        return port
    raise RuntimeError("no port free on every loopback address")


class FeedServer:
    """The parent's handle on the child process serving every site."""

    def __init__(self, sites: int, *, items: int = 20, latency_s: float = 0.05) -> None:
        self.config = ServerConfig(sites, items, latency_s, _free_port(sites))
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_run, args=(self.config, child), daemon=True)
        self.version = 0  # the feeds' current version

    def start(self) -> FeedServer:
        """Start the child and wait until every site listens."""
        self._process.start()
        if not self._pipe.poll(30) or self._pipe.recv() != "ready":
            raise RuntimeError("feed server did not start")
        return self

    def feed_url(self, index: int) -> str:
        """The feed of site `index`."""
        return f"http://{host_address(index)}:{self.config.port}/feed.rss"

    def feed_urls(self, count: int | None = None) -> list[str]:
        """The feeds of the first `count` sites (all by default)."""
        return [self.feed_url(i) for i in range(count or self.config.sites)]

    def advance(self) -> int:
        """Publish one new entry in every feed; returns the new version."""
        self.version = int(self._ask("advance"))
        return self.version

    def stats(self) -> dict[str, Any]:
        """What the server saw since the last reset."""
        summary: dict[str, Any] = self._ask("stats")
        return summary

    def reset(self) -> None:
        """Forget the statistics."""
        self._ask("reset")

    def stop(self) -> None:
        """Stop the child process."""
        if self._process.is_alive():
            self._ask("stop")
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _ask(self, command: str) -> Any:
        self._pipe.send(command)
        return self._pipe.recv()
