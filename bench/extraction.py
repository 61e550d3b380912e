"""Benchmark 3: articles per second through Duta's extraction stage, against trafilatura alone.

In: the article pages of the local seed sites and the extraction fixtures, repeated to
`Config.pages`. Out: rows for the process pool's throughput against calling
`trafilatura.bare_extraction` directly in one process (with Duta's extraction settings),
and for Duta's own per-article work around trafilatura (decoding, the lxml pass for
sapo/date/author, line filtering), both measured in one process.

The three measurements alternate round by round (trafilatura alone, Duta in this process,
Duta's pool), so load from other work on a shared machine falls on all of them alike; the
pool is started once, as a service starts it, and timed only after every worker has
reported that it is ready.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from trafilatura import bare_extraction

from bench import Config
from bench.corpus import Page, fixture_pages
from bench.report import Row, seconds, times
from bot.extract import extract_or_reject
from bot.pool import ExtractPool

MIN_TEXT_CHARS = 280  # Settings.min_text_chars
ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds for every page, the median of the rounds, and the pool's start-up."""

    alone_s: float
    duta_s: float
    pool_s: float
    startup_s: float


def pages_for(config: Config) -> list[Page]:
    """The fixture pages, repeated to the configured count."""
    pages = fixture_pages()
    return [pages[i % len(pages)] for i in range(config.pages)]


def trafilatura_alone(page: Page) -> None:
    """What a Python user would call: trafilatura on the page bytes, Duta's settings."""
    bare_extraction(
        page.html,
        url=page.url,
        fast=True,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        with_metadata=True,
    )


def duta_extract(page: Page) -> None:
    """Duta's extraction stage for one page, in this process."""
    extract_or_reject(page.html, page.url, None, MIN_TEXT_CHARS)


def timed(function: Callable[[Page], None], pages: list[Page]) -> float:
    """Seconds to run `function` over every page."""
    started = time.perf_counter()
    for page in pages:
        function(page)
    return time.perf_counter() - started


async def timed_pool(pool: ExtractPool, pages: list[Page]) -> float:
    """Seconds for the pool to extract every page, all handed to it at once (a cycle's burst)."""
    started = time.perf_counter()
    await asyncio.gather(*(pool.extract(p.html, p.url, None) for p in pages))
    return time.perf_counter() - started


async def measure(pages: list[Page], workers: int) -> Timings:
    """Alternating rounds of the three ways, after warming each of them on every page."""
    distinct = list(fixture_pages())
    for page in distinct:  # warm caches (lxml, htmldate, trafilatura) for both
        trafilatura_alone(page)
        duta_extract(page)
    started = time.perf_counter()
    pool = ExtractPool(workers, min_text_chars=MIN_TEXT_CHARS)
    try:
        await pool.ready()
        startup_s = time.perf_counter() - started
        await timed_pool(pool, distinct * workers)  # the same warming in every worker
        alone, duta, pooled = [], [], []
        for _ in range(ROUNDS):  # alternate so drift on a shared machine hits all alike
            alone.append(timed(trafilatura_alone, pages))
            duta.append(timed(duta_extract, pages))
            pooled.append(await timed_pool(pool, pages))
    finally:
        pool.close()
    median = statistics.median
    return Timings(median(alone), median(duta), median(pooled), startup_s)


def run(config: Config) -> tuple[list[Row], list[str]]:
    """Benchmark 3."""
    pages = pages_for(config)
    n = len(pages)
    found = asyncio.run(measure(pages, config.extract_workers))
    alone_rate, pool_rate = n / found.alone_s, n / found.pool_s
    speedup = pool_rate / alone_rate
    overhead = found.duta_s / found.alone_s - 1
    rows = [
        Row(
            f"extraction throughput, pool of {config.extract_workers}",
            f"{pool_rate:.1f} articles/s",
            f"{alone_rate:.1f}/s trafilatura in one process",
            times(speedup),
            "≥ 1.6×",
            speedup >= 1.6,
        ),
        Row(
            "Duta's overhead around trafilatura",
            f"{found.duta_s / n * 1000:.1f} ms/article",
            f"{found.alone_s / n * 1000:.1f} ms trafilatura alone",
            f"{overhead:+.1%}",
            "≤ +10%",
            overhead <= 0.10,
        ),
        Row("extraction pool start-up (every worker ready)", seconds(found.startup_s), "—", "—"),
    ]
    note = (
        f"Extraction: {n} pages ({len(fixture_pages())} distinct fixture pages repeated), "
        f"median of {ROUNDS} alternating rounds (trafilatura alone, Duta in one process, "
        "Duta's pool) in one process; the pool is started once and timed after every worker "
        "has reported ready, each round handing it all pages at once. The baseline has "
        "Duta's extraction settings; Duta's prune list (related-news boxes, captions) is "
        "Duta's own work and counts on its side."
    )
    return rows, [note]
