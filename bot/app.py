"""Builds everything once — settings, store, fetcher, process pool, tagger — and runs it.

In: `Settings` (and, for the service, the `Metrics` to feed). Out: a `Runtime` whose
pipeline is ready to poll, torn down on exit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import load_sources
from bot.fetch import Fetcher
from bot.language import load_model
from bot.metrics import Metrics
from bot.models import ExtractedPage, Rejection, Response, Source, StoredArticle, Validators
from bot.pipeline import Pipeline
from bot.pool import ExtractPool
from bot.settings import FetchSettings, Settings
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

    def sources_named(self, names: Iterable[str]) -> list[Source]:
        """The enabled configured sources among `names`, in that order."""
        by_name = {s.name: s for s in self.sources if s.enabled}
        return [by_name[name] for name in names if name in by_name]


class TimedFetcher(Fetcher):
    """A Fetcher that reports how long each `get` took, waits for politeness included."""

    def __init__(self, settings: FetchSettings, *, observe: Callable[[float], None]) -> None:
        super().__init__(settings)
        self._observe = observe

    async def get(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        robots: bool = True,
        accept: str | None = None,
    ) -> Response:
        """Fetch as `Fetcher.get` does, and report the time it took, failures included."""
        started = time.monotonic()
        try:
            return await super().get(url, validators=validators, robots=robots, accept=accept)
        finally:
            self._observe(time.monotonic() - started)


class TimedPool(ExtractPool):
    """An ExtractPool that reports how long each page's extraction took, queueing included."""

    def __init__(
        self, workers: int, *, min_text_chars: int, observe: Callable[[float], None]
    ) -> None:
        super().__init__(workers, min_text_chars=min_text_chars)
        self._observe = observe

    async def extract(
        self, html: bytes, url: str, charset: str | None
    ) -> ExtractedPage | Rejection:
        """Extract as `ExtractPool.extract` does, and report the time it took."""
        started = time.monotonic()
        try:
            return await super().extract(html, url, charset)
        finally:
            self._observe(time.monotonic() - started)


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
    metrics: Metrics | None = None,
) -> AsyncIterator[Runtime]:
    """Build the pipeline for `settings`, and tear it down on exit.

    With `metrics`, every fetch and extraction reports its duration there.
    """
    sources = load_sources(settings.sources_path)
    tagger = load_tagger(settings)
    # the language model is read here, not on the event loop in the middle of a cycle
    await asyncio.to_thread(load_model)
    store = open_store(settings)
    pool: ExtractPool | None = None
    try:
        store.sync_sources(sources)
        pool = _pool(settings, metrics)
        async with _fetcher(settings, metrics) as fetcher:
            pipeline = Pipeline(
                settings, store, fetcher, pool, tagger=tagger, clock=clock, on_article=on_article
            )
            yield Runtime(settings, sources, store, pipeline)
    finally:
        if pool is not None:
            pool.close()
        store.close()


def _pool(settings: Settings, metrics: Metrics | None) -> ExtractPool:
    workers, chars = settings.extract_workers, settings.min_text_chars
    if metrics is None:
        return ExtractPool(workers, min_text_chars=chars)
    return TimedPool(workers, min_text_chars=chars, observe=metrics.observe_extract)


def _fetcher(settings: Settings, metrics: Metrics | None) -> Fetcher:
    if metrics is None:
        return Fetcher(settings.fetch)
    return TimedFetcher(settings.fetch, observe=metrics.observe_fetch)
