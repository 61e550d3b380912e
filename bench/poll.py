"""Benchmarks 1 and 2: a poll cycle over many feeds, and what conditional GET saves.

In: a running `FeedServer` (one feed per host, 50 ms per response). Out: rows for

- the cycle's wall time against fetching and parsing the same feeds one after another,
- the fetch stage alone against sequential GETs,
- the same cycle against `reader` (PyPI) updating the same feeds with its own threads,
- the bytes and parses of an unchanged cycle against the changed one before it.

The measured cycle is a steady-state one: the store already holds every entry the feeds
listed before (preloaded), then every feed publishes one new entry. Article fetching is
off (`fetch_articles=False`), as in the comparison with reader, which stores entries only.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx

from bench import Config, seeding
from bench.corpus import ROOT
from bench.feedserver import FeedServer
from bench.report import Row, seconds, times
from bot.app import load_tagger
from bot.fetch import Fetcher
from bot.models import Source
from bot.pipeline import CycleReport, Pipeline
from bot.pool import ExtractPool
from bot.settings import FetchSettings, Settings
from bot.store import Store


@dataclass(frozen=True, slots=True)
class Sequential:
    """A plain loop: GET one feed, parse it with feedparser, next feed."""

    fetch_s: float
    total_s: float


@dataclass(frozen=True, slots=True)
class Cycle:
    """One Duta cycle as measured from outside."""

    report: CycleReport
    wall_s: float
    bytes: int
    requests: int
    parses: int


def sequential(urls: list[str]) -> Sequential:
    """Fetch and parse every feed in turn, as a simple script would."""
    fetch_s = 0.0
    started = time.perf_counter()
    with httpx.Client(headers={"Accept-Encoding": "gzip"}) as client:
        for url in urls:
            before = time.perf_counter()
            response = client.get(url)
            fetch_s += time.perf_counter() - before
            response.raise_for_status()
            feedparser.parse(response.content)
    return Sequential(fetch_s, time.perf_counter() - started)


@contextmanager
def counting_parses(pool: ExtractPool) -> Iterator[Counter[str]]:
    """Count the documents the pipeline hands to its parser (`ExtractPool.discover`)."""
    counts: Counter[str] = Counter()
    original = pool.discover

    async def counted(*args: Any, **kwargs: Any) -> Any:
        counts["discover"] += 1
        return await original(*args, **kwargs)

    pool.discover = counted  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        del pool.discover  # the class's method again


def settings_for(config: Config, database: str) -> Settings:
    """Defaults everywhere except the local database and loopback targets."""
    return Settings(
        database_url=database,
        taxonomy_path=ROOT / "seeds" / "taxonomy.yaml",
        # feeds are read in the pool's workers, as `duta run` does on this machine
        extract_workers=config.extract_workers,
        fetch=FetchSettings(allow_private_networks=True),
    )


async def fetch_only(settings: Settings, urls: list[str]) -> float:
    """The fetch stage alone: every feed through one Fetcher, as many at once as a cycle."""
    limit = asyncio.Semaphore(settings.source_concurrency)
    async with Fetcher(settings.fetch) as fetcher:

        async def one(url: str) -> None:
            async with limit:
                await fetcher.get(url, robots=False)

        started = time.perf_counter()
        await asyncio.gather(*(one(url) for url in urls))
        return time.perf_counter() - started


async def duta_cycles(settings: Settings, sources: list[Source], server: FeedServer) -> list[Cycle]:
    """A changed cycle (one new entry per feed), then an unchanged one."""
    store = Store.open(settings.database_url)
    pool = ExtractPool(settings.extract_workers, min_text_chars=settings.min_text_chars)
    cycles = []
    try:
        store.sync_sources(sources)
        async with Fetcher(settings.fetch) as fetcher:
            pipeline = Pipeline(
                settings,
                store,
                fetcher,
                pool,
                tagger=load_tagger(settings),
                clock=lambda: datetime.now(UTC),
            )
            await pool.ready()  # a steady-state cycle: `duta run` started its workers long ago
            server.advance()
            for _ in range(2):
                before = (fetcher.stats.bytes, fetcher.stats.requests)
                with counting_parses(pool) as parses:
                    started = time.perf_counter()
                    report = await pipeline.poll(sources)
                    wall = time.perf_counter() - started
                cycles.append(
                    Cycle(
                        report,
                        wall,
                        fetcher.stats.bytes - before[0],
                        fetcher.stats.requests - before[1],
                        sum(parses.values()),
                    )
                )
    finally:
        pool.close()
        store.close()
    return cycles


def reader_updates(config: Config, urls: list[str], server: FeedServer) -> tuple[float, float]:
    """reader's first update of every feed, then its update after one new entry per feed."""
    from reader import make_reader

    reader = make_reader(str(config.workdir / "reader.sqlite"))
    try:
        for url in urls:
            reader.add_feed(url)
        started = time.perf_counter()
        reader.update_feeds(workers=config.reader_workers)
        first = time.perf_counter() - started
        server.advance()
        started = time.perf_counter()
        reader.update_feeds(workers=config.reader_workers, scheduled=False)
        changed = time.perf_counter() - started
        entries = reader.get_entry_counts().total
        if entries != len(urls) * (config.items + 1):
            raise RuntimeError(f"reader stored {entries} entries")
    finally:
        reader.close()
    return first, changed


