"""`duta sources list|check`: what is watched, and whether each source works."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.app import open_store, utcnow
from bot.config import load_sources
from bot.discover import discover, parse_feed
from bot.errors import FetchError, ParseError
from bot.fetch import Fetcher
from bot.models import Source, SourceState
from bot.schedule import is_failing
from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `sources` subcommand group."""
    parser = sub.add_parser("sources", help="list and probe the watched sources")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="configured sources and their polling state")
    listing.set_defaults(handler=list_sources)
    check = actions.add_parser("check", help="fetch each source once and say whether it works")
    check.add_argument("names", nargs="*", metavar="NAME", help="only these sources")
    check.add_argument("--disabled", action="store_true", help="probe disabled sources too")
    check.set_defaults(handler=check_sources)


def list_sources(args: argparse.Namespace, settings: Settings) -> int:
    """Print every configured source with its state from the store."""
    sources = load_sources(settings.sources_path)
    store = open_store(settings)
    try:
        store.sync_sources(sources)
        states = store.source_states()
    finally:
        store.close()
    now = utcnow()
    width = max((len(s.name) for s in sources), default=4)
    print(f"{'NAME':<{width}}  {'KIND':<7}  LANG  {'EVERY':>6}  STATE")
    for source in sources:
        state = states.get(source.name, SourceState(source.name))
        every = f"{source.poll_interval_s // 60}m"
        print(
            f"{source.name:<{width}}  {source.kind:<7}  {source.language:<4}  {every:>6}  "
            f"{_state(source, state, now, settings)}"
        )
    return 0


def _state(source: Source, state: SourceState, now: datetime, settings: Settings) -> str:
    if not source.enabled:
        return "disabled"
    if is_failing(state, now, settings.failing_after_s):
        return f"FAILING since {state.failing_since:%Y-%m-%d %H:%M}: {state.last_error}"
    if state.consecutive_errors:
        return f"error x{state.consecutive_errors}: {state.last_error}"
    if state.next_check_at is None:
        return "never polled"
    if state.next_check_at <= now:
        return "due now"
    return f"ok, next check in {_ago(state.next_check_at - now)}"


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60}m" if seconds >= 60 else f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Probe:
    """What one source check found."""

    source: str
    ok: bool
    detail: str


def check_sources(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch each chosen source once (no state is written) and report."""
    sources = load_sources(settings.sources_path)
    if args.names:
        chosen = [s for s in sources if s.name in args.names]
    else:
        chosen = [s for s in sources if s.enabled or args.disabled]
    unknown = set(args.names) - {s.name for s in sources}
    if unknown:
        print(f"unknown source(s): {', '.join(sorted(unknown))}")
        return 2
    probes = asyncio.run(_probe_all(settings, chosen))
    width = max((len(p.source) for p in probes), default=4)
    for probe in probes:
        print(f"{probe.source:<{width}}  {'ok  ' if probe.ok else 'FAIL'}  {probe.detail}")
    failed = sum(not p.ok for p in probes)
    print(f"{len(probes) - failed} of {len(probes)} sources work")
    return 1 if failed else 0


async def _probe_all(settings: Settings, sources: list[Source]) -> list[Probe]:
    async with Fetcher(settings.fetch) as fetcher:
        return list(await asyncio.gather(*(_probe(fetcher, s) for s in sources)))


async def _probe(fetcher: Fetcher, source: Source) -> Probe:
    try:
        response = await fetcher.get(source.url, robots=source.kind in ("listing", "auto"))
        found = discover(source, response, now=utcnow())
        if found.feed_url:
            feed = await fetcher.get(found.feed_url)
            items = parse_feed(source, feed, now=utcnow()).items
            return Probe(source.name, True, f"page advertises {found.feed_url}: {len(items)} items")
        if found.children:
            return Probe(
                source.name, True, f"sitemap index, {len(found.children)} recent child sitemaps"
            )
        kind = response.content_type or "unknown type"
        return Probe(
            source.name, bool(found.items), f"{source.kind} ({kind}): {len(found.items)} items"
        )
    except (FetchError, ParseError) as exc:
        return Probe(source.name, False, exc.reason)
