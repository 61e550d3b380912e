"""Fetch stage, the network edge: resolve a host once, check its addresses, connect to one.

In: a host and port (from the fetcher's pre-flight check, or from `bot.fetch.connections`
opening a connection). Out: the allowed addresses, or a TCP stream to one of them; otherwise
AddressRefused or ResolveFailed. Checked answers are remembered for `ttl_s`, and the
connection goes to the very address that was checked, so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot steer a request to a
private address. Only the TCP target changes: TLS is started on the stream with
the URL's hostname for SNI and certificate verification, and the Host header stays.
"""

from __future__ import annotations

import asyncio
import socket
import time
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpcore

from bot.fetch.policy import AddressPolicy, AddressRefused, parse_ip
from bot.fetch.streams import AsyncioBackend

Lookup = Callable[[str, int], Awaitable[Sequence[str]]]

RESOLVE_TTL_S = 60.0  # how long a checked answer is used for new connections
MAX_HOSTS = 4096  # answers remembered at once
MAX_ADDRESSES = 3  # addresses tried per connection, in the resolver's order


class ResolveFailed(Exception):
    """A host name has no usable address (no such name, or the resolver failed)."""

    def __init__(self, host: str, detail: str) -> None:
        self.host = host
        self.reason = f"could not resolve {host} ({detail})"
        super().__init__(self.reason)


async def system_lookup(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for `host`, in its order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class _Answer:
    addresses: tuple[str, ...]
    refused: tuple[str, str] | None  # (address, problem)
    expires_at: float  # time.monotonic()


class GuardedResolver:
    """Host names to addresses the policy allows, each name looked up once per TTL."""

    def __init__(
        self, policy: AddressPolicy, lookup: Lookup = system_lookup, *, ttl_s: float = RESOLVE_TTL_S
    ) -> None:
        self.policy = policy
        self.ttl_s = ttl_s
        self._lookup = lookup
        self._answers: dict[str, _Answer] = {}

    async def addresses(
        self, host: str, port: int, *, timeout_s: float | None = None
    ) -> tuple[str, ...]:
        """The addresses to connect to; AddressRefused if any address of `host` is refused."""
        if parse_ip(host) is not None:  # a literal: nothing to look up
            self.policy.check(host, host)
            return (host,)
        key = host.lower().rstrip(".")
        answer = self._answers.get(key)
        if answer is None or answer.expires_at <= time.monotonic():
            answer = await self._resolve(host, port, timeout_s)
            self._remember(key, answer)
        if answer.refused is not None:
            raise AddressRefused(host, *answer.refused)
        return answer.addresses

    async def _resolve(self, host: str, port: int, timeout_s: float | None) -> _Answer:
        try:
            async with asyncio.timeout(timeout_s):
                found = tuple(dict.fromkeys(await self._lookup(host, port)))
        except TimeoutError as exc:
            raise ResolveFailed(host, f"no answer in {timeout_s:g} s") from exc
        except OSError as exc:  # socket.gaierror: strerror without the "[Errno -2]"
            raise ResolveFailed(host, exc.strerror or str(exc) or type(exc).__name__) from exc
        except UnicodeError as exc:  # a label the IDNA codec refuses
            raise ResolveFailed(host, "invalid host name") from exc
        if not found:
            raise ResolveFailed(host, "no addresses")
        expires_at = time.monotonic() + self.ttl_s
        # One refused address refuses the host: which one a connection would get is
        # the resolver's choice, not ours.
        for address in found:
            problem = self.policy.problem(address)
            if problem is not None:
                return _Answer((), (address, problem), expires_at)
        return _Answer(found, None, expires_at)

    def _remember(self, key: str, answer: _Answer) -> None:
        if len(self._answers) >= MAX_HOSTS:
            now = time.monotonic()
            self._answers = {k: a for k, a in self._answers.items() if a.expires_at > now}
            if len(self._answers) >= MAX_HOSTS:
                self._answers.pop(next(iter(self._answers)))  # the oldest entry
        self._answers[key] = answer


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the resolver allowed."""

    def __init__(
        self, resolver: GuardedResolver, backend: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.resolver = resolver
        self._backend = backend or AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A stream to the first allowed address of `host` that accepts the connection."""
        addresses = await self.resolver.addresses(host, port, timeout_s=timeout)
        failure: Exception | None = None
        for address in addresses[:MAX_ADDRESSES]:
            try:
                return await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # addresses is never empty
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never used: the fetcher speaks TCP only."""
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Delegate httpcore's retry pauses."""
        await self._backend.sleep(seconds)
