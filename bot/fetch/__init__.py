"""Fetch stage: URLs in, `Response` values (final URL, headers, decoded body) out.

The only package in Duta that imports httpx. `Fetcher` shares one connection pool,
enforces per-host politeness and robots.txt, refuses unsafe URLs and oversized
bodies, speaks conditional GET, and translates every transport failure into the
FetchError tree of `bot.errors`.
"""

from bot.fetch.client import Fetcher, FetchStats

__all__ = ["FetchStats", "Fetcher"]
