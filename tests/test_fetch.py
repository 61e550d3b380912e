"""The fetch stage against real local HTTP servers: what a poll would see."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import socket
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import trustme

from bot.errors import BlockedByRobots, FetchError, NotModified, TooLarge, UnsafeUrl
from bot.fetch import Fetcher
from bot.fetch.headers import decode_headers, max_age_s, retry_after_s
from bot.fetch.policy import address_problem
from bot.models import Validators
from bot.settings import DEFAULT_USER_AGENT, FetchSettings
from tests.httpserver import LAST_MODIFIED, LocalSite, Request, Route, redirect

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Nhân Dân - Thế giới</title><link>https://nhandan.vn/thegioi/</link>
<item><title>Thúc đẩy giao lưu nhân dân Việt Nam - Nhật Bản</title>
<link>https://nhandan.vn/thuc-day-giao-luu-nhan-dan-viet-nam-nhat-ban-post870001.html</link>
<pubDate>Thu, 04 Dec 2025 08:30:00 +0700</pubDate></item>
</channel></rss>
""".encode()
RSS_TYPE = "application/rss+xml; charset=utf-8"


def local(**overrides: object) -> FetchSettings:
    """Settings for 127.0.0.1 servers: private addresses allowed, no politeness wait."""
    base = FetchSettings(
        allow_private_networks=True,
        host_delay_s=0.0,
        connect_timeout_s=2.0,
        read_timeout_s=2.0,
        total_timeout_s=5.0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


class InFlight:
    """A handler that counts concurrent requests at the server and when each arrived."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.now = 0
        self.peak = 0
        self.arrivals: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Route:
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.hold_s)
        with self._lock:
            self.now -= 1
        return Route(body=b"ok", content_type="text/plain")


async def fails(call: Callable[[], object]) -> FetchError:
    """The FetchError an awaited call raises."""
    with pytest.raises(FetchError) as info:
        await call()  # type: ignore[misc]
    return info.value


class ScriptedSite:
    """An HTTP/1.1 server on the test's own event loop that records each connection.

    Every request is answered 200 with `body` and the connection kept open; or, given
    `answer`, with those raw bytes, and the connection closed. With `close_after_s`,
    the server sends `goodbye` (nothing, or a stray 408 as some servers do) to a
    connection idle that long, and closes it. `tls` makes it an https site.
    """

    def __init__(
        self,
        body: bytes = RSS,
        *,
        answer: bytes | None = None,
        close_after_s: float | None = None,
        goodbye: bytes = b"",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.answer = answer
        self.body = body
        self.close_after_s = close_after_s
        self.goodbye = goodbye
        self.tls = tls
        self.connections: list[list[str]] = []  # the request heads of each connection
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ScriptedSite:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def url(self, host: str = "127.0.0.1", path: str = "/feed") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads: list[str] = []
        self.connections.append(heads)
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        answer += b"Content-Length: %d\r\n\r\n%s" % (len(self.body), self.body)
        try:
            while True:
                heads.append((await reader.readuntil(b"\r\n\r\n")).decode("latin-1"))
                writer.write(answer if self.answer is None else self.answer)
                await writer.drain()
                if self.answer is not None:
                    return
                if self.close_after_s is not None:
                    await asyncio.sleep(self.close_after_s)
                    writer.write(self.goodbye)
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    """A certificate authority of our own, for https sites on 127.0.0.1."""
    return trustme.CA()


def server_tls(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    """A server-side TLS context with a certificate for `names`, issued by `ca`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def trust(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `ca` the one the fetcher trusts, as an operator would with SSL_CERT_FILE."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))


async def busy_loop(stop: asyncio.Event, block_s: float) -> None:
    """Keep the event loop busy: CPU work in `block_s` stretches between awaits.

    Hashing large buffers releases the GIL, so the server's thread still reads its
    clock on time while the event loop is held up.
    """
    data = bytes(1024 * 1024)
    while not stop.is_set():
        deadline = time.monotonic() + block_s
        while time.monotonic() < deadline:
            hashlib.sha256(data).digest()
        await asyncio.sleep(0)


# --- success and conditional GET -------------------------------------------------


async def test_ok_response_carries_body_headers_and_validators(site: LocalSite) -> None:
    site.add("/rss/thegioi-1231.rss", RSS, content_type=RSS_TYPE)
    async with Fetcher(local()) as fetcher:
        response = await fetcher.get(site.url("/rss/thegioi-1231.rss"))
    assert response.status == 200
    assert response.url == site.url("/rss/thegioi-1231.rss")
    assert response.content == RSS
    assert response.content_type == "application/rss+xml"
    assert all(name == name.lower() for name in response.headers)
    assert response.validators.etag == response.headers["etag"]
    assert response.validators.etag.startswith('"')
    assert response.validators.last_modified == LAST_MODIFIED
    assert response.elapsed_s > 0


async def test_second_request_is_conditional_and_not_modified(site: LocalSite) -> None:
    site.add("/feed", RSS, content_type=RSS_TYPE)
    async with Fetcher(local()) as fetcher:
        first = await fetcher.get(site.url("/feed"))
        bytes_after_first = fetcher.stats.bytes
        with pytest.raises(NotModified) as info:
            await fetcher.get(site.url("/feed"), validators=first.validators)
        assert fetcher.stats.not_modified == 1
        assert fetcher.stats.bytes == bytes_after_first  # a 304 costs no body
        assert fetcher.stats.errors == 0
    assert info.value.status == 304 and not info.value.transient
    second = site.hits("/feed")[1]
    assert second.headers["if-none-match"] == first.validators.etag
    assert second.headers["if-modified-since"] == LAST_MODIFIED


async def test_last_modified_alone_is_enough_for_304(site: LocalSite) -> None:
    site.add("/feed", RSS)
    async with Fetcher(local()) as fetcher:
        with pytest.raises(NotModified):
            await fetcher.get(site.url("/feed"), validators=Validators(None, LAST_MODIFIED))
    assert "if-none-match" not in site.hits("/feed")[0].headers


async def test_changed_document_answers_200_with_new_validators(site: LocalSite) -> None:
    site.add("/feed", RSS)
    async with Fetcher(local()) as fetcher:
        first = await fetcher.get(site.url("/feed"))
        changed = RSS.replace("Nhật Bản".encode(), "Pháp".encode())
        site.add("/feed", changed, headers={"Last-Modified": "Fri, 05 Dec 2025 00:00:00 GMT"})
        second = await fetcher.get(site.url("/feed"), validators=first.validators)
    assert second.content == changed
    assert second.validators.etag != first.validators.etag
    assert second.validators.last_modified == "Fri, 05 Dec 2025 00:00:00 GMT"


async def test_max_age_becomes_not_before_also_on_304(site: LocalSite) -> None:
    site.add("/feed", RSS, headers={"Cache-Control": "public, max-age=600"})
    async with Fetcher(local()) as fetcher:
        response = await fetcher.get(site.url("/feed"))
        with pytest.raises(NotModified) as info:
            await fetcher.get(site.url("/feed"), validators=response.validators)
    assert response.not_before_s == 600.0
    assert info.value.not_before_s == 600.0


# --- status classification -------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "transient", "reason"),
    [
        (404, False, "HTTP 404 Not Found"),
        (410, False, "HTTP 410 Gone"),
        (403, False, "HTTP 403 Forbidden"),
        (500, True, "HTTP 500 Internal Server Error"),
        (503, True, "HTTP 503 Service Unavailable"),
        (408, True, "HTTP 408 Request Timeout"),
    ],
)
async def test_error_statuses_are_classified(
    site: LocalSite, status: int, transient: bool, reason: str
) -> None:
    site.add("/page", Route(body=b"<h1>error</h1>", status=status))
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/page")))
        assert fetcher.stats.errors == 1
    assert (error.status, error.transient, error.reason) == (status, transient, reason)
    assert error.url == site.url("/page")
    assert str(error) == f"{site.url('/page')}: {reason}"


async def test_429_retry_after_in_seconds(site: LocalSite) -> None:
    site.add("/feed", Route(status=429, headers={"Retry-After": "120"}))
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/feed")))
    assert error.transient
    assert error.retry_after_s == 120.0


async def test_503_retry_after_as_http_date(site: LocalSite) -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    site.add("/feed", Route(status=503, headers={"Retry-After": format_datetime(when, True)}))
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/feed")))
    assert error.transient and error.status == 503
    assert error.retry_after_s is not None
    assert 85 <= error.retry_after_s <= 91


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Thu, 04 Dec 2025 00:02:00 GMT", 120.0),
        ("Wed, 03 Dec 2025 00:00:00 GMT", 0.0),  # already past
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    now = datetime(2025, 12, 4, tzinfo=UTC)
    assert retry_after_s(value, now=now) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=300", 300.0),
        ("public, max-age=0, must-revalidate", 0.0),
        ("no-cache", None),
        ("max-age=soon", None),
        (None, None),
    ],
)
def test_max_age_values(value: str | None, expected: float | None) -> None:
    assert max_age_s(value) == expected


