"""Fetch stage, the HTTP client: the only code in Duta that talks to httpx.

In: a URL, optional cache validators. Out: a `Response` with the final URL and the
decoded body, or a FetchError subclass saying why there is none (NotModified,
BlockedByRobots, TooLarge, UnsafeUrl, or a transient/permanent FetchError).

Every hop of a redirect chain is checked against the URL policy before it is asked
for, and connections are opened by `bot.fetch.network`, which connects only to the
address it checked. Proxies from the environment are not used: a proxy would resolve
host names itself, out of the policy's reach.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from types import TracebackType

import httpx

from bot.errors import BlockedByRobots, FetchError, NotModified, TooLarge, UnsafeUrl
from bot.fetch.body import BodyReader
from bot.fetch.headers import REDIRECT_STATUSES, max_age_s, status_error
from bot.fetch.network import (
    GuardedBackend,
    GuardedResolver,
    GuardedTransport,
    Lookup,
    ResolveFailed,
    system_lookup,
)
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
        # few idle connections: httpcore rescans its whole pool on every request
        limits = httpx.Limits(
            max_connections=max(1, settings.total_concurrency), max_keepalive_connections=8
        )
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(GuardedBackend(self._resolver), limits),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            follow_redirects=False,  # every hop is checked against the URL policy
            event_hooks={"response": [_stop_at_redirect]},
        )
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
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        robots: bool = True,
        accept: str | None = None,
    ) -> Response:
        """Fetch `url`, following redirects; raise a FetchError when there is no new body."""
        headers = _request_headers(validators, accept)
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
        async with self._politeness.slot(host):
            return await self._exchange(url, target, headers)

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

    async def _exchange(self, url: str, target: httpx.URL, headers: dict[str, str]) -> Response:
        """Send one GET and read its answer within the total time cap."""
        settings = self.settings
        self.stats.requests += 1
        try:
            async with asyncio.timeout(settings.total_timeout_s):
                request = self._client.build_request("GET", target, headers=headers)
                response = await self._client.send(request, stream=True)
                try:
                    return await self._read(url, response)
                finally:
                    await response.aclose()
        except _Redirect as hop:
            return Response(url=hop.url, status=hop.status, content=b"", headers=hop.headers)
        except TimeoutError as exc:
            reason = f"timed out after {settings.total_timeout_s:g} s"
            raise FetchError(url, reason, transient=True) from exc
        except AddressRefused as exc:  # the answer changed since the hop was checked
            raise UnsafeUrl(url, exc.reason) from exc
        except ResolveFailed as exc:
            raise FetchError(url, exc.reason, transient=True) from exc
        except httpx.HTTPError as exc:
            raise _translate(url, exc, settings) from exc

    async def _read(self, url: str, response: httpx.Response) -> Response:
        """Turn a streamed httpx response into a Response, or raise for its status."""
        status = response.status_code
        headers = dict(response.headers.items())  # names arrive lower-cased
        not_before_s = max_age_s(headers.get("cache-control"))
        if status == 304:
            raise NotModified(url, not_before_s=not_before_s)
        if not 200 <= status < 300:
            raise status_error(url, status, response.reason_phrase, headers.get("retry-after"))
        content = await self._read_body(url, response, headers)
        validators = Validators(headers.get("etag"), headers.get("last-modified"))
        return Response(
            url=str(response.url),
            status=status,
            content=content,
            headers=headers,
            validators=validators,
            not_before_s=not_before_s,
        )

    async def _read_body(
        self, url: str, response: httpx.Response, headers: dict[str, str]
    ) -> bytes:
        limit = self.settings.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(url, limit)  # refused before reading a byte
        body = BodyReader(url, headers.get("content-encoding", ""), limit)
        async for chunk in response.aiter_raw():
            self.stats.bytes += len(chunk)
            body.feed(chunk)
        return body.finish()


class _Redirect(Exception):
    """A redirect answer, raised from the response hook before httpx parses its Location.

    httpx builds the next request even when not following redirects, and fails on
    Locations such as `data:` URLs; the fetcher checks each hop itself instead.
    """

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.url = str(response.url)
        self.status = response.status_code
        self.headers = dict(response.headers.items())


async def _stop_at_redirect(response: httpx.Response) -> None:
    if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
        raise _Redirect(response)


def _request_headers(validators: Validators | None, accept: str | None) -> dict[str, str]:
    candidates = {
        "Accept": accept,
        "If-None-Match": validators.etag if validators else None,
        "If-Modified-Since": validators.last_modified if validators else None,
    }
    # A stored validator that cannot be sent as a header is dropped, not fatal.
    return {k: v for k, v in candidates.items() if v and v.isascii() and v.isprintable()}


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


def _translate(url: str, exc: httpx.HTTPError, settings: FetchSettings) -> FetchError:
    """The FetchError for an httpx failure: network trouble is transient, bad URLs are not."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        reason = f"connection timed out after {settings.connect_timeout_s:g} s"
        return FetchError(url, reason, transient=True)
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(url, f"timed out after {settings.read_timeout_s:g} s", transient=True)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(url, f"invalid URL ({detail})", transient=False)
    if isinstance(exc, httpx.ConnectError):
        return FetchError(url, f"could not connect ({detail})", transient=True)
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError(url, f"broken response ({detail})", transient=True)
    return FetchError(url, f"network error ({detail})", transient=True)
