"""Runs the Telegram side of `duta run`: the bot and the outbox sender.

In: the running `Service` (store, clock, the `stopping` event) and `Settings`. Out: the
bot answering updates — by long polling, or on a webhook Telegram pushes to with a
secret token — and the sender draining the outbox under leases, until the service
stops. Which of the two runs depends on the process's role.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from telegram import Bot, Message
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.errors import ConfigError, DutaError
from bot.service import OUTBOX_LEASE_S, SENDER_SHUTDOWN_S, worker_name
from bot.telegram.app import DutaApplication, api_urls, build_application, register_commands
from bot.telegram.limits import SendLimits
from bot.telegram.sender import Sender
from bot.telegram.services import CycleStatus, Services

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.pipeline import CycleReport
    from bot.service import Service, Webhook
    from bot.settings import Settings

__all__ = ["run_telegram", "worker_name"]

log = logging.getLogger(__name__)


class MeteredBot(Bot):
    """The sender's Bot: counts Telegram's flood-control answers (429) as they come."""

    __slots__ = ("_on_flood",)

    def __init__(self, token: str, *, on_flood: Callable[[], None], **kwargs: Any) -> None:
        self._on_flood = on_flood  # before Bot.__init__, which freezes the object
        super().__init__(token, **kwargs)

    async def send_message(self, *args: Any, **kwargs: Any) -> Message:
        """Send as `Bot.send_message` does; a RetryAfter is counted, then raised."""
        try:
            return await super().send_message(*args, **kwargs)
        except RetryAfter:
            self._on_flood()
            raise


async def run_telegram(
    service: Service,
    settings: Settings,
    *,
    bot: bool = True,
    sender: bool = True,
    webhook: Webhook | None = None,
    outbox_lease_s: float = OUTBOX_LEASE_S,
    shutdown_s: float = SENDER_SHUTDOWN_S,
    metrics: Metrics | None = None,
) -> None:
    """Answer updates (`bot`) and drain the outbox (`sender`) until the service stops."""
    # python-telegram-bot 22: durations as timedelta, without a deprecation warning per 429
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    try:
        async with _bot(service, settings, webhook) if bot else _nothing():
            if sender:
                await _send(service, settings, outbox_lease_s, shutdown_s, metrics)
            else:
                await service.stopping.wait()
    except InvalidToken as exc:
        raise ConfigError("Telegram refused the bot token", field="TELEGRAM_BOT_TOKEN") from exc
    except TelegramError as exc:
        raise DutaError(f"Telegram Bot API at {settings.telegram_api_url}: {exc}") from exc


async def _send(
    service: Service,
    settings: Settings,
    lease_s: float,
    shutdown_s: float,
    metrics: Metrics | None,
) -> None:
    """Run the outbox sender until the service stops; it gives unsent leases back."""
    if not settings.telegram_token:
        raise ConfigError("the sender needs a bot token", field="TELEGRAM_BOT_TOKEN")
    base_url, base_file_url = api_urls(settings)
    on_flood = metrics.observe_telegram_429 if metrics is not None else _ignore
    limits = SendLimits(lease_s=lease_s, shutdown_s=shutdown_s)
    # a plain Bot, not the application's: AIORateLimiter would pause every chat on a 429,
    # while the sender holds only that chat and paces per chat itself
    async with MeteredBot(
        settings.telegram_token,
        on_flood=on_flood,
        base_url=base_url,
        base_file_url=base_file_url,
    ) as bot:
        outbox = Sender(
            bot,
            service.runtime.store,
            worker=service.options.worker,
            clock=service.clock,
            limits=limits,
        )
        await outbox.run(service.stopping)


@contextlib.asynccontextmanager
async def _bot(
    service: Service, settings: Settings, webhook: Webhook | None
) -> AsyncIterator[None]:
    """The bot application, receiving updates for the duration of the block."""
    runtime = service.runtime
    tagger = runtime.pipeline.tagger
    if tagger is None:
        raise RuntimeError("the Telegram bot needs the taxonomy")
    services = Services(settings, runtime.store, tagger.taxonomy, service.clock)
    service.listeners.append(_status_updater(service, services))
    application = build_application(services)
    await application.initialize()
    try:
        await register_commands(application.bot, admin_chat_ids=settings.admin_chat_ids)
        await application.start()
        await _receive(application, webhook)
        yield
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await asyncio.sleep(0)


async def _receive(application: DutaApplication, webhook: Webhook | None) -> None:
    """Start taking updates: long polling, or the webhook (which registers itself)."""
    updater = application.updater
    assert updater is not None
    name = application.bot.username
    if webhook is None:
        await updater.start_polling()
        log.info("Telegram bot @%s is polling for updates", name)
        return
    await updater.start_webhook(
        listen=webhook.listen,
        port=webhook.port,
        url_path=webhook.path,
        webhook_url=webhook.url,
        secret_token=webhook.secret,
    )
    log.info(
        "Telegram bot @%s takes updates on %s:%d/%s",
        name,
        webhook.listen,
        webhook.port,
        webhook.path,
    )


def _status_updater(service: Service, services: Services) -> Callable[[CycleReport], None]:
    """Keep /status's view of the last cycle current (when this process polls)."""

    def on_cycle(report: CycleReport) -> None:
        services.last_cycle = CycleStatus(
            finished_at=service.clock(),
            sources=len(report.reports),
            failed=report.failed,
            new_articles=report.new,
            elapsed_s=report.elapsed_s,
        )

    return on_cycle


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def _ignore() -> None:
    pass
