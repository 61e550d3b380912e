"""Fetch stage, robots.txt: one cached rule set per host, fetched once per TTL.

In: a host key and a function that fetches a robots.txt URL. Out: `RobotsRules` that
say whether a URL may be fetched and what Crawl-delay the host asks for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from protego import Protego

from bot.errors import FetchError

RETRY_S = 300.0  # robots.txt that failed transiently: allow all, ask again soon

FetchText = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """A host's robots.txt as it applies to our user agent."""

    parser: Protego | None  # None: no usable robots.txt, everything allowed
    crawl_delay_s: float | None
    expires_at: float  # time.monotonic()

    def allows(self, url: str, agent: str) -> bool:
        """True when robots.txt lets `agent` fetch `url`."""
        return self.parser is None or bool(self.parser.can_fetch(url, agent))


class RobotsCache:
    """robots.txt per host, shared by concurrent callers and refreshed after `ttl_s`."""

    def __init__(self, fetch: FetchText, *, agent: str, ttl_s: float) -> None:
        self.agent = agent  # the product token matched against User-agent lines
        self.ttl_s = ttl_s
        self._fetch = fetch
        self._rules: dict[str, RobotsRules] = {}
        self._loading: dict[str, asyncio.Task[RobotsRules]] = {}

    async def rules(self, host: str, robots_url: str) -> RobotsRules:
        """The rules for `host`, fetching `robots_url` when none are cached or fresh."""
        cached = self._rules.get(host)
        if cached is not None and cached.expires_at > time.monotonic():
            return cached
        task = self._loading.get(host)
        if task is None:
            task = asyncio.create_task(self._load(host, robots_url))
            self._loading[host] = task
        # One caller giving up must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    async def aclose(self) -> None:
        """Cancel robots.txt fetches still in flight."""
        tasks = list(self._loading.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _load(self, host: str, robots_url: str) -> RobotsRules:
        try:
            rules = await self._fetch_rules(robots_url, self._rules.get(host))
            self._rules[host] = rules
            return rules
        finally:
            self._loading.pop(host, None)

    async def _fetch_rules(self, robots_url: str, previous: RobotsRules | None) -> RobotsRules:
        now = time.monotonic()
        try:
            body = await self._fetch(robots_url)
        except FetchError as exc:
            if not exc.transient:  # 4xx and the like: the site sets no rules
                return RobotsRules(None, None, now + self.ttl_s)
            # 5xx or network trouble: keep the rules we knew (or allow all) and ask
            # again soon rather than trusting the silence for a whole TTL.
            retry_at = now + min(RETRY_S, self.ttl_s)
            if previous is None:
                return RobotsRules(None, None, retry_at)
            return RobotsRules(previous.parser, previous.crawl_delay_s, retry_at)
        parser = Protego.parse(body.decode("utf-8", errors="replace"))
        delay = parser.crawl_delay(self.agent)
        return RobotsRules(parser, float(delay) if delay else None, now + self.ttl_s)