def test_header_values_are_joined_and_decoded() -> None:
    raw = [
        (b"Cache-Control", b"public"),
        (b"cache-control", b"max-age=60"),
        (b"X-Title", "Thời Đại".encode()),
        (b"X-Legacy", b"caf\xe9"),  # Latin-1 from an old server
    ]
    assert decode_headers(raw) == {
        "cache-control": "public, max-age=60",
        "x-title": "Thời Đại",
        "x-legacy": "café",
    }


# --- timeouts and broken connections ---------------------------------------------


async def test_server_that_never_answers_times_out_transiently(site: LocalSite) -> None:
    site.add("/slow", Route(hang=True))
    started = time.monotonic()
    async with Fetcher(local(read_timeout_s=0.3)) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/slow")))
    assert error.transient
    assert error.reason == "timed out after 0.3 s"
    assert time.monotonic() - started < 2


async def test_trickling_server_is_cut_off_by_the_total_timeout(site: LocalSite) -> None:
    site.add("/trickle", Route(body=b"x" * 200, trickle_s=0.05))
    started = time.monotonic()
    async with Fetcher(local(read_timeout_s=1.0, total_timeout_s=0.5)) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/trickle")))
    assert error.transient
    assert error.reason == "timed out after 0.5 s"
    assert time.monotonic() - started < 1.5


