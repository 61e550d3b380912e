"""Fetch stage, the HTTP client: the only code in Duta that speaks HTTP.

In: a URL, optional cache validators. Out: a `Response` with the final URL and the
decoded body, or a FetchError subclass saying why there is none (NotModified,
BlockedByRobots, TooLarge, UnsafeUrl, or a transient/permanent FetchError).

Every hop of a redirect chain is checked against the URL policy before it is asked
for, and connections are opened by `bot.fetch.network`, which connects only to the
address it checked. Proxies from the environment are not used: a proxy would resolve
host names itself, out of the policy's reach.

Requests go straight to HTTP/1.1 connections spoken with h11 (`bot.fetch.connections`,
`bot.fetch.http11`) over asyncio streams (`bot.fetch.streams`); httpx parses URLs and
keeps cookies. httpx's client and httpcore's pool are left out: on a poll of hundreds
of feeds their per-request work was most of the event loop's time.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType

import httpcore
import httpx

from bot.errors import BlockedByRobots, FetchError, NotModified, TooLarge, UnsafeUrl
from bot.fetch.body import BodyReader
from bot.fetch.connections import Connections
from bot.fetch.headers import REDIRECT_STATUSES, decode_headers, max_age_s, status_error
from bot.fetch.http11 import Head, Http11
from bot.fetch.network import GuardedBackend, GuardedResolver, Lookup, ResolveFailed, system_lookup
from bot.fetch.outgoing import Outgoing, request_headers
from bot.fetch.policy import AddressPolicy, AddressRefused, check_scheme
from bot.fetch.politeness import Politeness
from bot.fetch.robots import RobotsCache
from bot.models import Response, Validators
from bot.settings import FetchSettings

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class FetchStats:
    """Running totals since the Fetcher was created."""

    requests: int = 0  # HTTP requests sent, robots.txt and redirect hops included
    bytes: int = 0  # body bytes received on the wire (before gzip/deflate decoding)
    not_modified: int = 0  # get() calls answered 304
    errors: int = 0  # get() calls that failed (not counting 304 and robots refusals)


class Fetcher:
    """A polite HTTP client with a size cap, conditional GET and a URL safety policy.

    `policy` defaults to the settings' (public addresses only, unless private networks
    are allowed); `lookup` resolves host names (the system resolver by default).
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        policy: AddressPolicy | None = None,
        lookup: Lookup = system_lookup,
    ) -> None:
        self.settings = settings
        self.stats = FetchStats()
        policy = policy or AddressPolicy(allow_private=settings.allow_private_networks)
        self._resolver = GuardedResolver(policy, lookup)
        self._connections = Connections(GuardedBackend(self._resolver), _ssl_context())
        self._outgoing = Outgoing(settings.user_agent)
        self._politeness = Politeness(
            host_concurrency=settings.host_concurrency,
            host_delay_s=settings.host_delay_s,
            total_concurrency=settings.total_concurrency,
        )
        agent = (settings.user_agent.split("/", 1)[0].split() or ["*"])[0]
        self._robots = RobotsCache(self._fetch_robots, agent=agent, ttl_s=settings.robots_ttl_s)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close connections and cancel robots.txt fetches in flight."""
        await self._robots.aclose()
        await self._connections.aclose()

    async def get(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        robots: bool = True,
        accept: str | None = None,
    ) -> Response:
        """Fetch `url`, following redirects; raise a FetchError when there is no new body."""
        headers = request_headers(validators, accept)
        try:
            return await self._fetch(url, headers, robots and self.settings.respect_robots)
        except NotModified:
            self.stats.not_modified += 1
            raise
        except BlockedByRobots:
            raise
        except FetchError:
            self.stats.errors += 1
            raise

    async def _fetch(self, url: str, headers: dict[str, str], robots: bool) -> Response:
        started = time.monotonic()
        target = _parse(url, url)
        visited = {str(target)}
        redirects = 0
        while True:
            response = await self._hop(url, target, headers, robots)
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or location is None:
                return replace(response, elapsed_s=time.monotonic() - started)
            target = _parse(url, location, base=target)
            if str(target) in visited:
                raise FetchError(url, "redirect loop", transient=False)
            redirects += 1
            if redirects > self.settings.max_redirects:
                reason = f"more than {self.settings.max_redirects} redirects"
                raise FetchError(url, reason, transient=False)
            visited.add(str(target))

    async def _hop(
        self, url: str, target: httpx.URL, headers: dict[str, str], robots: bool
    ) -> Response:
        """One request: policy, robots.txt and politeness first, then the exchange."""
        host = _host_key(target)
        await self._check_address(url, target)
        if robots:
            await self._check_robots(url, target, host)
        async with self._politeness.slot(host) as seen:
            return await self._exchange(url, target, host, headers, seen)

    async def _check_address(self, url: str, target: httpx.URL) -> None:
        """Refuse a hop to a non-public address before robots.txt or politeness waits.

        The connection checks again, against the same remembered answer.
        """
        host = target.raw_host.decode("ascii")
        timeout_s = self.settings.connect_timeout_s
        try:
            await self._resolver.addresses(host, _port(target), timeout_s=timeout_s)
        except AddressRefused as exc:
            raise UnsafeUrl(url, exc.reason) from exc
        except ResolveFailed as exc:
            raise FetchError(url, exc.reason, transient=True) from exc

    async def _check_robots(self, url: str, target: httpx.URL, host: str) -> None:
        robots_url = target.copy_with(
            path="/robots.txt", query=None, fragment=None, username=None, password=None
        )
        rules = await self._robots.rules(host, str(robots_url))
        self._politeness.set_crawl_delay(host, rules.crawl_delay_s)
        if not rules.allows(str(target), self._robots.agent):
            raise BlockedByRobots(url)

    async def _fetch_robots(self, robots_url: str) -> bytes:
        return (await self._fetch(robots_url, {}, robots=False)).content

    async def _exchange(
        self,
        url: str,
        target: httpx.URL,
        host: str,
        headers: dict[str, str],
        seen: Callable[[], None],
    ) -> Response:
        """Send one GET and read its answer within the total time cap."""
        settings = self.settings
        self.stats.requests += 1
        try:
            async with asyncio.timeout(settings.total_timeout_s):
                connection = await self._connections.acquire(
                    host,
                    target.scheme,
                    target.raw_host.decode("ascii"),
                    _port(target),
                    timeout_s=settings.connect_timeout_s,
                )
                try:
                    return await self._request(url, target, connection, headers, seen)
                finally:
                    await self._connections.release(host, connection)
        except TimeoutError as exc:
            reason = f"timed out after {settings.total_timeout_s:g} s"
            raise FetchError(url, reason, transient=True) from exc
        except AddressRefused as exc:  # the answer changed since the hop was checked
            raise UnsafeUrl(url, exc.reason) from exc
        except ResolveFailed as exc:
            raise FetchError(url, exc.reason, transient=True) from exc
        except _HTTPCORE_ERRORS as exc:
            raise _translate(url, exc, settings) from exc

    async def _request(
        self,
        url: str,
        target: httpx.URL,
        connection: Http11,
        headers: dict[str, str],
        seen: Callable[[], None],
    ) -> Response:
        """The exchange on an open connection; politeness is told when the server answered."""
        timeout_s = self.settings.read_timeout_s
        try:
            fields = self._outgoing.headers(target, headers)
            await connection.send(target.raw_path, fields, timeout_s=timeout_s)
            head = await connection.receive_head(timeout_s=timeout_s)
        finally:
            # The server saw the request start, if at all, before it answered or failed.
            seen()
        return await self._read(url, target, connection, head)

    async def _read(self, url: str, target: httpx.URL, connection: Http11, head: Head) -> Response:
        """Turn an answer into a Response, or raise for its status."""
        status = head.status
        headers = decode_headers(head.headers)
        if "set-cookie" in headers:
            self._outgoing.keep_cookies(target, status, head.headers)
        if status in REDIRECT_STATUSES and "location" in headers:
            return Response(url=str(target), status=status, content=b"", headers=headers)
        not_before_s = max_age_s(headers.get("cache-control"))
        if status == 304:
            raise NotModified(url, not_before_s=not_before_s)
        if not 200 <= status < 300:
            phrase = head.reason.decode("ascii", "replace")
            raise status_error(url, status, phrase, headers.get("retry-after"))
        content = await self._read_body(url, connection, headers)
        validators = Validators(headers.get("etag"), headers.get("last-modified"))
        return Response(
            url=str(target),
            status=status,
            content=content,
            headers=headers,
            validators=validators,
            not_before_s=not_before_s,
        )

    async def _read_body(self, url: str, connection: Http11, headers: dict[str, str]) -> bytes:
        limit = self.settings.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(url, limit)  # refused before reading a byte
        body = BodyReader(url, headers.get("content-encoding", ""), limit)
        async for chunk in connection.body(timeout_s=self.settings.read_timeout_s):
            self.stats.bytes += len(chunk)
            body.feed(chunk)
        return body.finish()


_HTTPCORE_ERRORS = (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError)


def _ssl_context() -> ssl.SSLContext:
    """httpx's verifying context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), HTTP/1.1 only."""
    context = httpx.create_ssl_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


