"""Delivery stages: stored, tagged article → matching subscriptions → outbox; digests.

In: a stored article with its tagging, or the clock (for scheduled digests), or a
period and topics (for on-demand digests). Out: rows in the outbox (rendered,
escaped HTML, one alert per chat per story) or rendered digest parts. The sender
(bot/telegram/sender.py) is the only thing that talks to Telegram.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import matching
from bot.digest import sections
from bot.models import (
    DELIVERY_MODES,
    ChatSettings,
    DigestEntry,
    StoredArticle,
    Subscription,
    Tagging,
    UiLanguage,
)
from bot.store import Store
from bot.taxonomy import Taxonomy
from bot.telegram import render
from bot.telegram.topics import topic_label

DIGEST_WINDOW = timedelta(hours=6)  # a digest missed while down is still sent this long after
Labeler = Callable[[str, UiLanguage], str]


def labeler(taxonomy: Taxonomy) -> Labeler:
    """Readable tag labels in a chat's language."""
    return functools.partial(topic_label, taxonomy)


def route_article(
    store: Store, taxonomy: Taxonomy, article: StoredArticle, tagging: Tagging, now: datetime
) -> int:
    """Queue an alert or a digest item for every subscription the article matches."""
    if not tagging.relevant:
        return 0
    candidates = store.subscriptions_for_topics([tag.id for tag in tagging.tags])
    routed = 0
    for sub in matching.matching_subscriptions(tagging.tags, tagging.relevant, candidates):
        if sub.mode == "instant":
            routed += _queue_alert(store, taxonomy, sub, article, tagging, now)
        else:
            routed += store.add_digest_item(
                chat_id=sub.chat_id,
                thread_id=sub.thread_id,
                mode=sub.mode,
                story_id=article.story_id,
                article_id=article.id,
                now=now,
            )
    return routed


def _queue_alert(
    store: Store,
    taxonomy: Taxonomy,
    sub: Subscription,
    article: StoredArticle,
    tagging: Tagging,
    now: datetime,
) -> int:
    chat = store.chat(sub.chat_id) or ChatSettings(sub.chat_id)
    others = [a.site or "" for a in store.story_articles(article.story_id) if a.id != article.id]
    text = render.alert(
        article,
        tagging.tags,
        also_in=[site for site in others if site],
        lang=chat.language,
        tz=ZoneInfo(chat.timezone),
        labels=labeler(taxonomy),
    )
    queued = store.enqueue_alert(
        chat_id=sub.chat_id,
        thread_id=sub.thread_id,
        story_id=article.story_id,
        article_id=article.id,
        text=text,
        preview_url=article.url,
        not_before=matching.quiet_until(chat, now) or now,
        now=now,
    )
    return int(queued is not None)


def render_digest(
    entries: Sequence[DigestEntry],
    taxonomy: Taxonomy,
    *,
    lang: UiLanguage,
    timezone: str,
    now: datetime,
) -> list[str]:
    """Digest parts (each under Telegram's limit) for `entries`; [] when there are none."""
    zone = ZoneInfo(timezone)
    return render.digest(
        sections(entries, now=now),
        title=render.digest_title(lang, now.astimezone(zone).date()),
        lang=lang,
        tz=zone,
        labels=labeler(taxonomy),
    )


def queue_due_digests(store: Store, taxonomy: Taxonomy, now: datetime) -> int:
    """Queue every daily/weekly digest whose local time has come; idempotent per day."""
    queued = 0
    seen: set[tuple[int, int | None, str]] = set()
    for sub in store.digest_subscriptions():
        key = (sub.chat_id, sub.thread_id, sub.mode)
        if key in seen or sub.mode not in DELIVERY_MODES[1:]:
            continue
        seen.add(key)
        chat = store.chat(sub.chat_id)
        if chat is None or not chat.active:
            continue
        due_at = matching.next_digest_at(chat, sub.mode, now - DIGEST_WINDOW)
        if due_at > now:
            continue
        queued += _queue_digest(store, taxonomy, chat, sub, due_at, now)
    return queued


def _queue_digest(
    store: Store,
    taxonomy: Taxonomy,
    chat: ChatSettings,
    sub: Subscription,
    due_at: datetime,
    now: datetime,
) -> int:
    entries = store.due_digest_items(sub.chat_id, sub.thread_id, sub.mode)
    if not entries:
        return 0
    parts = render_digest(entries, taxonomy, lang=chat.language, timezone=chat.timezone, now=now)
    local_day = due_at.astimezone(ZoneInfo(chat.timezone)).date().isoformat()
    key = f"digest:{sub.chat_id}:{sub.thread_id or 0}:{sub.mode}:{local_day}"
    ids = store.enqueue_digest(
        chat_id=sub.chat_id,
        thread_id=sub.thread_id,
        mode=sub.mode,
        key=key,
        parts=parts,
        item_ids=[entry.article.id for entry in entries],
        now=now,
    )
    return len(ids)