async def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get(f"http://127.0.0.1:{port}/feed"))
    assert error.transient
    assert error.reason.startswith("could not connect")


async def test_invalid_url_is_permanent() -> None:
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get("http:///no-host"))
    assert not error.transient
    assert error.reason.startswith("invalid URL")


# --- connections and TLS -----------------------------------------------------------


async def test_connection_is_kept_for_the_next_request_to_the_host() -> None:
    async with ScriptedSite() as site, Fetcher(local(respect_robots=False)) as fetcher:
        for _ in range(3):
            assert (await fetcher.get(site.url())).content == RSS
    assert [len(heads) for heads in site.connections] == [3]


async def test_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async with (
        ScriptedSite(close_after_s=0.05) as site,
        Fetcher(local(respect_robots=False)) as fetcher,
    ):
        await fetcher.get(site.url())
        await asyncio.sleep(0.2)
        assert (await fetcher.get(site.url())).content == RSS
    assert [len(heads) for heads in site.connections] == [1, 1]


async def test_stray_408_on_an_idle_connection_is_not_taken_for_an_answer() -> None:
    goodbye = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    async with (
        ScriptedSite(close_after_s=0.05, goodbye=goodbye) as site,
        Fetcher(local(respect_robots=False)) as fetcher,
    ):
        await fetcher.get(site.url())
        await asyncio.sleep(0.2)
        response = await fetcher.get(site.url())
    assert (response.status, response.content) == (200, RSS)
    assert len(site.connections) == 2


async def test_answer_without_length_is_read_until_the_server_closes() -> None:
    answer = b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n" + RSS
    async with (
        ScriptedSite(answer=answer) as site,
        Fetcher(local(respect_robots=False)) as fetcher,
    ):
        first = await fetcher.get(site.url())
        second = await fetcher.get(site.url())
    assert first.content == second.content == RSS
    assert len(site.connections) == 2  # a closed connection is not used again


async def test_interim_answers_are_skipped() -> None:
    final = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(RSS), RSS)
    answer = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n" + final
    async with (
        ScriptedSite(answer=answer) as site,
        Fetcher(local(respect_robots=False)) as fetcher,
    ):
        response = await fetcher.get(site.url())
    assert (response.status, response.content) == (200, RSS)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"", "broken response (server closed without an answer)"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "broken response ("),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\nshort", "broken response ("),
    ],
    ids=["silence", "not-http", "cut-short"],
)
async def test_broken_answers_are_transient(answer: bytes, reason: str) -> None:
    async with (
        ScriptedSite(answer=answer) as site,
        Fetcher(local(respect_robots=False)) as fetcher,
    ):
        error = await fails(lambda: fetcher.get(site.url()))
    assert error.transient
    assert error.reason.startswith(reason)


