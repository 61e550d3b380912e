"""Discovery of RSS and Atom feeds: a fetched feed Response -> FeedItems.

feedparser reads the bytes (it never fetches anything itself); entries are mapped
to FeedItems with absolute links, UTC dates and plain-text summaries. A feed whose DTD
declares external or self-expanding entities is refused before it is parsed: those
are attacks, never news.
"""

from __future__ import annotations

import io
import xml.sax
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import feedparser

from bot.discover import sniff
from bot.discover.values import (
    absolute_http_url,
    clean_text,
    from_struct_time,
    language_code,
    not_future,
    plain_text,
)
from bot.errors import ParseError
from bot.models import Discovery, FeedItem, Response, Source

# feedparser flags these even on a well-formed feed; they say nothing about the XML.
_BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def parse_feed(source: Source, response: Response, *, now: datetime) -> Discovery:
    """Read an RSS or Atom feed into FeedItems in document order."""
    if not response.content.strip():
        raise ParseError(response.url, "expected a feed but got an empty response")
    danger = sniff.entity_problem(response.content)
    if danger is not None:
        raise ParseError(response.url, f"refused: the feed declares {danger}")
    headers = {**response.headers, "content-location": response.url}
    # A file object, never bytes or str: feedparser treats strings as paths or URLs.
    parsed = feedparser.parse(io.BytesIO(response.content), response_headers=headers)
    entries: list[Mapping[str, Any]] = list(parsed.entries)
    feed: Mapping[str, Any] = parsed.feed
    language = language_code(feed.get("language"))
    items = tuple(_items(source, response.url, entries, language, now))
    if not items:  # nothing usable: say why, unless it is a valid, empty feed
        _check_empty(response, parsed)
    return Discovery(items=items, title=_text(feed, "title"))


def _check_empty(response: Response, parsed: Mapping[str, Any]) -> None:
    """Raise unless a feed without entries is a valid, empty feed."""
    root = sniff.root_name(response.content)
    if sniff.is_html(response) and root not in sniff.FEED_ROOTS:
        raise ParseError(response.url, "expected a feed but got an HTML page")
    problem = parsed.get("bozo_exception")
    if root is not None and parsed.get("bozo") and not isinstance(problem, _BENIGN_BOZO):
        raise ParseError(response.url, f"malformed XML: {_describe(problem)}")
    if root is None or not parsed.get("version"):
        raise ParseError(
            response.url, f"expected an RSS or Atom feed but got {sniff.describe(response)}"
        )


def _describe(problem: object) -> str:
    """feedparser's complaint without the '<unknown>:' prefix of SAX messages."""
    if isinstance(problem, xml.sax.SAXParseException):
        where = f"line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
        return f"{problem.getMessage()} at {where}"
    return str(problem) or type(problem).__name__


def _items(
    source: Source,
    base: str,
    entries: list[Mapping[str, Any]],
    language: str | None,
    now: datetime,
) -> Iterator[FeedItem]:
    """FeedItems for entries with a usable link; repeated links or GUIDs keep the first."""
    seen: set[str] = set()
    for entry in entries:
        url = absolute_http_url(base, entry.get("link"))
        guid = clean_text(entry.get("id"))
        if url is None or url in seen or (guid is not None and guid in seen):
            continue
        seen.add(url)
        if guid is not None:
            seen.add(guid)
        yield FeedItem(
            url=url,
            source=source.name,
            title=_text(entry, "title"),
            published_at=_published(entry, now),
            summary=_text(entry, "summary"),
            guid=guid,
            language=language,
        )


def _published(entry: Mapping[str, Any], now: datetime) -> datetime | None:
    """The entry's publication (or else update) time, unless implausibly in the future."""
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return not_future(from_struct_time(parsed), now)


def _text(mapping: Mapping[str, Any], key: str) -> str | None:
    """A feedparser text construct as plain text, whatever markup it was given in."""
    value = mapping.get(key)
    if not isinstance(value, str):
        return None
    detail: Mapping[str, Any] = mapping.get(f"{key}_detail") or {}
    if detail.get("type") in ("text/html", "application/xhtml+xml"):
        return plain_text(value)
    return clean_text(value)
