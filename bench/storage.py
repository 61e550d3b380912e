"""Benchmark 5: the digest and /why queries with 100,000 stored articles.

In: a fresh SQLite store (and, when one can be started, a temporary PostgreSQL server)
filled with `Config.articles` tagged articles, 1,000 a day up to now. Out: rows for the
p95 of `articles_since(now - 1 day)` (what a daily digest reads) and of the /why lookup
(`canonical_url` + `article_by_url` + `article_tags`), and the database size per 1,000
articles. The SQLite file is kept for the footprint benchmark.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from bench import Config, postgres, seeding
from bench.report import Row, seconds
from bot.dedup import canonical_url
from bot.store import Store
from bot.store.schema import articles

TARGET_S = 0.100


def p95(samples: list[float]) -> float:
    """The 95th percentile (inclusive method)."""
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def timings(function: Callable[[], object], count: int) -> list[float]:
    """Seconds per call of `function`, `count` times."""
    found = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        found.append(time.perf_counter() - started)
    return found


def _sample_urls(url: str, count: int) -> list[str]:
    engine = seeding.engine_for(url)
    try:
        with engine.connect() as conn:
            top = int(conn.execute(select(articles.c.id).order_by(articles.c.id.desc())).first()[0])  # type: ignore[index]
            ids = random.Random(7).sample(range(1, top + 1), count)
            query = select(articles.c.url).where(articles.c.id.in_(ids))
            return [str(u) for u in conn.execute(query).scalars()]
    finally:
        engine.dispose()


def measure(url: str, now: datetime, config: Config) -> tuple[float, float, int, float]:
    """(digest p95 s, /why p95 s, articles in a day's digest, fill seconds) on one database."""
    Store.open(url).close()
    started = time.perf_counter()
    seeding.fill(url, config.articles, now)
    fill_s = time.perf_counter() - started
    if url.startswith("postgresql"):
        _vacuum(url)
    urls = _sample_urls(url, 100 if config.quick else 300)
    with Store.open(url) as store:
        digest = store.articles_since(now - timedelta(days=1))
        digest_times = timings(
            lambda: store.articles_since(now - timedelta(days=1)), 20 if config.quick else 50
        )
        found = iter(urls * 2)

        def why() -> None:
            article = store.article_by_url(canonical_url(next(found)))
            if article is None:
                raise RuntimeError("a stored URL was not found")
            store.article_tags(article.id)

        why_times = timings(why, len(urls))
    return p95(digest_times), p95(why_times), len(digest), fill_s


def sqlite_size(path: Path) -> int:
    """The file's size once the write-ahead log is folded in."""
    engine = seeding.engine_for(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return path.stat().st_size


def _vacuum(url: str) -> None:
    """What autovacuum would have done by the time a real database held this much."""
    engine = seeding.engine_for(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def postgres_size(url: str) -> int:
    """Bytes of Duta's tables with their indexes and TOAST data."""
    engine = seeding.engine_for(url)
    try:
        with engine.connect() as conn:
            query = text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def _rows(engine: str, n: int, result: tuple[float, float, int, float], size: int) -> list[Row]:
    digest, why, day, fill_s = result
    per_thousand = size / (n / 1000) / 1e6
    return [
        Row(
            f"{engine}: digest query p95 ({n:,} articles, {day} in the day)",
            seconds(digest),
            target="≤ 100 ms",
            met=digest <= TARGET_S,
        ),
        Row(f"{engine}: /why lookup p95", seconds(why), target="≤ 100 ms", met=why <= TARGET_S),
        Row(
            f"{engine}: database size per 1,000 articles",
            f"{per_thousand:.1f} MB",
            f"{size / 1e6:.0f} MB in all, filled in {fill_s:.0f} s",
        ),
    ]


def run(config: Config, keep: list[Path]) -> tuple[list[Row], list[str]]:
    """Benchmark 5; appends the SQLite file to `keep`."""
    now = datetime.now(UTC)
    path = config.workdir / "store.db"
    result = measure(f"sqlite:///{path}", now, config)
    rows = _rows("SQLite", config.articles, result, sqlite_size(path))
    keep.append(path)
    notes = [
        f"Storage: {config.articles:,} articles of about 2.5 KB of text (eight paragraphs) "
        "with their real tags, 1,000 a day; the digest query is "
        "`articles_since(now - 1 day)` (up to 1,000 full articles), /why is `canonical_url` "
        "+ `article_by_url` + `article_tags` on random stored URLs."
    ]
    try:
        with postgres.temporary_server() as url:
            result = measure(url, now, config)
            rows += _rows("PostgreSQL", config.articles, result, postgres_size(url))
        notes.append("PostgreSQL: a temporary local server (fsync off), default settings.")
    except postgres.Unavailable as exc:
        rows.append(Row("PostgreSQL: digest and /why queries", "not run", met=None))
        notes.append(f"PostgreSQL not run: {exc}.")
    return rows, notes
