"""The Bot API emulator as python-telegram-bot 22 sees it: a real Application long-polling it.

The handlers here are throwaway echoes; the product's handlers have their own tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.emulator import (
    Chat,
    Emulator,
    EmulatorError,
    User,
    emulator_fixture,  # noqa: F401  (the `emulator` fixture)
    emulator_server_fixture,  # noqa: F401  (the `emulator_server` fixture)
)

pytestmark = pytest.mark.timeout(20)

ANH = User(1001, "Anh", language_code="vi", username="anh")
SARI = User(1002, "Sari", language_code="id")
GROUP = Chat.group(4001, "ASEAN watchers")
FORUM = Chat.supergroup(1_000_000_4002, "Newsroom", forum=True)

AnyApp = Application[Any, Any, Any, Any, Any, Any]


def make_bot(emulator: Emulator) -> Bot:
    """A bare python-telegram-bot Bot pointed at the emulator."""
    return Bot(emulator.token, base_url=emulator.base_url)


@asynccontextmanager
async def polling(
    emulator: Emulator, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[AnyApp]:
    """A real Application long-polling the emulator; fails the test if a handler raised."""
    app = Application.builder().token(emulator.token).base_url(emulator.base_url).build()
    app.add_handlers(handlers)
    errors: list[object] = []

    async def record(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app.add_error_handler(record)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=timedelta(seconds=5))
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
    assert errors == []


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with who wrote what where."""
    message = update.effective_message
    assert message is not None and message.from_user is not None
    where = message.chat.title or message.chat.type
    await message.reply_text(
        f"{message.from_user.first_name} ({message.from_user.language_code}) "
        f"in {where}: {message.text}"
    )


