"""The `duta` command line: parse arguments, call one function, print.

Each subcommand lives in its own module under `bot.cli` and exposes
`register(subparsers)`, which adds its parser and sets `handler(args, settings) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from bot import __version__
from bot.errors import DutaError
from bot.settings import Settings

SUBCOMMANDS = ("run", "poll", "digest", "sources", "retag", "taxonomy", "tag", "eval", "health")

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="duta",
        description="Watch the news about Vietnam's foreign relations and deliver it to Telegram.",
    )
    parser.add_argument("--version", action="version", version=f"duta {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"bot.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bot.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `duta` command and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args, Settings.from_env())
    except DutaError as exc:
        print(f"duta: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("duta: interrupted", file=sys.stderr)
        return 130
