"""Telegram edge, shared by every handler: services, the chat's settings, who may change them.

In: an `Update` and its context. Out: the `Services` from `bot_data`, the chat's stored
`ChatSettings` (created on first contact), the command's visible words, the forum
thread a message belongs to, and replies that are split under Telegram's length limit
(never empty: a command always gets an answer).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from telegram import Chat, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ExtBot

from bot.errors import StoreError
from bot.models import ChatSettings, UiLanguage
from bot.telegram.commands import visible_words
from bot.telegram.i18n import language_for, t
from bot.telegram.services import Services
from bot.telegram.split import split_message

Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
LOG = logging.getLogger("bot.telegram")
_ADMINS = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def services(context: Context) -> Services:
    """The services the application was built with."""
    return cast(Services, context.application.bot_data["services"])


def arguments(context: Context) -> list[str]:
    """The words after the command, invisible characters removed (see `visible_words`)."""
    return visible_words(context.args or [])


def thread_of(message: Message | None) -> int | None:
    """The forum topic a message was written in, or None outside forum topics."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def chat_settings(context: Context, chat: Chat, user: User | None) -> ChatSettings:
    """The chat's stored settings; a new (or returning) chat is stored with the user's language."""
    store = services(context).store
    found = await asyncio.to_thread(store.chat, chat.id)
    if found is not None and found.active:
        return found
    language = language_for(user.language_code if user else None)
    title = chat.title if chat.type != ChatType.PRIVATE else None
    return await asyncio.to_thread(
        store.upsert_chat, chat.id, kind=chat.type, title=title, language=language
    )


async def language(update: Update, context: Context) -> UiLanguage:
    """The language to answer this update in: the chat's, else the user's."""
    chat, user = update.effective_chat, update.effective_user
    fallback = language_for(user.language_code if user else None)
    if chat is None:
        return fallback
    try:
        return (await chat_settings(context, chat, user)).language
    except StoreError as exc:
        # the database is down: still answer (the error handler's apology above all)
        LOG.warning("chat %s: settings unreadable, answering in %s: %s", chat.id, fallback, exc)
        return fallback


async def may_change(update: Update, context: Context) -> bool:
    """True in private chats, and in groups for chat administrators only."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    if update.callback_query is None and message is not None and message.sender_chat:
        # an anonymous administrator writes as the group itself
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        LOG.warning("getChatMember failed chat=%s user=%s: %s", chat.id, user.id, exc)
        return False
    return member.status in _ADMINS


async def refuse_unless_admin(update: Update, context: Context, lang: UiLanguage) -> bool:
    """Reply with a refusal and return True when this user may not change the chat."""
    if await may_change(update, context):
        return False
    await reply(update, t(lang, "error.admins_only"))
    return True


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    """Answer in the message's chat and forum topic, split under Telegram's limit."""
    message = update.effective_message
    if message is None:
        return
    if not text.strip():
        # Telegram refuses an empty message; failing loudly gets the user an apology
        # from the error handler instead of silence
        raise ValueError("a reply with no text")
    parts = split_message(text)
    for index, part in enumerate(parts):
        # a keyboard belongs under the last part only
        extra = kwargs if index == len(parts) - 1 else {}
        await message.reply_text(part, do_quote=False, **extra)
