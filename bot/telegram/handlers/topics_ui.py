"""Telegram edge: /topics and the inline buttons to browse facets and toggle topics.

In: /topics, and button presses whose callback data `commands.decode_callback`
validates against the taxonomy. Out: keyboards (✓ on followed topics) and instant
subscriptions made or removed. Forged or stale button data is answered with a short
notice and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.models import Subscription, UiLanguage
from bot.taxonomy import FACETS, Taxonomy
from bot.telegram.commands import QUICK_VIEW, Callback, decode_callback, encode_callback, page_of
from bot.telegram.handlers.common import (
    Context,
    chat_settings,
    language,
    may_change,
    reply,
    services,
    thread_of,
)
from bot.telegram.i18n import t, t_html
from bot.telegram.topics import FACET_EMOJI, facet_name, facet_topics, topic_label

PAGE_SIZE = 16  # topic buttons per page, two per row
QUICK_PICKS = (
    "theme/people-to-people",
    "theme/local-cooperation",
    "theme/ngo",
    "theme/science-technology",
    "theme/digital-diplomacy",
    "theme/culture",
)


def _button(text: str, callback: Callback) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode_callback(callback))


def _topic_button(
    taxonomy: Taxonomy, topic: str, followed: Collection[str], view: str, lang: UiLanguage
) -> InlineKeyboardButton:
    label = topic_label(taxonomy, topic, lang)
    if topic in followed:
        return _button(
            t(lang, "button.topic_on", label=label), Callback("unsubscribe", topic, view)
        )
    return _button(t(lang, "button.topic", label=label), Callback("subscribe", topic, view))


def _rows(
    buttons: Sequence[InlineKeyboardButton], width: int = 2
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def facets_keyboard(lang: UiLanguage) -> InlineKeyboardMarkup:
    """One button per facet."""
    buttons = [
        _button(
            f"{FACET_EMOJI.get(facet, '')} {facet_name(facet, lang)}".strip(),
            Callback("facet", facet),
        )
        for facet in FACETS
    ]
    return InlineKeyboardMarkup(_rows(buttons))


def facet_keyboard(
    taxonomy: Taxonomy, facet: str, page: int, followed: Collection[str], lang: UiLanguage
) -> InlineKeyboardMarkup:
    """The topics of one facet, a page at a time, with paging and a way back."""
    topics = facet_topics(taxonomy, facet)
    pages = max(1, -(-len(topics) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = topics[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = _rows([_topic_button(taxonomy, topic, followed, str(page), lang) for topic in shown])
    nav = [_button(t(lang, "button.back"), Callback("home"))]
    if page > 0:
        nav.insert(0, _button(t(lang, "button.prev"), Callback("facet", facet, str(page - 1))))
    if page < pages - 1:
        nav.append(_button(t(lang, "button.next"), Callback("facet", facet, str(page + 1))))
    return InlineKeyboardMarkup([*rows, nav])


def quick_keyboard(
    taxonomy: Taxonomy, followed: Collection[str], lang: UiLanguage
) -> InlineKeyboardMarkup:
    """The /start quick picks, then a button to browse everything."""
    known = set(taxonomy.ids())
    picks = [topic for topic in QUICK_PICKS if topic in known]
    rows = _rows([_topic_button(taxonomy, topic, followed, QUICK_VIEW, lang) for topic in picks])
    return InlineKeyboardMarkup([*rows, [_button(t(lang, "button.all_topics"), Callback("home"))]])


async def followed_topics(context: Context, chat_id: int, thread_id: int | None) -> set[str]:
    """The topics this chat (and forum topic) follows, in any mode."""
    store = services(context).store
    subs = await asyncio.to_thread(store.subscriptions, chat_id, thread_id=thread_id)
    return {sub.topic for sub in subs}


async def topics_command(update: Update, context: Context) -> None:
    """Browse the facets: /topics."""
    lang = await language(update, context)
    await reply(update, t(lang, "topics.title"), reply_markup=facets_keyboard(lang))


async def topics_callback(update: Update, context: Context) -> None:
    """A button press: browse a facet, or follow / stop following one topic."""
    query = update.callback_query
    if query is None:
        return
    lang = await language(update, context)
    known = set(services(context).taxonomy.ids())
    callback = decode_callback(query.data, facets=FACETS, topics=known.__contains__)
    message = query.message if isinstance(query.message, Message) else None
    if callback is None or message is None:
        # forged, stale or from a message too old to edit: say so, change nothing
        await query.answer(t(lang, "error.button_expired"))
        return
    notice = None
    if callback.action in ("subscribe", "unsubscribe"):
        if not await may_change(update, context):
            await query.answer(t(lang, "error.admins_only"), show_alert=True)
            return
        notice = await _toggle(update, context, message, callback, lang)
    await query.answer(notice)
    await _redraw(context, message, callback, lang)


async def _toggle(
    update: Update, context: Context, message: Message, callback: Callback, lang: UiLanguage
) -> str:
    """Apply a follow / stop-following button; the notice to show."""
    await chat_settings(context, message.chat, update.effective_user)
    svc = services(context)
    thread = thread_of(message)
    label = topic_label(svc.taxonomy, callback.target, lang)
    if callback.action == "subscribe":
        user = update.effective_user
        sub = Subscription(message.chat.id, callback.target, "instant", thread)
        await asyncio.to_thread(svc.store.subscribe, sub, created_by=user.id if user else None)
        return t(lang, "toggle.on", topic=label)
    topics = [callback.target]
    await asyncio.to_thread(svc.store.unsubscribe, message.chat.id, topics, thread_id=thread)
    return t(lang, "toggle.off", topic=label)


async def _redraw(context: Context, message: Message, callback: Callback, lang: UiLanguage) -> None:
    """Show what the press asked for, with ✓ as the store now has them."""
    taxonomy = services(context).taxonomy
    try:
        if callback.action == "home":
            await message.edit_text(t(lang, "topics.title"), reply_markup=facets_keyboard(lang))
            return
        followed = await followed_topics(context, message.chat.id, thread_of(message))
        if callback.view == QUICK_VIEW:
            await message.edit_reply_markup(quick_keyboard(taxonomy, followed, lang))
            return
        facet = callback.target.split("/", 1)[0]
        markup = facet_keyboard(taxonomy, facet, page_of(callback.view), followed, lang)
        if callback.action == "facet":
            text = t_html(lang, "topics.facet", facet=facet_name(facet, lang))
            await message.edit_text(text, reply_markup=markup)
        else:
            await message.edit_reply_markup(markup)
    except BadRequest as exc:
        # pressing a button that changes nothing is not an error
        if "not modified" not in str(exc).lower():
            raise
