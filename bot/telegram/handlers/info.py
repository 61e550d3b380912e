"""Telegram edge: /start, /help, /digest, /why and /sources — the commands that read.

In: the command and its arguments. Out: the welcome with quick-pick buttons, the
command list, an on-demand digest rendered by `bot.digest` + `render.digest`, the tags
of one stored article with the words behind them, and the sources' health.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatType

from bot.dedup import canonical_url
from bot.digest import sections
from bot.models import ChatSettings, UiLanguage
from bot.store import is_failing
from bot.telegram import render
from bot.telegram.commands import ArgumentError, parse_digest, parse_url, shorten
from bot.telegram.handlers.common import (
    Context,
    arguments,
    chat_settings,
    reply,
    services,
    thread_of,
)
from bot.telegram.handlers.subscriptions import topic_names, unknown_lines
from bot.telegram.handlers.topics_ui import followed_topics, quick_keyboard
from bot.telegram.i18n import Html, help_text, t, t_html
from bot.telegram.topics import resolve_topics, topic_label


async def start_command(update: Update, context: Context) -> None:
    """Welcome, in the user's language, with quick-pick buttons: /start."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    lang = (await chat_settings(context, chat, update.effective_user)).language
    text = t(lang, "start.welcome")
    if chat.type != ChatType.PRIVATE:
        text += "\n\n" + t(lang, "start.group")
    followed = await followed_topics(context, chat.id, thread_of(message))
    markup = quick_keyboard(services(context).taxonomy, followed, lang)
    await reply(update, text, reply_markup=markup)


async def help_command(update: Update, context: Context) -> None:
    """Every command with a one-line description: /help."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = (await chat_settings(context, chat, update.effective_user)).language
    await reply(update, help_text(lang, admin=services(context).is_admin_chat(chat.id)))


async def digest_command(update: Update, context: Context) -> None:
    """A digest right now: /digest [period] [topic…]."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    settings = await chat_settings(context, chat, update.effective_user)
    lang, args = settings.language, arguments(context)
    try:
        request = parse_digest(args)
    except ArgumentError as exc:
        key = "error.bad_period" if exc.detail else "usage.digest"
        await reply(update, t_html(lang, key, value=shorten(args[0]) if args else ""))
        return
    taxonomy = services(context).taxonomy
    ids, unknown = resolve_topics(request.words, taxonomy) if request.words else ([], [])
    notes = unknown_lines(unknown, lang)
    if unknown and not ids:
        await reply(update, "\n".join(notes))
        return
    # no topic named: what this chat (or forum topic) follows, else everything relevant
    topics = ids or sorted(await followed_topics(context, chat.id, thread_of(message))) or None
    parts = await _digest_parts(context, settings, request.period, topics, named=ids)
    # one answer: what was not understood heads the digest instead of a message of its own
    parts[0] = "\n".join(notes) + "\n\n" + parts[0] if notes else parts[0]
    for part in parts:
        await reply(update, part)


async def _digest_parts(
    context: Context,
    settings: ChatSettings,
    period: timedelta,
    topics: list[str] | None,
    *,
    named: list[str],
) -> list[str]:
    """The digest of `topics` (None: every relevant article) over `period`, in parts."""
    svc = services(context)
    lang, now = settings.language, svc.clock()
    entries = await asyncio.to_thread(svc.store.digest_entries, since=now - period, topics=topics)
    tz = ZoneInfo(settings.timezone)
    parts = render.digest(
        sections(entries, now=now),
        title=render.digest_title(lang, now.astimezone(tz).date()),
        lang=lang,
        tz=tz,
        labels=lambda topic, language: topic_label(svc.taxonomy, topic, language),
    )
    if parts:
        return parts
    shown = _period_text(period)
    if named:
        names = Html(topic_names(named, svc.taxonomy, lang))
        return [t_html(lang, "digest.empty_topics", topics=names, period=shown)]
    return [t_html(lang, "digest.empty", period=shown)]


def _period_text(period: timedelta) -> str:
    """24h, 3d, 2w: the period as the user writes it."""
    hours = int(period.total_seconds() // 3600)
    if hours % (24 * 7) == 0:
        return f"{hours // (24 * 7)}w"
    if hours % 24 == 0:
        return f"{hours // 24}d"
    return f"{hours}h"


async def why_command(update: Update, context: Context) -> None:
    """Why an article matched: its tags and the words behind them: /why <url>."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = (await chat_settings(context, chat, update.effective_user)).language
    try:
        url = parse_url(arguments(context))
    except ArgumentError:
        await reply(update, t(lang, "usage.why"))
        return
    store = services(context).store
    article = await asyncio.to_thread(store.article_by_url, canonical_url(url))
    if article is None:
        await reply(update, t_html(lang, "why.not_found", url=shorten(url, 80)))
        return
    tags = await asyncio.to_thread(store.article_tags, article.id)
    taxonomy = services(context).taxonomy
    text = render.why(
        article,
        tags,
        lang=lang,
        labels=lambda topic, language: topic_label(taxonomy, topic, language),
    )
    await reply(update, text)


async def sources_command(update: Update, context: Context) -> None:
    """The watched sources, failing ones with their last error: /sources."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = (await chat_settings(context, chat, update.effective_user)).language
    await reply(update, await sources_text(context, lang))


async def sources_text(context: Context, lang: UiLanguage) -> str:
    """The /sources reply."""
    svc = services(context)
    states = await asyncio.to_thread(svc.store.source_states)
    now = svc.clock()
    after = timedelta(seconds=svc.settings.failing_after_s)
    failing = [s for s in states.values() if is_failing(s, now, after)]
    lines = [t_html(lang, "sources.title", count=len(states), failing=len(failing))]
    if not failing:
        lines.append(t(lang, "sources.all_ok"))
        return "\n".join(lines)
    lines.append(t(lang, "sources.failing"))
    for state in failing:
        since = state.failing_since.strftime("%Y-%m-%d %H:%M UTC") if state.failing_since else "?"
        lines.append(
            t_html(
                lang,
                "sources.failing_item",
                name=state.name,
                error=shorten(state.last_error or "?", 200),
                since=since,
                count=state.consecutive_errors,
            )
        )
    return "\n".join(lines)
