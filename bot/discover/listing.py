"""Discovery of HTML listing pages: a fetched page Response -> FeedItems, or its feed link.

Article links are chosen by the source's CSS selector, else its URL pattern, else
the heuristic in `bot.discover.links` applied to links outside navigation blocks.
Each URL appears once, in page order, with the most descriptive text any of its
links carries as the title.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
from typing import Any

import lxml.html
from cssselect import SelectorError
from lxml import etree

from bot.discover import sniff
from bot.discover.links import article_filter
from bot.discover.values import absolute_http_url, clean_text
from bot.errors import ConfigError, ParseError
from bot.models import Discovery, FeedItem, Response, Source

_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)

_NAV_CLASS_WORDS = frozenset({"menu", "navbar", "breadcrumb", "breadcrumbs", "pagination", "pager"})
_WORD_SPLIT = re.compile(r"[\s_-]+")

Accept = Callable[[str], bool]


def parse_listing(source: Source, response: Response) -> Discovery:
    """Article links of a listing page, in page order."""
    root = parse_html(response, expected="a listing page")
    page_url = absolute_http_url(response.url, response.url) or response.url
    anchors, accept = _strategy(source, root, page_url)
    titles = _collect(anchors, page_url, accept)
    items = tuple(FeedItem(url=url, source=source.name, title=t) for url, t in titles.items())
    return Discovery(items=items, title=clean_text(root.findtext(".//title")))


def find_feed_link(response: Response) -> str | None:
    """The first feed the page advertises with <link rel="alternate">, as an absolute URL."""
    try:
        root = parse_html(response, expected="an HTML page")
    except ParseError:
        return None
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        media_type = (link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" in rel and media_type in sniff.FEED_TYPES:
            url = absolute_http_url(response.url, link.get("href"))
            if url is not None:
                return url
    return None


def parse_html(response: Response, *, expected: str) -> Any:
    """The page's lxml root, decoded by the HTTP charset, a <meta> charset or else UTF-8."""
    if not response.content.strip():
        raise ParseError(response.url, f"expected {expected} but got an empty response")
    if sniff.root_name(response.content) in sniff.FEED_ROOTS | sniff.SITEMAP_ROOTS:
        raise ParseError(response.url, f"expected {expected} but got {sniff.describe(response)}")
    encoding = _declared_charset(response)
    if encoding is None and not _META_CHARSET.search(response.content[:4096]):
        encoding = "utf-8"  # libxml2 would guess Latin-1 and garble Vietnamese text
    parser = lxml.html.HTMLParser(encoding=encoding)
    try:
        return lxml.html.document_fromstring(response.content, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(response.url, f"unreadable HTML: {exc}") from exc


def _declared_charset(response: Response) -> str | None:
    """The Content-Type charset when Python knows the codec."""
    match = _CHARSET_PARAM.search(response.headers.get("content-type", ""))
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def _strategy(source: Source, root: Any, page_url: str) -> tuple[Iterable[Any], Accept]:
    """Which anchors to read and which of their URLs to keep, per the source's settings."""
    if source.link_selector:
        try:
            matched = root.cssselect(source.link_selector)
        except SelectorError as exc:
            raise ConfigError(
                f"source {source.name}: invalid CSS selector {source.link_selector!r}: {exc}",
                field="link_selector",
            ) from exc
        return (_anchor(element) for element in matched), _any_link
    if source.link_pattern:
        try:
            pattern = re.compile(source.link_pattern)
        except re.error as exc:
            raise ConfigError(
                f"source {source.name}: invalid regular expression {source.link_pattern!r}: {exc}",
                field="link_pattern",
            ) from exc
        return root.iter("a"), lambda url: pattern.search(url) is not None
    anchors = (a for a in root.iter("a") if not _in_navigation(a))
    return anchors, article_filter(page_url)


def _in_navigation(anchor: Any) -> bool:
    """Inside a <nav> or a menu, breadcrumb or pagination block: section links, not news."""
    for ancestor in anchor.iterancestors():
        if ancestor.tag == "nav":
            return True
        classes = ancestor.get("class")
        if classes and not _NAV_CLASS_WORDS.isdisjoint(_WORD_SPLIT.split(classes.lower())):
            return True
    return False


def _any_link(url: str) -> bool:
    """Selector matches are trusted; only the URL checks common to every mode apply."""
    return True


def _anchor(element: Any) -> Any:
    """The element itself when it has an href, else the first link inside it."""
    if element.get("href") is not None:
        return element
    return next(element.iter("a"), element)


def _collect(anchors: Iterable[Any], page_url: str, accept: Accept) -> dict[str, str | None]:
    """Accepted URLs in first-seen order, each with its longest link text. Linear time."""
    titles: dict[str, str | None] = {}
    rejected: set[str] = set()
    resolved: dict[str, str | None] = {}  # menus and grids repeat the same hrefs
    for anchor in anchors:
        href = anchor.get("href") or ""
        if href not in resolved:
            resolved[href] = absolute_http_url(page_url, href)
        url = resolved[href]
        if url is None or url == page_url or url in rejected:
            continue
        if url not in titles:
            if not accept(url):
                rejected.add(url)
                continue
            titles[url] = None
        text = _link_text(anchor)
        if text and len(text) > len(titles[url] or ""):
            titles[url] = text
    return titles


def _link_text(anchor: Any) -> str | None:
    """What a reader sees for the link: its text, else its title attribute."""
    return clean_text(str(anchor.text_content())) or clean_text(anchor.get("title"))
