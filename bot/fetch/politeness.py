"""Fetch stage, politeness: how many requests may be in flight, and how often per host.

In: a host key (scheme://host:port) per request. Out: a slot to send the request in,
granted when the host has fewer than `host_concurrency` requests in flight, at least
the host's delay has passed since the previous start there, and fewer than
`total_concurrency` requests are in flight overall.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

MAX_CRAWL_DELAY_S = 10.0  # a robots.txt Crawl-delay above this would starve a source


class _HostGate:
    def __init__(self, concurrency: int) -> None:
        self.in_flight = asyncio.Semaphore(concurrency)
        self.next_start = 0.0  # event-loop time before which no request may start
        self.crawl_delay_s = 0.0


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
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Wait until a request to `host` may start; hold the slot while it runs."""
        gate = self._gate(host)
        # The overall slot is taken before the start time is reserved, so the
        # reserved times are the real start times and the gaps hold at the server.
        async with gate.in_flight, self._total:
            loop = asyncio.get_running_loop()
            now = loop.time()
            start = max(now, gate.next_start)
            gate.next_start = start + self.delay_s(host)
            if start > now:
                await asyncio.sleep(start - now)
            yield

    def _gate(self, host: str) -> _HostGate:
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = _HostGate(self.host_concurrency)
        return gate
