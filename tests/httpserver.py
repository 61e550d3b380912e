"""A real HTTP server on 127.0.0.1 for tests: static routes with validators, and faults.

Each `LocalSite` listens on its own port, so several sites have distinct hosts
(`127.0.0.1:PORT`). Routes map a path (with query) to a `Route`: the body, its
headers, and optional misbehaviour (status, delay, trickle, redirect, hang).
Static routes answer conditional requests with 304 on a matching ETag or
Last-Modified, as real CMSs do. Every request is recorded for assertions.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What the server answers for one path."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True  # send ETag/Last-Modified and honour conditional requests
    delay_s: float = 0.0  # wait before answering
    trickle_s: float = 0.0  # wait between single bytes of the body
    hang: bool = False  # accept and never answer
    gzip: bool = False  # send the body gzip-encoded
    declared_length: int | None = None  # lie about Content-Length
    chunked: bool = False  # send Transfer-Encoding: chunked, no Content-Length


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[[Request], Route]

LAST_MODIFIED = formatdate(1_764_806_400, usegmt=True)  # 2025-12-04 00:00:00 GMT


class LocalSite:
    """A threaded HTTP server with a mutable route table."""

    def __init__(self, name: str = "site", latency_s: float = 0.0) -> None:
        self.name = name
        self.latency_s = latency_s
        self.routes: dict[str, Route | Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        # A short poll interval lets stop() return quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        """The site's root URL without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> LocalSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, path: str, route: Route | Handler | bytes | str, **kwargs: object) -> None:
        """Serve `route` at `path`; bytes or str become a 200 static route."""
        if isinstance(route, str):
            route = route.encode("utf-8")
        if isinstance(route, bytes):
            route = Route(body=route, **kwargs)  # type: ignore[arg-type]
        self.routes[path] = route

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: LocalSite

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up early (timeouts under test) are expected, not news."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        site = self.server.site
        request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
        site._record(request)
        found = site.routes.get(self.path) or NOT_FOUND
        route = found(request) if callable(found) else found
        if site.latency_s:
            time.sleep(site.latency_s)
        if route.hang:
            site._stop.wait(60)
            return
        if route.delay_s:
            site._stop.wait(route.delay_s)
        self._answer(request, route, head)

    def _answer(self, request: Request, route: Route, head: bool) -> None:
        status, body, headers = _respond(request, route)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if head or not body:
            return
        try:
            if route.chunked:
                self._chunked(body)
            elif route.trickle_s:
                self._trickle(body, route.trickle_s)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _chunked(self, body: bytes, size: int = 16384) -> None:
        for i in range(0, len(body), size):
            chunk = body[i : i + size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _trickle(self, body: bytes, gap_s: float) -> None:
        for i in range(len(body)):
            if self.server.site._stop.wait(gap_s):
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()


def redirect(location: str, status: int = 302) -> Route:
    """A route that redirects to `location` (absolute or relative)."""
    return Route(status=status, headers={"Location": location}, etag=False)


NOT_FOUND = Route(body=b"<html><body><h1>404 Not Found</h1></body></html>", status=404)


def _respond(request: Request, route: Route) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for `route`, honouring conditional requests."""
    body = route.body
    headers = dict(route.headers)
    status = route.status
    if route.etag and status == 200:
        headers.setdefault("ETag", '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
        headers.setdefault("Last-Modified", LAST_MODIFIED)
        if (
            request.headers.get("if-none-match") == headers["ETag"]
            or request.headers.get("if-modified-since") == headers["Last-Modified"]
        ):
            status, body = 304, b""
    if route.gzip and body:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    if status != 304:
        headers.setdefault("Content-Type", route.content_type)
    if route.chunked and body:
        headers["Transfer-Encoding"] = "chunked"
        return status, body, headers
    length = route.declared_length if route.declared_length is not None else len(body)
    headers["Content-Length"] = str(length)
    return status, body, headers
