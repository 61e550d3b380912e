"""Telegram edge: /subscribe, /unsubscribe and /list.

In: topic words (ids, labels or aliases in any of the three languages) and a delivery
mode. Out: subscriptions stored for this chat and forum topic, and a reply saying what
changed; unknown words get suggestions, and nothing unknown is ever stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from telegram import Update

from bot.models import Subscription, UiLanguage
from bot.taxonomy import Taxonomy
from bot.telegram.commands import ArgumentError, parse_subscribe, shorten, topic_words
from bot.telegram.handlers.common import (
    Context,
    arguments,
    chat_settings,
    refuse_unless_admin,
    reply,
    services,
    thread_of,
)
from bot.telegram.i18n import t
from bot.telegram.topics import resolve_topics, topic_label

MAX_SUGGESTIONS = 3
MAX_UNKNOWN = 5  # words reported as unknown in one reply; the rest go unmentioned


def topic_names(topics: Iterable[str], taxonomy: Taxonomy, lang: UiLanguage) -> str:
    """'<b>Japan</b>, <b>NGOs</b>' for a reply."""
    return ", ".join(f"<b>{escape(topic_label(taxonomy, topic, lang))}</b>" for topic in topics)


def unknown_lines(unknown: Sequence[tuple[str, Sequence[str]]], lang: UiLanguage) -> list[str]:
    """One line per word that names no topic, with the closest topic ids."""
    lines = []
    for word, suggestions in unknown[:MAX_UNKNOWN]:
        shown = escape(shorten(word))
        if suggestions:
            ids = ", ".join(f"<code>{escape(s)}</code>" for s in suggestions[:MAX_SUGGESTIONS])
            lines.append(t(lang, "error.unknown_topic_suggest", word=shown, suggestions=ids))
        else:
            lines.append(t(lang, "error.unknown_topic", word=shown))
    return lines


async def subscribe_command(update: Update, context: Context) -> None:
    """Follow topics: /subscribe <topic…> [instant|daily|weekly]."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    lang = (await chat_settings(context, chat, update.effective_user)).language
    if await refuse_unless_admin(update, context, lang):
        return
    try:
        request = parse_subscribe(arguments(context))
    except ArgumentError:
        await reply(update, t(lang, "usage.subscribe"))
        return
    taxonomy, store = services(context).taxonomy, services(context).store
    ids, unknown = resolve_topics(request.words, taxonomy)
    thread = thread_of(message)
    before = {s.topic: s.mode for s in await _thread_subs(context, chat.id, thread)}
    user_id = update.effective_user.id if update.effective_user else None
    for topic in ids:
        sub = Subscription(chat.id, topic, request.mode, thread)
        await asyncio.to_thread(store.subscribe, sub, created_by=user_id)
    lines = _subscribe_lines(ids, before, request.mode, taxonomy, lang)
    if ids and thread is not None:
        lines.append(t(lang, "subscribe.thread"))
    await reply(update, "\n".join([*lines, *unknown_lines(unknown, lang)]))


def _subscribe_lines(
    ids: Sequence[str],
    before: Mapping[str, str],
    mode: str,
    taxonomy: Taxonomy,
    lang: UiLanguage,
) -> list[str]:
    """What /subscribe changed, grouped as new, mode changed and already followed."""
    new = [topic for topic in ids if topic not in before]
    moved = [topic for topic in ids if topic in before and before[topic] != mode]
    same = [topic for topic in ids if before.get(topic) == mode]
    mode_text = t(lang, f"mode.{mode}")
    groups = (
        ("subscribe.done", new),
        ("subscribe.mode_changed", moved),
        ("subscribe.already", same),
    )
    return [
        t(lang, key, topics=topic_names(topics, taxonomy, lang), mode=mode_text)
        for key, topics in groups
        if topics
    ]


async def _thread_subs(context: Context, chat_id: int, thread: int | None) -> list[Subscription]:
    store = services(context).store
    return await asyncio.to_thread(store.subscriptions, chat_id, thread_id=thread)


async def unsubscribe_command(update: Update, context: Context) -> None:
    """Stop following topics: /unsubscribe [topic…] (no topic: all of this chat or forum topic)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    lang = (await chat_settings(context, chat, update.effective_user)).language
    if await refuse_unless_admin(update, context, lang):
        return
    store, taxonomy = services(context).store, services(context).taxonomy
    thread = thread_of(message)
    if not context.args:  # only a bare /unsubscribe means everything, never invisible words
        count = await asyncio.to_thread(store.unsubscribe, chat.id, None, thread_id=thread)
        key = "unsubscribe.all" if count else "unsubscribe.nothing"
        await reply(update, t(lang, key, count=count))
        return
    words = topic_words(arguments(context))
    if not words:
        await reply(update, t(lang, "usage.unsubscribe"))
        return
    ids, unknown = resolve_topics(words, taxonomy)
    lines = unknown_lines(unknown, lang)
    if ids:
        removed = await asyncio.to_thread(store.unsubscribe, chat.id, ids, thread_id=thread)
        done = t(lang, "unsubscribe.done", topics=topic_names(ids, taxonomy, lang))
        lines.insert(0, done if removed else t(lang, "unsubscribe.nothing"))
    await reply(update, "\n".join(lines))


async def list_command(update: Update, context: Context) -> None:
    """Show what this chat follows: /list."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = (await chat_settings(context, chat, update.effective_user)).language
    store, taxonomy = services(context).store, services(context).taxonomy
    subs = await asyncio.to_thread(store.subscriptions, chat.id)
    if not subs:
        await reply(update, t(lang, "list.empty"))
        return
    lines = [t(lang, "list.title")]
    last_thread: int | None = None
    for sub in sorted(subs, key=lambda s: (s.thread_id or 0, s.topic)):
        if sub.thread_id is not None and sub.thread_id != last_thread:
            lines.append(t(lang, "list.thread", thread=sub.thread_id))
        last_thread = sub.thread_id
        label = escape(topic_label(taxonomy, sub.topic, lang))
        mode = t(lang, f"mode.{sub.mode}")
        lines.append(t(lang, "list.item", label=label, topic=escape(sub.topic), mode=mode))
    lines.append(t(lang, "list.footer"))
    await reply(update, "\n".join(lines))
