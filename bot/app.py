"""Builds everything once — settings, store, fetcher, process pool, tagger — and runs it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import load_sources
from bot.fetch import Fetcher
from bot.models import Source, StoredArticle
from bot.pipeline import Pipeline
from bot.pool import ExtractPool
from bot.settings import Settings
from bot.store import Store
from bot.tagging import Tagger
from bot.taxonomy import load_taxonomy

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Runtime:
    """The built application: its sources, store and pipeline."""

    settings: Settings
    sources: tuple[Source, ...]
    store: Store
    pipeline: Pipeline

    def due_sources(self, now: datetime) -> list[Source]:
        """Enabled sources whose next check has come, in due order."""
        due = self.store.due_sources(now)
        by_name = {s.name: s for s in self.sources if s.enabled}
        return [by_name[name] for name in due if name in by_name]


def open_store(settings: Settings) -> Store:
    """The store with migrations applied."""
    return Store.open(settings.database_url)


def load_tagger(settings: Settings) -> Tagger:
    """The tagger for the configured taxonomy."""
    return Tagger(load_taxonomy(settings.taxonomy_path))


@asynccontextmanager
async def build(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    on_article: Callable[[StoredArticle], None] | None = None,
) -> AsyncIterator[Runtime]:
    """Build the pipeline for `settings`, and tear it down on exit."""
    sources = load_sources(settings.sources_path)
    tagger = load_tagger(settings)
    store = open_store(settings)
    pool: ExtractPool | None = None
    try:
        store.sync_sources(sources)
        pool = ExtractPool(settings.extract_workers, min_text_chars=settings.min_text_chars)
        async with Fetcher(settings.fetch) as fetcher:
            pipeline = Pipeline(
                settings, store, fetcher, pool, tagger=tagger, clock=clock, on_article=on_article
            )
            yield Runtime(settings, sources, store, pipeline)
    finally:
        if pool is not None:
            pool.close()
        store.close()
