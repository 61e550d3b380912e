"""`duta run`: the long-running service — a scheduler that polls due sources continuously.

The schedule lives in the database (`next_check_at` per source), so a restart
resumes without a burst and without a gap; the in-process APScheduler only
ticks and asks the store what is due. Without a Telegram token, new relevant
articles are printed to the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Runtime, build, utcnow
from bot.models import StoredArticle
from bot.settings import Settings

log = logging.getLogger(__name__)

TICK_S = 5.0  # how often the scheduler asks the store which sources are due

CONNECT_HINT = (
    "Telegram is not connected: set TELEGRAM_BOT_TOKEN to deliver alerts to chats. "
    "Until then new articles are printed here."
)


class Service:
    """Polls due sources on a tick until stopped."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.runtime = runtime
        self.clock = clock
        self.stopping = asyncio.Event()
        self.cycles = 0
        self._busy = asyncio.Lock()

    async def tick(self) -> None:
        """Poll the sources that are due now; skipped while a cycle is still running."""
        if self._busy.locked() or self.stopping.is_set():
            return
        async with self._busy:
            due = await asyncio.to_thread(self.runtime.due_sources, self.clock())
            if due:
                await self.runtime.pipeline.poll(due)
            self.cycles += 1

    async def run(self) -> None:
        """Tick until `stopping` is set, then let the cycle in flight finish."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=TICK_S,
            next_run_time=self.clock(),
            max_instances=1,
            coalesce=True,
            id="poll",
        )
        scheduler.start()
        try:
            await self.stopping.wait()
        finally:
            scheduler.shutdown(wait=False)
            async with self._busy:  # the cycle in flight finishes or is cancelled below
                pass


def console_alert(article: StoredArticle) -> None:
    """Print one stored article as a console alert."""
    date = f"{article.published_at:%Y-%m-%d %H:%M}" if article.published_at else "undated"
    print(f"[{article.source}] {date}  {article.title}\n    {article.url}", flush=True)


async def serve(settings: Settings, *, grace_s: float = 30.0) -> int:
    """Run until SIGTERM/SIGINT; a second signal stops at once."""
    on_article = console_alert if not settings.telegram_token else None
    if not settings.telegram_token:
        log.warning(CONNECT_HINT)
    async with build(settings, on_article=on_article) as runtime:
        service = Service(runtime)
        loop = asyncio.get_running_loop()
        runner = asyncio.create_task(service.run())

        def on_signal() -> None:
            if service.stopping.is_set():
                log.warning("second signal: stopping now")
                runner.cancel()
                return
            log.info("stopping: finishing the cycle in flight (at most %.0f s)", grace_s)
            service.stopping.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        try:
            await runner
        except asyncio.CancelledError:
            pass
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(ValueError):
                    loop.remove_signal_handler(sig)
    return 0