def _parse(url: str, target: str, base: httpx.URL | None = None) -> httpx.URL:
    """`target` (relative to `base`) as an httpx URL; errors name the requested `url`."""
    try:
        parsed = base.join(target) if base is not None else httpx.URL(target)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(url, f"invalid URL {target!r}", transient=False) from exc
    check_scheme(url, parsed.scheme, redirect_to=target if base is not None else None)
    if parsed.scheme in _DEFAULT_PORTS and not parsed.raw_host:
        raise FetchError(url, f"invalid URL {target!r} (no host)", transient=False)
    return parsed


def _port(target: httpx.URL) -> int:
    return target.port or _DEFAULT_PORTS.get(target.scheme, 0)


def _host_key(target: httpx.URL) -> str:
    return f"{target.scheme}://{target.raw_host.decode('ascii')}:{_port(target)}"


def _translate(url: str, exc: Exception, settings: FetchSettings) -> FetchError:
    """The FetchError for an httpcore failure: network trouble is transient, bad URLs are not."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpcore.ConnectTimeout):
        reason = f"connection timed out after {settings.connect_timeout_s:g} s"
        return FetchError(url, reason, transient=True)
    if isinstance(exc, httpcore.TimeoutException):
        return FetchError(url, f"timed out after {settings.read_timeout_s:g} s", transient=True)
    if isinstance(exc, httpcore.ConnectError):
        return FetchError(url, f"could not connect ({detail})", transient=True)
    if isinstance(exc, httpcore.RemoteProtocolError):
        return FetchError(url, f"broken response ({detail})", transient=True)
    return FetchError(url, f"network error ({detail})", transient=True)