async def menu(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with one inline button."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ping", callback_data="ping:1")]])
    await update.effective_message.reply_text(
        "<b>Menu</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button and replace the menu."""
    query = update.callback_query
    assert query is not None
    await query.answer(f"got {query.data}")
    await query.edit_message_text(f"You pressed {query.data}")


async def test_get_me_is_a_complete_bot_user(emulator: Emulator) -> None:
    async with make_bot(emulator) as bot:
        me = await bot.get_me()
    assert me.is_bot
    assert me.id == emulator.bot_id == int(emulator.token.split(":")[0])
    assert me.username == emulator.bot_username


async def test_start_command_reaches_the_handler_and_the_reply_reaches_the_chat(
    emulator: Emulator,
) -> None:
    chat = Chat.private(ANH)
    async with polling(emulator, CommandHandler("start", echo)):
        emulator.send_command(chat, ANH, "/start hello")
        [reply] = await emulator.wait_for_bot_messages(chat.id, 1)
    assert reply["text"] == "Anh (vi) in private: /start hello"
    assert reply["chat"] == {
        "id": ANH.id,
        "type": "private",
        "first_name": "Anh",
        "username": "anh",
    }
    assert reply["from"]["id"] == emulator.bot_id
    assert abs(reply["date"] - time.time()) < 60  # seconds, not milliseconds


async def test_group_message_is_answered_in_the_group_only(emulator: Emulator) -> None:
    handler = MessageHandler(filters.TEXT & ~filters.COMMAND, echo)
    async with polling(emulator, handler):
        emulator.send_message(GROUP, SARI, "any news on the South China Sea?")
        [reply] = await emulator.wait_for_bot_messages(GROUP.id, 1)
    assert reply["text"] == "Sari (id) in ASEAN watchers: any news on the South China Sea?"
    assert reply["chat"]["type"] == "group"
    assert reply["chat"]["title"] == "ASEAN watchers"
    # python-telegram-bot quotes in groups; the quoted message is the user's
    assert reply["reply_to_message"]["from"]["id"] == SARI.id
    assert emulator.bot_messages(SARI.id) == []


async def test_forum_topic_reply_stays_in_its_thread(emulator: Emulator) -> None:
    async with polling(emulator, CommandHandler("start", echo)):
        emulator.send_command(FORUM, ANH, "/start", thread_id=7)
        [reply] = await emulator.wait_for_bot_messages(FORUM.id, 1)
    assert reply["message_thread_id"] == 7
    assert reply["is_topic_message"] is True


async def test_callback_query_round_trip(emulator: Emulator) -> None:
    chat = Chat.private(SARI)
    async with polling(emulator, CommandHandler("menu", menu), CallbackQueryHandler(pressed)):
        emulator.send_command(chat, SARI, "/menu")
        [shown] = await emulator.wait_for_bot_messages(chat.id, 1)
        assert shown["text"] == "Menu"  # the user sees parsed HTML
        assert shown["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
        [[button]] = shown["reply_markup"]["inline_keyboard"]
        update = emulator.send_callback(chat, SARI, shown["message_id"], button["callback_data"])
        [answer] = await emulator.wait_for_callback_answers(1)
        for _ in range(100):
            [edited] = emulator.bot_messages(chat.id)
            if "edit_date" in edited:
                break
            await asyncio.sleep(0.05)
    assert answer["callback_query_id"] == update["callback_query"]["id"]
    assert answer["text"] == "got ping:1"
    assert edited["text"] == "You pressed ping:1"
    assert "reply_markup" not in edited  # an edit without a keyboard removes it, as in Telegram


async def test_set_my_commands_per_language_and_scope(emulator: Emulator) -> None:
    commands = [BotCommand("start", "Mulai"), BotCommand("topics", "Daftar topik")]
    async with polling(emulator) as app:
        assert await app.bot.set_my_commands(commands, language_code="id")
        assert await app.bot.set_my_commands(commands[:1], scope=BotCommandScopeAllGroupChats())
        assert await app.bot.get_my_commands(language_code="id") == tuple(commands)
        assert await app.bot.get_my_commands(language_code="vi") == ()
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await app.bot.set_my_commands([BotCommand("Start", "capital letters")])
    registered = {(c["scope"]["type"], c["language_code"]) for c in emulator.bot_commands()}
    assert registered == {("default", "id"), ("all_group_chats", "")}


async def test_chat_member_status_for_admin_checks(emulator: Emulator) -> None:
    emulator.set_member(GROUP, ANH, "administrator")
    emulator.set_member(GROUP, SARI, "member")
    owner = User(1003, "Minh")
    emulator.set_member(GROUP, owner, "creator")
    async with make_bot(emulator) as bot:
        admin = await bot.get_chat_member(GROUP.id, ANH.id)
        member = await bot.get_chat_member(GROUP.id, SARI.id)
        creator = await bot.get_chat_member(GROUP.id, owner.id)
        admins = await bot.get_chat_administrators(GROUP.id)
    assert isinstance(admin, ChatMemberAdministrator) and admin.user.first_name == "Anh"
    assert isinstance(member, ChatMemberMember)
    assert isinstance(creator, ChatMemberOwner)
    assert {m.user.id for m in admins} == {ANH.id, owner.id}


async def test_html_is_checked_and_measured_like_telegram(emulator: Emulator) -> None:
    chat = Chat.private(ANH)
    emulator.add_chat(chat)
    async with make_bot(emulator) as bot:
        with pytest.raises(BadRequest, match='unsupported start tag "br" at byte offset 4'):
            await bot.send_message(chat.id, "Hà <br> Nội", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="can't find end tag"):
            await bot.send_message(chat.id, "<b>unclosed", parse_mode=ParseMode.HTML)
        # 4096 characters once the tags are gone is fine; one more is too long
        fits = await bot.send_message(chat.id, f"<i>{'x' * 4096}</i>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(chat.id, "y" * 4097)
        sent = await bot.send_message(
            chat.id, '<a href="https://x.vn/?a=1&amp;b=2">Q&amp;A</a>', parse_mode=ParseMode.HTML
        )
    assert fits.text is not None and len(fits.text) == 4096
    assert sent.text == "Q&A"
    assert sent.entities[0].url == "https://x.vn/?a=1&b=2"
    assert [m["text"] for m in emulator.bot_messages(chat.id)] == [fits.text, "Q&A"]
    assert emulator.bot_messages(chat.id)[1]["sent"]["parse_mode"] == "HTML"


async def test_undeliverable_chats_answer_like_telegram(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 warns about RetryAfter.retry_after as int unless opted in to timedelta
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    blocked, flooded = Chat.private(ANH), Chat.private(SARI)
    for chat in (blocked, flooded, GROUP):
        emulator.add_chat(chat)
    emulator.block(blocked)
    emulator.flood(flooded, 30)
    supergroup = emulator.migrate(GROUP, -100_4001)
    async with make_bot(emulator) as bot:
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_message(blocked.id, "hi")
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(flooded.id, "hi")
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(GROUP.id, "hi")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "hi")
        moved = await bot.send_message(supergroup.id, "hi")
    retry_after = flood.value.retry_after
    assert isinstance(retry_after, timedelta)
    assert timedelta(seconds=25) <= retry_after <= timedelta(seconds=30)
    assert migrated.value.new_chat_id == supergroup.id
    assert moved.chat.type == "supergroup"


async def test_get_updates_long_polls_and_confirms_by_offset(emulator: Emulator) -> None:
    chat = Chat.private(ANH)
    async with make_bot(emulator) as bot:
        waiting = asyncio.create_task(bot.get_updates(timeout=timedelta(seconds=5)))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        emulator.send_message(chat, ANH, "first")
        [update] = await waiting
        assert time.monotonic() - started < 1.0  # answered on arrival, not at the timeout
        again = await bot.get_updates(timeout=timedelta(0))
        confirmed = await bot.get_updates(offset=update.update_id + 1, timeout=timedelta(0))
    assert update.message is not None and update.message.text == "first"
    assert [u.update_id for u in again] == [update.update_id]  # not confirmed yet
    assert confirmed == ()


async def test_edits_and_replies_need_a_real_message(emulator: Emulator) -> None:
    chat = Chat.private(SARI)
    emulator.add_chat(chat)
    async with make_bot(emulator) as bot:
        sent = await bot.send_message(chat.id, "same")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("same", chat_id=chat.id, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("x", chat_id=chat.id, message_id=sent.message_id + 99)
        with pytest.raises(BadRequest, match="Message to be replied not found"):
            await bot.send_message(chat.id, "re", reply_to_message_id=sent.message_id + 99)
        reply = await bot.send_message(chat.id, "re", reply_to_message_id=sent.message_id)
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "same"


def test_callback_needs_a_message_the_bot_sent(emulator: Emulator) -> None:
    chat = Chat.private(ANH)
    emulator.add_chat(chat)
    with pytest.raises(EmulatorError, match="sent no message 42"):
        emulator.send_callback(chat, ANH, 42, "ping")
