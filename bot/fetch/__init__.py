"""Fetch stage: URLs in, `Response` values (final URL, headers, decoded body) out.

The only package in Duta that speaks HTTP (httpx, httpcore, h11). `Fetcher` keeps
connections open per host, enforces per-host politeness and robots.txt, refuses unsafe
URLs and oversized bodies, speaks conditional GET, and translates every transport
failure into the FetchError tree of `bot.errors`.
"""

from bot.fetch.client import Fetcher, FetchStats

__all__ = ["FetchStats", "Fetcher"]
