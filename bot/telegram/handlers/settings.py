"""Telegram edge: /settings — the chat's language, time zone, digest time and quiet hours.

In: `/settings` alone, or `/settings NAME VALUE` (lang, tz, digest, weekly, quiet).
Out: the stored `ChatSettings` changed through `store.update_chat`, and a confirmation
in the chat's (possibly new) language. Bad values get the usage text; nothing is stored.
"""

from __future__ import annotations

import asyncio
from html import escape

from telegram import Update

from bot.models import ChatSettings, UiLanguage
from bot.telegram.commands import ArgumentError, SettingsChange, parse_settings, shorten
from bot.telegram.handlers.common import (
    Context,
    arguments,
    chat_settings,
    refuse_unless_admin,
    reply,
    services,
)
from bot.telegram.i18n import t

_ERROR_KEYS = {
    "language": "error.bad_language",
    "timezone": "error.bad_timezone",
    "time": "error.bad_time",
    "weekday": "error.bad_weekday",
    "quiet": "error.bad_quiet",
}


def describe(chat: ChatSettings) -> str:
    """The chat's settings as /settings shows them."""
    lang = chat.language
    if chat.quiet_start and chat.quiet_end:
        quiet = t(lang, "settings.quiet_range", start=chat.quiet_start, end=chat.quiet_end)
    else:
        quiet = t(lang, "settings.quiet_off")
    return t(
        lang,
        "settings.current",
        language=t(lang, f"lang.{lang}"),
        timezone=escape(chat.timezone),
        digest_time=chat.digest_time,
        weekday=t(lang, f"weekday.{chat.digest_weekday % 7}"),
        quiet=quiet,
    )


def confirmation(change: SettingsChange, chat: ChatSettings) -> str:
    """What a change did, in the chat's language after the change."""
    lang = chat.language
    if change.name == "lang":
        return t(lang, "settings.lang_done")
    if change.name == "tz":
        return t(lang, "settings.tz_done", timezone=escape(chat.timezone))
    if change.name == "digest":
        return t(lang, "settings.digest_done", time=chat.digest_time)
    if change.name == "weekly":
        return t(lang, "settings.weekly_done", weekday=t(lang, f"weekday.{chat.digest_weekday}"))
    if chat.quiet_start and chat.quiet_end:
        return t(lang, "settings.quiet_done", start=chat.quiet_start, end=chat.quiet_end)
    return t(lang, "settings.quiet_off_done")


def error_text(error: ArgumentError, value: str, lang: UiLanguage) -> str:
    """The reply to a bad /settings value: what was wrong, or the usage."""
    key = _ERROR_KEYS.get(error.detail)
    if key is None:
        return t(lang, "usage.settings")
    return t(lang, key, value=escape(shorten(value)))


async def settings_command(update: Update, context: Context) -> None:
    """Show or change this chat's settings: /settings [name value]."""
    chat = update.effective_chat
    if chat is None:
        return
    current = await chat_settings(context, chat, update.effective_user)
    args = arguments(context)
    try:
        change = parse_settings(args)
    except ArgumentError as exc:
        await reply(update, error_text(exc, args[-1] if args else "", current.language))
        return
    if change is None:
        await reply(update, describe(current))
        return
    if await refuse_unless_admin(update, context, current.language):
        return
    store = services(context).store
    changed = await asyncio.to_thread(store.update_chat, chat.id, **change.changes)
    await reply(update, confirmation(change, changed))
