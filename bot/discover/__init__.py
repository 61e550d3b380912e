"""Stage: discover. A fetched source document -> the article links it lists.

Pure: takes a `Response` and its `Source`, returns a `Discovery` (items, child
sitemaps to fetch, or the feed an `auto` page advertises). No I/O; anything
unreadable raises `ParseError(url, reason)`.

    rss / atom  -> bot.discover.feeds     (feedparser)
    sitemap     -> bot.discover.sitemaps  (lxml, safe parser)
    listing     -> bot.discover.listing   (lxml.html, selector / pattern / heuristic)
    auto        -> a feed, a sitemap, or the page's advertised feed URL
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.dedup import canonical_url
from bot.discover import sniff
from bot.discover.feeds import parse_feed
from bot.discover.links import is_article_url
from bot.discover.listing import find_feed_link, parse_listing
from bot.discover.selection import select_items
from bot.discover.sitemaps import parse_sitemap
from bot.errors import ParseError
from bot.models import Discovery, Response, Source

__all__ = [
    "discover",
    "find_feed_link",
    "is_article_url",
    "parse_feed",
    "parse_listing",
    "parse_sitemap",
    "select_items",
]


def discover(source: Source, response: Response, *, now: datetime) -> Discovery:
    """Read `response` as the source's kind says, keeping the items `select_items` picks."""
    if source.kind == "sitemap":
        found = parse_sitemap(source, response, now=now)
    elif source.kind == "listing":
        found = parse_listing(source, response)
    elif source.kind == "auto":
        found = _discover_auto(source, response, now=now)
    else:
        found = parse_feed(source, response, now=now)
    # canonical URLs are computed here, in the worker, not on the poll's event loop
    items = tuple(
        replace(item, canonical_url=canonical_url(item.url))
        for item in select_items(source, found.items)
    )
    return replace(found, items=items)


def _discover_auto(source: Source, response: Response, *, now: datetime) -> Discovery:
    """A feed is read; a sitemap is read; an HTML page yields the feed it advertises."""
    root = sniff.root_name(response.content)
    if root != "html" and sniff.is_feed(response):
        return parse_feed(source, response, now=now)
    if sniff.is_gzip(response.content) or root in sniff.SITEMAP_ROOTS:
        return parse_sitemap(source, response, now=now)
    if not sniff.is_html(response):
        found = sniff.describe(response)
        raise ParseError(response.url, f"expected a feed or an HTML page but got {found}")
    feed_url = find_feed_link(response)
    if feed_url is None or feed_url == response.url:
        raise ParseError(response.url, "no feed advertised on this page")
    return Discovery(feed_url=feed_url)
