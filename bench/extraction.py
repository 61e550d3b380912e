"""Benchmark 3: articles per second through Duta's extraction stage, against trafilatura alone.

In: the article pages of the local seed sites and the extraction fixtures, repeated to
`Config.pages`. Out: rows for the process pool's throughput against calling
`trafilatura.bare_extraction` directly in one process (with the options Duta passes
it), and for Duta's own per-article work around trafilatura (decoding, the lxml pass
for sapo/date/author, line filtering), both measured in one process.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

from trafilatura import bare_extraction

from bench import Config
from bench.corpus import Page, fixture_pages
from bench.report import Row, seconds, times
from bot.extract import extract_or_reject
from bot.pool import ExtractPool

MIN_TEXT_CHARS = 280  # Settings.min_text_chars
ROUNDS = 3


def pages_for(config: Config) -> list[Page]:
    """The fixture pages, repeated to the configured count."""
    pages = fixture_pages()
    return [pages[i % len(pages)] for i in range(config.pages)]


def trafilatura_alone(page: Page) -> None:
    """What a Python user would call: trafilatura on the page bytes, Duta's options."""
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


async def through_pool(pages: list[Page], workers: int) -> tuple[float, float]:
    """(start-up seconds, seconds for every page) through a fresh ExtractPool."""
    started = time.perf_counter()
    pool = ExtractPool(workers, min_text_chars=MIN_TEXT_CHARS)
    try:
        # One page per worker first: workers start lazily, and start-up is reported apart.
        await asyncio.gather(*(pool.extract(p.html, p.url, None) for p in pages[:workers]))
        startup = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.gather(*(pool.extract(p.html, p.url, None) for p in pages))
        return startup, time.perf_counter() - started
    finally:
        pool.close()


def run(config: Config) -> tuple[list[Row], list[str]]:
    """Benchmark 3."""
    pages = pages_for(config)
    n = len(pages)
    for page in fixture_pages():  # warm caches (lxml, htmldate, trafilatura) for both
        trafilatura_alone(page)
        duta_extract(page)
    alone, duta = [], []
    for _ in range(ROUNDS):  # alternate so drift on a shared machine hits both alike
        alone.append(timed(trafilatura_alone, pages))
        duta.append(timed(duta_extract, pages))
    alone_s, duta_s = statistics.median(alone), statistics.median(duta)
    startup_s, pool_s = asyncio.run(through_pool(pages, config.extract_workers))
    alone_rate, pool_rate = n / alone_s, n / pool_s
    speedup = pool_rate / alone_rate
    overhead = duta_s / alone_s - 1
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
            f"{duta_s / n * 1000:.1f} ms/article",
            f"{alone_s / n * 1000:.1f} ms trafilatura alone",
            f"{overhead:+.1%}",
            "≤ +10%",
            overhead <= 0.10,
        ),
        Row("extraction pool start-up", seconds(startup_s), "—", "—"),
    ]
    note = (
        f"Extraction: {n} pages ({len(fixture_pages())} distinct fixture pages repeated), "
        f"median of {ROUNDS} alternating rounds in one process; the pool run is one pass after "
        "its workers have started."
    )
    return rows, [note]