async def test_https_checks_the_certificate_against_the_url_host(
    tls_ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(tls_ca, tmp_path, monkeypatch)
    server = server_tls(tls_ca, "localhost")
    names: list[str | None] = []

    def note_server_name(_: ssl.SSLObject, name: str | None, __: ssl.SSLContext) -> None:
        names.append(name)

    server.sni_callback = note_server_name
    async with ScriptedSite(tls=server) as site, Fetcher(local(respect_robots=False)) as fetcher:
        first = await fetcher.get(site.url("localhost"))
        second = await fetcher.get(site.url("localhost"))
    assert first.content == second.content == RSS
    assert first.url == site.url("localhost")
    assert names == ["localhost"]  # one handshake, for the URL's host name
    assert [len(heads) for heads in site.connections] == [2]
    assert f"Host: localhost:{site.port}" in site.connections[0][0]


@pytest.mark.parametrize(
    ("names", "trusted", "problem"),
    [
        (("localhost",), False, "certificate verify failed"),
        (("news.example",), True, "certificate verify failed"),
    ],
    ids=["unknown-authority", "other-host-name"],
)
async def test_https_with_a_certificate_we_cannot_trust_is_refused(
    tls_ca: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    names: tuple[str, ...],
    trusted: bool,
    problem: str,
) -> None:
    if trusted:
        trust(tls_ca, tmp_path, monkeypatch)
    else:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with (
        ScriptedSite(tls=server_tls(tls_ca, *names)) as site,
        Fetcher(local(respect_robots=False)) as fetcher,
    ):
        error = await fails(lambda: fetcher.get(site.url("localhost")))
    assert error.transient
    assert error.reason.startswith("could not connect (")
    assert problem in error.reason
    assert all(heads == [] for heads in site.connections)  # no request was sent


async def test_large_body_arrives_whole(site: LocalSite) -> None:
    body = bytes(range(256)) * (12 * 1024)  # 3 MiB: the socket is paused and resumed
    site.add("/big", Route(body=body, content_type="application/octet-stream"))
    async with Fetcher(local(max_bytes=4 * 1024 * 1024)) as fetcher:
        response = await fetcher.get(site.url("/big"))
    assert response.content == body


async def test_cookie_set_on_a_redirect_is_sent_back(site: LocalSite) -> None:
    def feed(request: Request) -> Route:
        if request.headers.get("cookie") == "visited=1":
            return Route(body=RSS, content_type=RSS_TYPE)
        return Route(status=403, body=b"cookies required")

    site.add(
        "/rss",
        Route(status=302, headers={"Location": "/rss/home", "Set-Cookie": "visited=1; Path=/"}),
    )
    site.add("/rss/home", feed)
    async with Fetcher(local()) as fetcher:
        assert (await fetcher.get(site.url("/rss"))).content == RSS
    assert "cookie" not in site.hits("/rss")[0].headers


async def test_credentials_in_the_url_are_sent_as_basic_auth(site: LocalSite) -> None:
    site.add("/private.rss", RSS)
    url = f"http://reader:s3cret@127.0.0.1:{site.port}/private.rss"
    async with Fetcher(local(respect_robots=False)) as fetcher:
        await fetcher.get(url)
    seen = site.hits("/private.rss")[0].headers
    assert seen["authorization"] == "Basic cmVhZGVyOnMzY3JldA=="  # reader:s3cret


# --- size cap ----------------------------------------------------------------------


async def test_declared_length_over_cap_is_refused_before_reading(site: LocalSite) -> None:
    # The server promises a gigabyte but sends ten bytes: reading would wait forever.
    site.add("/huge", Route(body=b"0123456789", declared_length=10**9))
    started = time.monotonic()
    async with Fetcher(local(max_bytes=1000, read_timeout_s=5.0)) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/huge")))
    assert isinstance(error, TooLarge)
    assert error.reason == "response larger than 1000 bytes"
    assert not error.transient
    assert time.monotonic() - started < 1


async def test_streamed_body_without_length_is_cut_at_cap(site: LocalSite) -> None:
    site.add("/stream", Route(body=b"<p>news</p>" * 100_000, chunked=True))
    site.add("/small", Route(body=b"<p>news</p>" * 1000, chunked=True))
    async with Fetcher(local(max_bytes=64 * 1024)) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/stream")))
        small = await fetcher.get(site.url("/small"))
    assert isinstance(error, TooLarge)
    assert "content-length" not in small.headers
    assert small.content == b"<p>news</p>" * 1000


async def test_gzip_body_is_decoded_and_counted_compressed(site: LocalSite) -> None:
    site.add("/feed", Route(body=RSS * 50, gzip=True))
    async with Fetcher(local()) as fetcher:
        response = await fetcher.get(site.url("/feed"))
        wire_bytes = fetcher.stats.bytes
    assert response.content == RSS * 50
    assert response.headers["content-encoding"] == "gzip"
    assert 0 < wire_bytes < len(RSS * 50) / 5
    assert "gzip" in site.hits("/feed")[0].headers["accept-encoding"]


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
async def test_deflate_body_is_decoded(site: LocalSite, wbits: int) -> None:
    packer = zlib.compressobj(wbits=wbits)
    encoded = packer.compress(RSS) + packer.flush()
    site.add("/feed", Route(body=encoded, headers={"Content-Encoding": "deflate"}))
    async with Fetcher(local()) as fetcher:
        response = await fetcher.get(site.url("/feed"))
    assert response.content == RSS


async def test_unknown_content_encoding_is_permanent(site: LocalSite) -> None:
    site.add("/feed", Route(body=b"\x1b\x00", headers={"Content-Encoding": "br"}))
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/feed")))
    assert not error.transient
    assert error.reason == "unsupported content encoding br"


async def test_gzip_bomb_is_refused_without_inflating_it(site: LocalSite) -> None:
    packer = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    bomb = b"".join(packer.compress(zeros) for _ in range(40)) + packer.flush()
    assert len(bomb) < 100_000  # 40 MiB of zeros on the wire as a few dozen KiB
    site.add("/bomb", Route(body=bomb, headers={"Content-Encoding": "gzip"}, etag=False))
    async with Fetcher(local(max_bytes=1024 * 1024)) as fetcher:
        tracemalloc.start()
        try:
            error = await fails(lambda: fetcher.get(site.url("/bomb")))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert isinstance(error, TooLarge)
    assert error.limit_bytes == 1024 * 1024
    assert peak < 8 * 1024 * 1024


# --- redirects ---------------------------------------------------------------------


async def test_redirect_chain_ends_at_final_url(site: LocalSite) -> None:
    site.add("/rss", redirect("/rss/home.rss", 301))
    site.add("/rss/home.rss", redirect("latest.rss", 302))  # relative to /rss/
    site.add("/rss/latest.rss", RSS, content_type=RSS_TYPE)
    async with Fetcher(local()) as fetcher:
        response = await fetcher.get(site.url("/rss"))
    assert response.url == site.url("/rss/latest.rss")
    assert response.content == RSS
    assert [len(site.hits(p)) for p in ("/rss", "/rss/home.rss", "/rss/latest.rss")] == [1, 1, 1]


async def test_redirect_to_another_site_applies_that_sites_robots(site: LocalSite) -> None:
    with LocalSite("mirror") as mirror:
        mirror.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        site.add("/moved", redirect(mirror.url("/private/feed")))
        async with Fetcher(local()) as fetcher:
            error = await fails(lambda: fetcher.get(site.url("/moved")))
        assert isinstance(error, BlockedByRobots)
        assert mirror.hits("/private/feed") == []


async def test_redirect_loop_is_permanent(site: LocalSite) -> None:
    site.add("/a", redirect("/b"))
    site.add("/b", redirect("/a"))
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/a")))
    assert (error.reason, error.transient) == ("redirect loop", False)
    assert len(site.hits("/a")) == 1


async def test_too_many_redirects_is_permanent(site: LocalSite) -> None:
    for i in range(5):
        site.add(f"/hop{i}", redirect(f"/hop{i + 1}"))
    site.add("/hop5", RSS)
    async with Fetcher(local(max_redirects=2)) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/hop0")))
        assert (await fetcher.get(site.url("/hop3"))).url == site.url("/hop5")
    assert (error.reason, error.transient) == ("more than 2 redirects", False)
    assert len(site.hits("/hop3")) == 1  # the chain stopped before it


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://ftp.example.org/feed.xml", "data:text/html,hi"]
)
async def test_redirect_to_non_http_scheme_is_refused(site: LocalSite, target: str) -> None:
    site.add("/feed", redirect(target))
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get(site.url("/feed")))
    assert isinstance(error, UnsafeUrl)
    assert not error.transient
    assert error.reason.startswith(f"redirect to {target}")


