"""Telegram edge: /status for Duta's administrators, group migrations, unknown commands.

In: /status from a chat in DUTA_ADMIN_CHAT_IDS; a service message saying a group became
a supergroup; any other command. Out: queue sizes, source health and the last poll
cycle; the chat's settings and subscriptions moved to the new id; a short usage hint.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import Update
from telegram.constants import ChatType

from bot.store import is_failing
from bot.telegram.handlers.common import LOG, Context, language, reply, services
from bot.telegram.i18n import t, t_html


async def status_command(update: Update, context: Context) -> None:
    """Queue sizes, source health and the last cycle: /status (admin chats only)."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = await language(update, context)
    svc = services(context)
    if not svc.is_admin_chat(chat.id):
        await reply(update, t(lang, "error.admin_chats_only"))
        return
    counts = await asyncio.to_thread(svc.store.outbox_counts)
    states = await asyncio.to_thread(svc.store.source_states)
    now = svc.clock()
    after = timedelta(seconds=svc.settings.failing_after_s)
    failing = sum(1 for state in states.values() if is_failing(state, now, after))
    cycle = svc.last_cycle
    if cycle.finished_at is None:
        cycle_text = t(lang, "status.no_cycle")
    else:
        cycle_text = t_html(
            lang,
            "status.cycle",
            finished=cycle.finished_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            new=cycle.new_articles,
            failed=cycle.failed,
            sources=cycle.sources,
            elapsed=f"{cycle.elapsed_s:.1f}",
        )
    text = t_html(
        lang,
        "status.text",
        pending=counts.get("pending", 0),
        held=counts.get("held", 0),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        sources=len(states),
        failing=failing,
        cycle=cycle_text,
    )
    await reply(update, text)


async def migrate_handler(update: Update, context: Context) -> None:
    """A group became a supergroup: move its settings and subscriptions to the new id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    old, new = message.chat.id, message.migrate_to_chat_id
    store = services(context).store
    if await asyncio.to_thread(store.chat, old) is None:
        return  # the group never used Duta: nothing to move
    await asyncio.to_thread(store.migrate_chat, old, new)
    LOG.info("chat %s migrated to %s", old, new)


def _addressed_elsewhere(update: Update, context: Context) -> bool:
    """True for `/cmd@OtherBot`, and for bare commands in groups (other bots' business)."""
    message = update.effective_message
    if message is None or not message.text:
        return True
    command = message.text.split(maxsplit=1)[0]
    _, _, bot = command.partition("@")
    if bot:
        return bot.lower() != (context.bot.username or "").lower()
    return message.chat.type != ChatType.PRIVATE


async def unknown_command(update: Update, context: Context) -> None:
    """Any other command: a short pointer to /help."""
    if _addressed_elsewhere(update, context):
        return
    lang = await language(update, context)
    await reply(update, t(lang, "error.unknown_command"))
