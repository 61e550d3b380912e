"""`duta retag`: re-tag every stored article after a taxonomy change."""

from __future__ import annotations

import argparse

from bot.app import load_tagger, open_store, utcnow
from bot.pipeline import retag_all
from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `retag` subcommand."""
    parser = sub.add_parser("retag", help="re-tag every stored article with the current taxonomy")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Re-tag all articles and say how many."""
    tagger = load_tagger(settings)
    store = open_store(settings)
    try:
        count = retag_all(store, tagger, utcnow)
    finally:
        store.close()
    print(f"re-tagged {count} articles with {settings.taxonomy_path}")
    return 0