async def test_non_http_scheme_is_refused_directly() -> None:
    async with Fetcher(local()) as fetcher:
        error = await fails(lambda: fetcher.get("file:///etc/passwd"))
    assert isinstance(error, UnsafeUrl)
    assert error.reason == "file scheme not allowed (http and https only)"


# --- address policy ----------------------------------------------------------------


async def test_loopback_refused_unless_private_networks_allowed(site: LocalSite) -> None:
    site.add("/feed", RSS)
    async with Fetcher(local(allow_private_networks=False)) as fetcher:
        literal = await fails(lambda: fetcher.get(site.url("/feed")))
        named = await fails(lambda: fetcher.get(f"http://localhost:{site.port}/feed"))
    assert isinstance(literal, UnsafeUrl) and isinstance(named, UnsafeUrl)
    assert literal.reason == "refused: loopback address 127.0.0.1"
    assert named.reason.startswith("refused: loopback address ")
    assert named.reason.endswith(" (resolved from localhost)")
    assert site.requests == []  # not even robots.txt was asked for
    async with Fetcher(local(allow_private_networks=True)) as fetcher:
        assert (await fetcher.get(site.url("/feed"))).content == RSS


async def test_cloud_metadata_address_is_refused() -> None:
    async with Fetcher(local(allow_private_networks=False)) as fetcher:
        error = await fails(lambda: fetcher.get("http://169.254.169.254/latest/meta-data/"))
    assert isinstance(error, UnsafeUrl)
    assert error.reason == "refused: cloud metadata address 169.254.169.254"


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("64:ff9b::cba2:4be", None),  # NAT64 around a public address
        ("not-an-ip", "unparseable"),
        ("100.64.0.1", "not globally routable"),
        ("fd00::1", "private"),
        ("203.162.4.190", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_address_policy(address: str, problem: str | None) -> None:
    assert address_problem(address) == problem


# --- robots.txt ---------------------------------------------------------------------

ROBOTS = """User-agent: *
Disallow: /admin/

User-agent: Duta
Disallow: /private/
"""


async def test_robots_disallow_blocks_but_can_be_bypassed(site: LocalSite) -> None:
    site.add("/robots.txt", ROBOTS, content_type="text/plain")
    site.add("/private/feed", RSS)
    site.add("/public/feed", RSS)
    async with Fetcher(local()) as fetcher:
        with pytest.raises(BlockedByRobots) as info:
            await fetcher.get(site.url("/private/feed"))
        assert site.hits("/private/feed") == []
        assert (await fetcher.get(site.url("/public/feed"))).content == RSS
        assert (await fetcher.get(site.url("/private/feed"), robots=False)).content == RSS
        assert fetcher.stats.errors == 0
    assert info.value.reason == "disallowed by robots.txt"
    assert len(site.hits("/robots.txt")) == 1
    assert site.hits("/robots.txt")[0].headers["user-agent"] == DEFAULT_USER_AGENT


async def test_respect_robots_off_skips_robots_txt(site: LocalSite) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /\n")
    site.add("/feed", RSS)
    async with Fetcher(local(respect_robots=False)) as fetcher:
        assert (await fetcher.get(site.url("/feed"))).content == RSS
    assert site.hits("/robots.txt") == []


@pytest.mark.parametrize("status", [404, 503])
async def test_missing_or_failing_robots_allows_all(site: LocalSite, status: int) -> None:
    site.add("/robots.txt", Route(body=b"User-agent: *\nDisallow: /\n", status=status))
    site.add("/feed", RSS)
    async with Fetcher(local()) as fetcher:
        assert (await fetcher.get(site.url("/feed"))).content == RSS
        assert fetcher.stats.errors == 0


async def test_concurrent_callers_share_one_robots_fetch(site: LocalSite) -> None:
    site.add("/robots.txt", Route(body=ROBOTS.encode(), delay_s=0.2))
    for i in range(5):
        site.add(f"/news/{i}", f"<h1>{i}</h1>")
    async with Fetcher(local(host_concurrency=5)) as fetcher:
        pages = await asyncio.gather(*(fetcher.get(site.url(f"/news/{i}")) for i in range(5)))
    assert [p.content for p in pages] == [f"<h1>{i}</h1>".encode() for i in range(5)]
    assert len(site.hits("/robots.txt")) == 1


async def test_robots_is_fetched_again_after_ttl(site: LocalSite) -> None:
    site.add("/robots.txt", ROBOTS)
    site.add("/feed", RSS)
    async with Fetcher(local(robots_ttl_s=0.3)) as fetcher:
        await fetcher.get(site.url("/feed"))
        await fetcher.get(site.url("/feed"))
        assert len(site.hits("/robots.txt")) == 1
        await asyncio.sleep(0.35)
        await fetcher.get(site.url("/feed"))
    assert len(site.hits("/robots.txt")) == 2


async def test_failing_robots_refresh_keeps_the_known_rules(site: LocalSite) -> None:
    site.add("/robots.txt", ROBOTS)
    site.add("/private/feed", RSS)
    async with Fetcher(local(robots_ttl_s=0.3)) as fetcher:
        with pytest.raises(BlockedByRobots):
            await fetcher.get(site.url("/private/feed"))
        site.add("/robots.txt", Route(status=503))
        await asyncio.sleep(0.35)
        with pytest.raises(BlockedByRobots):
            await fetcher.get(site.url("/private/feed"))
    assert len(site.hits("/robots.txt")) == 2
    assert site.hits("/private/feed") == []


async def test_crawl_delay_spaces_requests(site: LocalSite) -> None:
    site.add("/robots.txt", "User-agent: *\nCrawl-delay: 0.4\n")
    tracker = InFlight(hold_s=0.0)
    site.add("/feed", tracker)
    async with Fetcher(local(host_concurrency=4)) as fetcher:
        await asyncio.gather(fetcher.get(site.url("/feed")), fetcher.get(site.url("/feed")))
    gap = tracker.arrivals[1] - tracker.arrivals[0]
    assert gap >= 0.35


# --- politeness and identity -------------------------------------------------------


async def test_per_host_concurrency_is_observed_at_the_server(site: LocalSite) -> None:
    tracker = InFlight(hold_s=0.15)
    site.add("/page", tracker)
    async with Fetcher(local(host_concurrency=2, respect_robots=False)) as fetcher:
        await asyncio.gather(*(fetcher.get(site.url("/page")) for _ in range(6)))
    assert len(tracker.arrivals) == 6
    assert tracker.peak == 2


async def test_total_concurrency_spans_hosts(site: LocalSite) -> None:
    tracker = InFlight(hold_s=0.1)
    with LocalSite("other") as other:
        site.add("/page", tracker)
        other.add("/page", tracker)
        settings = local(host_concurrency=4, total_concurrency=1, respect_robots=False)
        async with Fetcher(settings) as fetcher:
            urls = [site.url("/page"), other.url("/page")] * 2
            await asyncio.gather(*(fetcher.get(url) for url in urls))
    assert len(tracker.arrivals) == 4
    assert tracker.peak == 1


async def test_host_delay_spaces_request_starts(site: LocalSite) -> None:
    tracker = InFlight(hold_s=0.0)
    site.add("/page", tracker)
    settings = local(host_concurrency=4, host_delay_s=0.4, respect_robots=False)
    async with Fetcher(settings) as fetcher:
        await asyncio.gather(*(fetcher.get(site.url("/page")) for _ in range(3)))
    arrivals = sorted(tracker.arrivals)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 2
    # arrivals at the server also carry each connection's setup time: allow for its jitter
    assert min(gaps) >= 0.3


async def test_host_delay_holds_at_the_server_while_the_event_loop_is_busy(
    site: LocalSite,
) -> None:
    """A request held up after its turn came must not leave the next one too close behind.

    Other coroutines block the event loop for 40 ms at a time, so any request can leave
    late; the gaps the server sees between request starts still never drop below the
    configured delay (less 5 ms for reading the server's clock from its own thread).
    """
    tracker = InFlight(hold_s=0.0)
    site.add("/page", tracker)
    delay_s = 0.3
    settings = local(host_concurrency=2, host_delay_s=delay_s, respect_robots=False)
    stop = asyncio.Event()
    hogs = [asyncio.create_task(busy_loop(stop, 0.04)) for _ in range(3)]
    try:
        async with Fetcher(settings) as fetcher:
            await asyncio.gather(*(fetcher.get(site.url("/page")) for _ in range(6)))
    finally:
        stop.set()
        await asyncio.gather(*hogs)
    gaps = [b - a for a, b in itertools.pairwise(sorted(tracker.arrivals))]
    assert len(gaps) == 5
    assert min(gaps) >= delay_s - 0.005, gaps


async def test_next_request_waits_for_the_previous_answer_and_the_delay(
    site: LocalSite,
) -> None:
    """The server has surely seen a request start once it answers: the delay runs from there."""
    tracker = InFlight(hold_s=0.4)  # the server takes 0.4 s before it answers
    site.add("/page", tracker)
    settings = local(host_concurrency=2, host_delay_s=0.3, respect_robots=False)
    async with Fetcher(settings) as fetcher:
        await asyncio.gather(*(fetcher.get(site.url("/page")) for _ in range(2)))
    first, second = sorted(tracker.arrivals)
    assert 0.7 <= second - first < 1.2


async def test_request_that_failed_unanswered_still_spaces_the_next(site: LocalSite) -> None:
    arrivals: list[float] = []

    def page(request: Request) -> Route:
        arrivals.append(time.monotonic())
        return Route(hang=len(arrivals) == 1)  # the first request is never answered

    site.add("/page", page)
    settings = local(host_delay_s=0.3, read_timeout_s=0.3, respect_robots=False)
    async with Fetcher(settings) as fetcher:
        outcomes = await asyncio.gather(
            *(fetcher.get(site.url("/page")) for _ in range(2)), return_exceptions=True
        )
    assert sum(isinstance(o, FetchError) for o in outcomes) == 1
    # the read timeout, then the delay: 0.6 s (0.3 s without the delay); the server may
    # note the first arrival a little late on a busy machine
    assert arrivals[1] - arrivals[0] >= 0.5


async def test_hosts_do_not_wait_for_each_other(site: LocalSite) -> None:
    """Each host keeps its own pace; another host's delays never hold its requests back."""
    slow, quick = InFlight(hold_s=0.0), InFlight(hold_s=0.0)
    with LocalSite("other") as other:
        site.add("/page", slow)
        other.add("/page", quick)
        settings = local(host_concurrency=1, host_delay_s=0.4, respect_robots=False)
        async with Fetcher(settings) as fetcher:
            started = time.monotonic()
            urls = [site.url("/page")] * 3 + [other.url("/page")] * 3
            await asyncio.gather(*(fetcher.get(url) for url in urls))
            elapsed = time.monotonic() - started
    for tracker in (slow, quick):
        gaps = [b - a for a, b in itertools.pairwise(tracker.arrivals)]
        assert len(gaps) == 2 and min(gaps) >= 0.395
    assert abs(quick.arrivals[0] - slow.arrivals[0]) < 0.2  # both started at once
    assert elapsed < 1.3  # two delays each, side by side: not six in a row


async def test_server_sees_user_agent_and_accept(site: LocalSite) -> None:
    site.add("/feed", RSS)
    async with Fetcher(local(user_agent="Duta/9.9 (+https://example.org/duta)")) as fetcher:
        await fetcher.get(site.url("/feed"), accept="application/rss+xml, */*;q=0.5")
    seen = site.hits("/feed")[0].headers
    assert seen["user-agent"] == "Duta/9.9 (+https://example.org/duta)"
    assert seen["accept"] == "application/rss+xml, */*;q=0.5"
    assert seen["accept-encoding"] == "gzip, deflate"


async def test_stats_count_requests_bytes_and_errors(site: LocalSite) -> None:
    site.add("/feed", RSS)
    async with Fetcher(local()) as fetcher:
        first = await fetcher.get(site.url("/feed"))
        with pytest.raises(NotModified):
            await fetcher.get(site.url("/feed"), validators=first.validators)
        with pytest.raises(FetchError):
            await fetcher.get(site.url("/missing"))
        stats = fetcher.stats
    # robots.txt (a 404 page) + feed + conditional feed + missing page
    assert stats.requests == 4
    assert stats.bytes == len(RSS)  # error bodies are not read
    assert (stats.not_modified, stats.errors) == (1, 1)
