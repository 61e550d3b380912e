"""Telegram edge: the python-telegram-bot `Application` that answers commands and buttons.

In: `Services` (settings with the token and the Bot API server's root, the store, the
taxonomy, a clock). Out: an `Application` with every handler registered, HTML as the
default parse mode, link previews off unless a message asks for one, Telegram's flood
limits respected for replies, and one error handler that logs with context. The
caller runs it (initialize/start/updater.start_polling, or a webhook) and calls
`register_commands` once to publish the command menu in en, id and vi.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults

from bot.errors import ConfigError
from bot.models import UI_LANGUAGES
from bot.settings import Settings
from bot.telegram.handlers import register
from bot.telegram.handlers.common import Context, language, services
from bot.telegram.i18n import command_descriptions, t
from bot.telegram.services import Services

LOG = logging.getLogger("bot.telegram")
MAX_LOGGED_TEXT = 200  # characters of the offending message kept in the log

DutaApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(services: Services) -> DutaApplication:
    """The bot, pointed at TELEGRAM_API_URL, with every handler and the error handler."""
    token = services.settings.telegram_token
    if not token:
        raise ConfigError("a bot token is required", field="TELEGRAM_BOT_TOKEN")
    base_url, base_file_url = api_urls(services.settings)
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .defaults(defaults)
        .rate_limiter(AIORateLimiter())
        # schedules live in the database, not in an in-memory job queue
        .job_queue(None)
        .build()
    )
    application.bot_data["services"] = services
    register(application)
    application.add_error_handler(on_error)
    return application


def api_urls(settings: Settings) -> tuple[str, str]:
    """PTB's base_url and base_file_url for TELEGRAM_API_URL (the Bot API server's root);
    PTB appends the token to them: <root>/bot<token>/<method>."""
    root = settings.telegram_api_url.rstrip("/")
    return f"{root}/bot", f"{root}/file/bot"


async def register_commands(bot: Bot, *, admin_chat_ids: Sequence[int] = ()) -> None:
    """Publish the command menu: English by default, and per language code id, en, vi."""
    await bot.set_my_commands(_menu("en"), scope=BotCommandScopeDefault())
    for lang in UI_LANGUAGES:
        await bot.set_my_commands(_menu(lang), language_code=lang)
    for chat_id in admin_chat_ids:
        try:
            await bot.set_my_commands(_menu("en", admin=True), scope=BotCommandScopeChat(chat_id))
        except TelegramError as exc:
            # an admin chat the bot has not joined yet must not stop the service
            LOG.warning("admin command menu not set for chat %s: %s", chat_id, exc)


def _menu(lang: str, *, admin: bool = False) -> list[BotCommand]:
    return [BotCommand(name, text) for name, text in command_descriptions(lang, admin=admin)]


async def on_error(update: object, context: Context) -> None:
    """Log a failed update with its chat, user and text; tell the user something went wrong."""
    error = context.error
    where = _describe(update)
    token = services(context).settings.telegram_token or ""
    reason = f"{type(error).__name__}: {error}"
    if token:
        reason = reason.replace(token, "<token>")
    LOG.error(
        "update failed (%s): %s",
        where,
        reason,
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            lang = await language(update, context)
            await update.effective_message.reply_text(t(lang, "error.internal"), do_quote=False)
        except Exception:  # the error handler itself must never raise
            LOG.debug("could not tell the user about the failure", exc_info=True)


def _describe(update: object) -> str:
    """chat=…, user=…, text=… of an update, for the log."""
    if not isinstance(update, Update):
        return repr(update)[:MAX_LOGGED_TEXT]
    parts = [f"update={update.update_id}"]
    if update.effective_chat is not None:
        parts.append(f"chat={update.effective_chat.id}")
    if update.effective_user is not None:
        parts.append(f"user={update.effective_user.id}")
    message = update.effective_message
    if message is not None and message.text:
        parts.append(f"text={message.text[:MAX_LOGGED_TEXT]!r}")
    if update.callback_query is not None:
        parts.append(f"data={update.callback_query.data!r}")
    return " ".join(parts)
