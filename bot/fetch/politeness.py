"""Fetch stage, politeness: how many requests may be in flight, and how often per host.

In: a host key (scheme://host:port) per request. Out: a slot to send the request in,
granted when the host has fewer than `host_concurrency` requests in flight, at least
the host's delay has passed since the server answered the previous request, and fewer
than `total_concurrency` requests are in flight overall.

The delay is a gap between request starts as the server sees them, so it is counted
from a moment by which the server has certainly seen the previous request start: when
its answer's head arrived (or the request failed after being sent). Counting from when
a request was allowed to go is not enough: a busy event loop can hold it back after
its turn came, and the next one would follow it too closely. Counting from when its
headers were written is not enough either: a busy server reads one request late and
the next on time. So, while a host has a delay, its requests take turns one at a time,
and a turn ends when the caller reports the request seen (or it failed before anything
was sent, which leaves the previous moment in force). Answer bodies still overlap, up
to `host_concurrency` at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

MAX_CRAWL_DELAY_S = 10.0  # a robots.txt Crawl-delay above this would starve a source


class _HostGate:
    def __init__(self, concurrency: int) -> None:
        self.in_flight = asyncio.Semaphore(concurrency)
        self.turn = asyncio.Lock()  # held from a request's go-ahead until the server answers
        self.last_seen = float("-inf")  # event-loop time the last request was surely seen
        self.crawl_delay_s = 0.0


class _Turn:
    """One request's turn at a host; `seen` stamps the time and hands the turn on."""

    __slots__ = ("_gate", "_loop")

    def __init__(self, gate: _HostGate, loop: asyncio.AbstractEventLoop) -> None:
        self._gate: _HostGate | None = gate
        self._loop = loop

    def seen(self) -> None:
        """The server has seen the request by now: the host's next gap starts here."""
        if self._gate is not None:
            self._gate.last_seen = self._loop.time()
            self.end()

    def end(self) -> None:
        """Hand the turn on (once; later calls do nothing)."""
        if self._gate is not None:
            self._gate.turn.release()
            self._gate = None


class Politeness:
    """Per-host and overall request limits shared by every fetch of one Fetcher."""

    def __init__(
        self, *, host_concurrency: int, host_delay_s: float, total_concurrency: int
    ) -> None:
        self.host_concurrency = max(1, host_concurrency)
        self.host_delay_s = max(0.0, host_delay_s)
        self._total = asyncio.Semaphore(max(1, total_concurrency))
        self._hosts: dict[str, _HostGate] = {}

    def set_crawl_delay(self, host: str, delay_s: float | None) -> None:
        """Honour a robots.txt Crawl-delay for `host` (capped at MAX_CRAWL_DELAY_S)."""
        self._gate(host).crawl_delay_s = min(max(0.0, delay_s or 0.0), MAX_CRAWL_DELAY_S)

    def delay_s(self, host: str) -> float:
        """The minimum gap between request starts to `host`."""
        return max(self.host_delay_s, self._gate(host).crawl_delay_s)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[Callable[[], None]]:
        """Wait until a request to `host` may start; hold the slot while it runs.

        Yields the function to call once the answer's head has arrived, or the request
        failed after being sent: the host's next request waits from that moment.
        """
        gate = self._gate(host)
        async with gate.in_flight:
            if self.delay_s(host) <= 0:  # nothing to space out: requests overlap freely
                async with self._total:
                    yield _nothing
                return
            await gate.turn.acquire()
            loop = asyncio.get_running_loop()
            turn = _Turn(gate, loop)
            try:
                wait_s = gate.last_seen + self.delay_s(host) - loop.time()
                if wait_s > 0:
                    await asyncio.sleep(wait_s)
                # The overall slot is taken after the host's wait, so no request holds
                # one while it sleeps.
                async with self._total:
                    yield turn.seen
            finally:
                turn.end()

    def _gate(self, host: str) -> _HostGate:
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = _HostGate(self.host_concurrency)
        return gate


def _nothing() -> None:
    """Without a delay there is no turn to hand on."""
