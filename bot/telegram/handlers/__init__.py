"""Telegram edge: the command and button handlers, and where they are registered.

In: a built `Application`. Out: the same application with every handler added — one
`CommandHandler` per command, the inline-button handler, the group → supergroup
migration, and a last catch-all that answers unknown commands with a pointer to /help.
Edited messages are ignored: a command runs once, when it is sent.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.telegram.handlers.admin import migrate_handler, status_command, unknown_command
from bot.telegram.handlers.info import (
    digest_command,
    help_command,
    sources_command,
    start_command,
    why_command,
)
from bot.telegram.handlers.settings import settings_command
from bot.telegram.handlers.subscriptions import (
    list_command,
    subscribe_command,
    unsubscribe_command,
)
from bot.telegram.handlers.topics_ui import topics_callback, topics_command

HANDLERS = {
    "start": start_command,
    "help": help_command,
    "topics": topics_command,
    "subscribe": subscribe_command,
    "unsubscribe": unsubscribe_command,
    "list": list_command,
    "digest": digest_command,
    "why": why_command,
    "settings": settings_command,
    "sources": sources_command,
    "status": status_command,
}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler to `application`, the catch-all for unknown commands last."""
    new_messages = filters.UpdateType.MESSAGE
    for name, callback in HANDLERS.items():
        application.add_handler(CommandHandler(name, callback, filters=new_messages))
    application.add_handler(CallbackQueryHandler(topics_callback))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, migrate_handler))
    application.add_handler(MessageHandler(filters.COMMAND & new_messages, unknown_command))
