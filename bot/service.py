"""`duta run`: the long-running service — polling, digests, the sender and the bot.

The schedule lives in the database (`next_check_at` per source, digest times per
chat), so a restart resumes without a burst and without a gap; the in-process
APScheduler only ticks and asks the store what is due. With TELEGRAM_BOT_TOKEN the
bot answers commands by long polling and the sender drains the outbox; without
it, new relevant articles are printed to the console.
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
from bot.delivery import queue_due_digests
from bot.models import StoredArticle
from bot.pipeline import CycleReport
from bot.settings import Settings

log = logging.getLogger(__name__)

TICK_S = 5.0  # how often the scheduler asks the store which sources are due
DIGEST_TICK_S = 60.0  # how often chats' digest times are checked

CONNECT_HINT = (
    "Telegram is not connected: set TELEGRAM_BOT_TOKEN to deliver alerts to chats. "
    "Until then new articles are printed here."
)


class Service:
    """Polls due sources on a tick until stopped."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_cycle: Callable[[CycleReport], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.on_cycle = on_cycle
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
                report = await self.runtime.pipeline.poll(due)
                if self.on_cycle is not None:
                    self.on_cycle(report)
            self.cycles += 1

    async def digest_tick(self) -> None:
        """Queue the daily and weekly digests whose local time has come."""
        if self.stopping.is_set():
            return
        runtime = self.runtime
        taxonomy = runtime.pipeline.tagger.taxonomy if runtime.pipeline.tagger else None
        if taxonomy is not None:
            await asyncio.to_thread(queue_due_digests, runtime.store, taxonomy, self.clock())

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
    """Print one stored, relevant article as a console alert."""
    if article.relevant is False:
        return
    date = f"{article.published_at:%Y-%m-%d %H:%M}" if article.published_at else "undated"
    summary = f"\n    {article.summary}" if article.summary else ""
    print(f"[{article.source}] {date}  {article.title}{summary}\n    {article.url}", flush=True)


async def serve(settings: Settings, *, grace_s: float = 30.0) -> int:
    """Run until SIGTERM/SIGINT; a second signal stops at once."""
    on_article = console_alert if not settings.telegram_token else None
    if not settings.telegram_token:
        log.warning(CONNECT_HINT)
    async with build(settings, on_article=on_article) as runtime:
        service = Service(runtime)
        loop = asyncio.get_running_loop()
        runner = asyncio.create_task(_run_all(service, settings))

        def on_signal() -> None:
            if service.stopping.is_set():
                log.warning("second signal: stopping now")
                runner.cancel()
                return
            log.info("stopping: finishing the work in flight (at most %.0f s)", grace_s)
            service.stopping.set()
            loop.call_later(grace_s, runner.cancel)

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


async def _run_all(service: Service, settings: Settings) -> None:
    """The scheduler, and with a token the Telegram bot and the sender, until stopped."""
    if not settings.telegram_token:
        await service.run()
        return
    from bot.telegram.runner import run_telegram

    await asyncio.gather(service.run(), run_telegram(service, settings))