def run(config: Config, server: FeedServer) -> tuple[list[Row], list[str]]:
    """Benchmarks 1 and 2; the server's feeds end one version further on."""
    urls = server.feed_urls()
    n = len(urls)
    seq = sequential(urls)
    reader_first, reader_changed = reader_updates(config, urls, server)
    database = f"sqlite:///{config.workdir / 'poll.db'}"
    settings = settings_for(config, database)
    Store.open(database).close()
    bases = [url.removesuffix("/feed.rss") for url in urls]
    preloaded = seeding.preload_entries(
        database, bases, server.version, config.items, datetime.now(UTC)
    )
    fetch_s = asyncio.run(fetch_only(settings, urls))
    sources = [
        Source(name=f"feed-{i:03d}", url=url, kind="rss", language="vi", fetch_articles=False)
        for i, url in enumerate(urls)
    ]
    changed, unchanged = asyncio.run(duta_cycles(settings, sources, server))
    if changed.report.new != n or changed.report.failed or unchanged.report.failed:
        raise RuntimeError(f"unexpected cycle: {changed.report.new} new of {n}")
    return _rows(config, n, seq, fetch_s, changed, unchanged, reader_changed), [
        f"Poll cycle: {n} feeds of {config.items} entries, one per loopback host, "
        f"{config.latency_s * 1000:.0f} ms per response; the store held the {preloaded} "
        "entries listed before, then every feed published one; storage SQLite, tagging on, "
        "article fetching off. Per-host limits are the defaults (2 in flight, 0.5 s apart).",
        f"reader {_reader_version()} with update_feeds(workers={config.reader_workers}); its "
        f"first update of the same feeds ({n * config.items} new entries) took "
        f"{seconds(reader_first)}.",
    ]


def _rows(
    config: Config,
    n: int,
    seq: Sequential,
    fetch_s: float,
    changed: Cycle,
    unchanged: Cycle,
    reader_changed: float,
) -> list[Row]:
    speedup = seq.total_s / changed.wall_s
    fetch_speedup = seq.fetch_s / fetch_s
    versus_reader = changed.wall_s / reader_changed
    share = unchanged.bytes / changed.bytes if changed.bytes else 0.0
    return [
        Row(
            f"poll cycle, {n} feeds (Pipeline.poll)",
            seconds(changed.wall_s),
            f"{seconds(seq.total_s)} sequential fetch + parse",
            times(speedup),
            "≥ 20× faster",
            speedup >= 20,
        ),
        Row(
            f"fetch stage alone, {n} feeds (Fetcher)",
            seconds(fetch_s),
            f"{seconds(seq.fetch_s)} sequential GETs",
            times(fetch_speedup),
            "≥ 20× faster",
            fetch_speedup >= 20,
        ),
        Row(
            f"poll cycle vs reader, {n} feeds",
            seconds(changed.wall_s),
            f"{seconds(reader_changed)} reader.update_feeds",
            times(versus_reader),
            "≤ 0.5× reader's time",
            versus_reader <= 0.5,
        ),
        Row(
            "conditional GET: bytes of an unchanged cycle",
            f"{unchanged.bytes / 1024:.1f} KiB",
            f"{changed.bytes / 1024:.1f} KiB changed cycle",
            f"{share:.1%}",
            "≤ 5% of the bytes",
            share <= 0.05,
        ),
        Row(
            "conditional GET: feeds parsed in an unchanged cycle",
            str(unchanged.parses),
            f"{changed.parses} in the changed cycle",
            "—",
            "0 (no feed parsed twice)",
            unchanged.parses == 0,
        ),
        Row(
            "unchanged cycle wall time",
            seconds(unchanged.wall_s),
            f"{seconds(changed.wall_s)} changed cycle",
            times(unchanged.wall_s / changed.wall_s),
        ),
    ]


def _reader_version() -> str:
    from importlib.metadata import version

    return version("reader")
