"""Runs the Telegram side of `duta run`: the bot (long polling) and the outbox sender."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import TYPE_CHECKING

from bot.telegram.app import build_application, register_commands, sender_bot
from bot.telegram.sender import Sender
from bot.telegram.services import CycleStatus, Services

if TYPE_CHECKING:
    from bot.pipeline import CycleReport
    from bot.service import Service
    from bot.settings import Settings

log = logging.getLogger(__name__)


def worker_name() -> str:
    """This process's name in outbox leases: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_telegram(service: Service, settings: Settings) -> None:
    """Answer commands and drain the outbox until the service stops."""
    # python-telegram-bot 22: durations as timedelta, without a deprecation warning per 429
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    runtime = service.runtime
    tagger = runtime.pipeline.tagger
    if tagger is None:
        raise RuntimeError("the Telegram bot needs the taxonomy")
    services = Services(settings, runtime.store, tagger.taxonomy, service.clock)

    def on_cycle(report: CycleReport) -> None:
        services.last_cycle = CycleStatus(
            finished_at=service.clock(),
            sources=len(report.reports),
            failed=report.failed,
            new_articles=report.new,
            elapsed_s=report.elapsed_s,
        )

    service.on_cycle = on_cycle
    application = build_application(services)
    await application.initialize()
    try:
        await register_commands(application.bot, admin_chat_ids=settings.admin_chat_ids)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling()
        log.info("Telegram bot @%s is polling for updates", application.bot.username)
        async with sender_bot(settings) as bot:
            sender = Sender(bot, runtime.store, worker=worker_name(), clock=service.clock)
            await sender.run(service.stopping)
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await asyncio.sleep(0)
