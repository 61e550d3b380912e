"""`duta digest [--since 24h] [--topic ID]… [--lang id|en|vi]`: a digest of stored articles."""

from __future__ import annotations

import argparse
import html
import re

from bot.app import open_store, utcnow
from bot.delivery import render_digest
from bot.errors import ConfigError
from bot.matching import parse_period
from bot.models import UI_LANGUAGES
from bot.settings import Settings
from bot.taxonomy import load_taxonomy

_TAG = re.compile(r"<[^>]+>")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `digest` subcommand."""
    parser = sub.add_parser("digest", help="print a digest of stored articles")
    parser.add_argument("--since", default="24h", metavar="PERIOD", help="e.g. 24h, 3d, 1w")
    parser.add_argument(
        "--topic", action="append", default=[], metavar="ID", help="only this topic (repeatable)"
    )
    parser.add_argument("--lang", choices=UI_LANGUAGES, default="en", help="labels' language")
    parser.add_argument("--timezone", default="Asia/Ho_Chi_Minh", help="for dates (IANA name)")
    parser.add_argument("--html", action="store_true", help="print Telegram HTML, not plain text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the digest, or say that nothing matched."""
    try:
        period = parse_period(args.since)
    except ValueError as exc:
        raise ConfigError(str(exc), field="--since") from None
    taxonomy = load_taxonomy(settings.taxonomy_path)
    unknown = sorted(set(args.topic) - set(taxonomy.ids()))
    if unknown:
        raise ConfigError(f"unknown topic {', '.join(unknown)}", field="--topic")
    now = utcnow()
    store = open_store(settings)
    try:
        entries = store.digest_entries(since=now - period, topics=args.topic or None)
    finally:
        store.close()
    parts = render_digest(entries, taxonomy, lang=args.lang, timezone=args.timezone, now=now)
    if not parts:
        print(f"nothing stored in the last {args.since}")
        return 0
    text = "\n\n".join(parts)
    print(text if args.html else html.unescape(_TAG.sub("", text)))
    return 0
