"""Discovery of XML sitemaps: a fetched sitemap Response -> FeedItems or child sitemaps.

`<urlset>` yields items, with the Google News extension's title, publication date
and language when present. `<sitemapindex>` yields only the freshest children,
so a site with thousands of daily sitemaps costs a few fetches per poll.

Which children of an index are taken:
  1. a child is dated by its `<lastmod>` or, failing that, by a date in its URL
     (`.../sitemap-post/2025-12-04.xml`, `.../news-2025-12.xml`); a URL date counts as
     the end of that day or month in Vietnam time, the newest content the file can hold;
  2. children dated within `max_age` of now are taken, newest first, at most `max_children`;
  3. undated children are added only when the whole index has at most `max_children`
     entries: a small index is cheap to read in full, while in a large one an undated
     child is more likely an archive or a page list than news.

The XML parser never expands entities or touches the network, and a document that
declares entities is refused outright; gzip bodies are inflated up to a fixed cap.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from lxml import etree

from bot.discover import sniff
from bot.discover.values import (
    FUTURE_SLACK,
    VIETNAM_TZ,
    absolute_http_url,
    clean_text,
    language_code,
    not_future,
    parse_w3c_datetime,
)
from bot.errors import ParseError
from bot.models import Discovery, FeedItem, Response, Source

MAX_INFLATED_BYTES = 20 * 1024 * 1024
_DECLARES_ENTITY = re.compile(rb"<!ENTITY\s", re.IGNORECASE)
_POSITION = re.compile(r",? line \d+, column \d+$")
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})(?:-(\d{2}))?(?![\d-])")


class _News(NamedTuple):
    title: str | None = None
    published: str | None = None
    language: str | None = None


class _Child(NamedTuple):
    url: str
    fresh_until: datetime | None


def parse_sitemap(
    source: Source,
    response: Response,
    *,
    now: datetime,
    max_children: int = 3,
    max_age: timedelta = timedelta(days=2),
) -> Discovery:
    """Read a `<urlset>` into FeedItems, or a `<sitemapindex>` into its freshest children."""
    root = _load(response)
    kind = _local(root)
    if kind == "urlset":
        return Discovery(items=tuple(_url_items(source, response.url, root, now)))
    children = _index_children(response.url, root, now)
    return Discovery(children=_freshest(children, now, max_children, max_age))


def _load(response: Response) -> Any:
    """The sitemap's root element, parsed without entity expansion or network access."""
    content = response.content
    if sniff.is_gzip(content):
        content = _inflate(response.url, content)
    if not content.strip():
        raise ParseError(response.url, "expected a sitemap but got an empty response")
    if _DECLARES_ENTITY.search(content, 0, 65536):
        raise ParseError(response.url, "refused: the sitemap declares XML entities")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        if sniff.root_name(content) == "html" or response.content_type in sniff.HTML_TYPES:
            raise ParseError(response.url, "expected a sitemap but got an HTML page") from exc
        raise ParseError(response.url, f"malformed XML: {_syntax_problem(exc)}") from exc
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ParseError(response.url, "refused: the sitemap declares XML entities")
    if _local(root) not in sniff.SITEMAP_ROOTS:
        found = sniff.describe(replace(response, content=content))
        raise ParseError(response.url, f"expected a sitemap but got {found}")
    return root


def _syntax_problem(exc: etree.XMLSyntaxError) -> str:
    """libxml2's complaint as '… at line L, column C', without its '(<string>, line 1)'."""
    text = _POSITION.sub("", exc.msg or "").strip() or "not well-formed"
    line, column = exc.position
    return f"{text} at line {line}, column {column}"


