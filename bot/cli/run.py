"""`duta run [--role all|worker|bot]`: the long-running service."""

from __future__ import annotations

import argparse
import asyncio
import os

from bot.logs import secrets_of, setup_logging
from bot.service import ROLES, RunOptions, serve
from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` subcommand."""
    parser = sub.add_parser(
        "run",
        help="run the service: poll sources continuously, deliver, answer Telegram",
        description=(
            "Run until SIGTERM or SIGINT. Roles: worker polls sources, routes articles, "
            "queues digests and sends the outbox; bot answers Telegram (long polling, or a "
            "webhook when DUTA_WEBHOOK_URL is set); all does both. Several workers need "
            "PostgreSQL; a SQLite file takes one `duta run`."
        ),
    )
    parser.add_argument(
        "--role", choices=ROLES, default="all", help="what this process does (default: all)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run until SIGTERM or SIGINT."""
    options = RunOptions.from_env(os.environ, role=args.role)
    webhook_secret = (options.webhook.secret,) if options.webhook else ()
    setup_logging(
        settings.log_level, settings.log_format, secrets=(*secrets_of(settings), *webhook_secret)
    )
    return asyncio.run(serve(settings, options))
