"""The process pool that runs CPU-heavy stages off the event loop, on every core.

In: page bytes, URL and charset (extraction), or a fetched feed, sitemap or listing
(discovery). Out: an `ExtractedPage` or a `Rejection`; a `Discovery`.
Workers start with the `forkserver` method (the parent runs threads and an event
loop, which `fork` would copy in an undefined state) and import trafilatura once.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from bot.discover import discover
from bot.errors import ParseError
from bot.extract import extract_or_reject, warm_up
from bot.models import Discovery, ExtractedPage, Rejection, Response, Source


class ExtractPool:
    """Extraction in worker processes; `workers=0` runs it in a thread (tests, tiny installs)."""

    def __init__(self, workers: int, *, min_text_chars: int) -> None:
        self.workers = workers
        self.min_text_chars = min_text_chars
        self._executor = self._start()

    def _start(self) -> Executor:
        if self.workers <= 0:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=warm_up,
        )

    async def extract(
        self, html: bytes, url: str, charset: str | None
    ) -> ExtractedPage | Rejection:
        """Extract one page in a worker; a crashed worker is replaced and the page rejected."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._executor, extract_or_reject, html, url, charset, self.min_text_chars
            )
        except BrokenProcessPool:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._start()
            return Rejection(url, "extraction worker crashed on this page")

    async def discover(self, source: Source, response: Response, now: datetime) -> Discovery:
        """Read a fetched feed, sitemap or listing page in a worker (feedparser is slow)."""
        loop = asyncio.get_running_loop()
        try:
            job = functools.partial(discover, source, response, now=now)
            return await loop.run_in_executor(self._executor, job)
        except BrokenProcessPool:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._start()
            raise ParseError(response.url, "discovery worker crashed on this document") from None

    def close(self) -> None:
        """Stop the workers; pending work is cancelled."""
        self._executor.shutdown(wait=True, cancel_futures=True)