def _inflate(url: str, content: bytes) -> bytes:
    """Decompress a gzip body, refusing more than MAX_INFLATED_BYTES of output."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(content, MAX_INFLATED_BYTES + 1)
    except zlib.error as exc:
        raise ParseError(url, f"corrupt gzip data: {exc}") from exc
    if len(data) > MAX_INFLATED_BYTES:
        raise ParseError(url, f"gzip sitemap inflates beyond {MAX_INFLATED_BYTES >> 20} MB")
    if not inflater.eof:
        raise ParseError(url, "truncated gzip data")
    return data


def _local(element: Any) -> str:
    """An element's tag without its namespace ('' for anything that is not an element)."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _leaf_text(element: Any) -> str | None:
    """An element's text, or None when it holds more than text (e.g. an unexpanded entity)."""
    return None if len(element) else element.text


def _url_items(source: Source, base: str, root: Any, now: datetime) -> Iterator[FeedItem]:
    """One FeedItem per `<url>` with a usable `<loc>`, first occurrence of each URL."""
    seen: set[str] = set()
    for element in root:
        if _local(element) != "url":
            continue
        item = _url_item(source, base, element, now)
        if item is not None and item.url not in seen:
            seen.add(item.url)
            yield item


def _url_item(source: Source, base: str, element: Any, now: datetime) -> FeedItem | None:
    """A `<url>` entry as a FeedItem; Google News fields win over `<lastmod>`."""
    loc = lastmod = None
    news = _News()
    for child in element:
        name = _local(child)
        if name == "loc":
            loc = _leaf_text(child)
        elif name == "lastmod":
            lastmod = _leaf_text(child)
        elif name == "news":
            news = _news(child)
    url = absolute_http_url(base, loc)
    if url is None:
        return None
    published = parse_w3c_datetime(news.published) or parse_w3c_datetime(lastmod)
    return FeedItem(
        url=url,
        source=source.name,
        title=clean_text(news.title),
        published_at=not_future(published, now),
        language=language_code(news.language),
    )


def _news(element: Any) -> _News:
    """The Google News extension's `<news:news>` block."""
    title = published = language = None
    for child in element:
        name = _local(child)
        if name == "title":
            title = _leaf_text(child)
        elif name == "publication_date":
            published = _leaf_text(child)
        elif name == "publication":
            language = next((_leaf_text(sub) for sub in child if _local(sub) == "language"), None)
    return _News(title, published, language)


def _index_children(base: str, root: Any, now: datetime) -> Iterator[_Child]:
    """Every `<sitemap>` of an index with the newest time its content can carry."""
    for element in root:
        if _local(element) != "sitemap":
            continue
        loc = lastmod = None
        for child in element:
            name = _local(child)
            if name == "loc":
                loc = _leaf_text(child)
            elif name == "lastmod":
                lastmod = _leaf_text(child)
        url = absolute_http_url(base, loc)
        if url is not None:
            dated = not_future(parse_w3c_datetime(lastmod), now)
            yield _Child(url, dated or _url_period_end(url, now))


def _url_period_end(url: str, now: datetime) -> datetime | None:
    """The end of the day or month named in a URL's path, unless it has not begun yet."""
    match = _URL_DATE.search(urlsplit(url).path)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), match[3]
    try:
        start = datetime(year, month, int(day or 1), tzinfo=VIETNAM_TZ)
    except ValueError:
        return None
    if start > now + FUTURE_SLACK:
        return None
    if day is not None:
        end = start + timedelta(days=1)
    else:
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=VIETNAM_TZ)
    return end.astimezone(UTC)


def _freshest(
    children: Iterator[_Child], now: datetime, max_children: int, max_age: timedelta
) -> tuple[str, ...]:
    """The children worth fetching now, by the rule in the module docstring."""
    everything = list(children)
    cutoff = now - max_age
    fresh = [
        (c.fresh_until, c.url) for c in everything if c.fresh_until and c.fresh_until >= cutoff
    ]
    fresh.sort(key=lambda pair: pair[0], reverse=True)
    chosen = [url for _, url in fresh[:max_children]]
    if len(everything) <= max_children:
        chosen += [c.url for c in everything if c.fresh_until is None]
    return tuple(dict.fromkeys(chosen))
