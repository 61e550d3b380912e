"""Discovery of RSS and Atom feeds: a fetched feed Response -> FeedItems.

Two readers, neither of which fetches anything itself. fastfeedparser (lxml and a
native core) reads a well-formed UTF-8 feed about thirty times faster than feedparser,
which matters when hundreds of feeds change in one cycle. Everything else (another
charset, broken XML, no entries) goes to feedparser, which is lenient where feeds are
sloppy and explains what is wrong when nothing can be read. Entries are mapped to
FeedItems with absolute links, UTC dates and plain-text summaries. A feed whose DTD
declares external or self-expanding entities is refused before either parser sees it:
those are attacks, never news.
"""

from __future__ import annotations

import io
import re
import xml.sax
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import fastfeedparser
import feedparser
from lxml import etree

from bot.discover import sniff
from bot.discover.values import (
    absolute_http_url,
    clean_text,
    from_struct_time,
    language_code,
    not_future,
    parse_w3c_datetime,
    plain_text,
)
from bot.errors import ParseError
from bot.models import Discovery, FeedItem, Response, Source

# feedparser flags these even on a well-formed feed; they say nothing about the XML.
_BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
# An RSS channel's <language>, which fastfeedparser leaves out (it reads xml:lang only).
_RSS_LANGUAGE = re.compile(rb"<language>\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)\s*</language>")
_HEAD_BYTES = 16_384  # where a channel's own elements are looked for
_TAG = re.compile(r"<[A-Za-z/][^>]*>")
# Checks well-formedness only: no DTD, no entities, no network, default size limits.
_WELL_FORMED = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def parse_feed(source: Source, response: Response, *, now: datetime) -> Discovery:
    """Read an RSS or Atom feed into FeedItems in document order."""
    if not response.content.strip():
        raise ParseError(response.url, "expected a feed but got an empty response")
    danger = sniff.entity_problem(response.content)
    if danger is not None:
        raise ParseError(response.url, f"refused: the feed declares {danger}")
    fast = _fast_parse(source, response, now)
    if fast is not None:
        return fast
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


def _fast_parse(source: Source, response: Response, now: datetime) -> Discovery | None:
    """The feed read by fastfeedparser, or None when feedparser should read it instead."""
    try:
        response.content.decode("utf-8")  # other charsets: feedparser's detection
        # broken XML goes to feedparser, whose recovery loses less (a bare '&' stays)
        etree.fromstring(response.content, _WELL_FORMED)
        parsed = fastfeedparser.parse(
            response.content, include_tags=False, include_media=False, include_enclosures=False
        )
    except (ValueError, etree.LxmlError):
        return None
    entries: list[Mapping[str, Any]] = list(parsed.get("entries") or ())
    if not entries:  # feedparser tells an empty feed from a broken one
        return None
    feed: Mapping[str, Any] = parsed.get("feed") or {}
    language = language_code(feed.get("language")) or _rss_language(response.content)
    items = tuple(_fast_items(source, response.url, entries, language, now))
    if not items:
        return None
    return Discovery(items=items, title=clean_text(feed.get("title")))


def _fast_items(
    source: Source,
    base: str,
    entries: list[Mapping[str, Any]],
    language: str | None,
    now: datetime,
) -> Iterator[FeedItem]:
    """FeedItems from fastfeedparser entries, by the same rules as `_items`."""
    for entry, url, guid in _linked(base, entries):
        published = parse_w3c_datetime(entry.get("published") or entry.get("updated"))
        yield FeedItem(
            url=url,
            source=source.name,
            title=_fast_title(entry.get("title")),
            published_at=not_future(published, now),
            summary=plain_text(entry.get("description")),
            guid=guid,
            language=language,
        )


def _linked(
    base: str, entries: list[Mapping[str, Any]]
) -> Iterator[tuple[Mapping[str, Any], str, str | None]]:
    """(entry, absolute link, GUID) for entries with a usable link; repeated links or
    GUIDs keep the first."""
    seen: set[str] = set()
    for entry in entries:
        url = absolute_http_url(base, entry.get("link"))
        guid = clean_text(entry.get("id"))
        if url is None or url in seen or (guid is not None and guid in seen):
            continue
        seen.add(url)
        if guid is not None:
            seen.add(guid)
        yield entry, url, guid


def _fast_title(title: str | None) -> str | None:
    """A title as text: markup stripped only when it holds a tag, as feedparser does."""
    if title and _TAG.search(title):
        return plain_text(title)
    return clean_text(title)


def _rss_language(content: bytes) -> str | None:
    """The language an RSS channel declares before its first item."""
    match = _RSS_LANGUAGE.search(content[:_HEAD_BYTES].split(b"<item", 1)[0])
    return language_code(match.group(1).decode("ascii")) if match else None


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
    for entry, url, guid in _linked(base, entries):
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
