"""Discovery helpers that turn raw strings from feeds and pages into clean values.

Dates become timezone-aware UTC datetimes, HTML snippets become plain text,
hrefs become absolute http(s) URLs and language tags become ISO 639 codes.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

# Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed offset is exact.
VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
FUTURE_SLACK = timedelta(days=1)  # clock skew and time-zone mistakes tolerated in dates

_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{1,8})*$")
_BLOCKS = ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")


def parse_w3c_datetime(raw: str | None) -> datetime | None:
    """A W3C/ISO 8601 date or datetime as UTC; zoneless values are Vietnam time."""
    text = (raw or "").strip()
    if not text:
        return None
    partial = _YEAR_MONTH.match(text)
    if partial:
        year, month = int(partial.group(1)), int(partial.group(2) or 1)
        try:
            return datetime(year, month, 1, tzinfo=VIETNAM_TZ).astimezone(UTC)
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM_TZ)
    return parsed.astimezone(UTC)


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """A UTC struct_time (as feedparser returns) as an aware datetime."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def not_future(value: datetime | None, now: datetime) -> datetime | None:
    """Drop dates too far in the future to be a real publication time."""
    if value is None or value > now + FUTURE_SLACK:
        return None
    return value


def clean_text(text: str | None) -> str | None:
    """Whitespace collapsed to single spaces; None when nothing is left."""
    if not text:
        return None
    return " ".join(text.split()) or None


def plain_text(html: str | None) -> str | None:
    """The visible text of an HTML snippet, block elements separated by spaces."""
    if not html or not html.strip():
        return None
    if "<" not in html and "&" not in html:
        return clean_text(html)
    try:
        fragment = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(re.sub(r"<[^>]*>", " ", html))
    for element in fragment.iter(*_BLOCKS):
        element.tail = " " + (element.tail or "")
    return clean_text(str(fragment.text_content()))


def language_code(raw: str | None) -> str | None:
    """The primary subtag of a language tag, lower-cased ('vi-VN' -> 'vi')."""
    match = _LANGUAGE.match((raw or "").strip())
    return match.group(1).lower() if match else None


def absolute_http_url(base: str, href: str | None) -> str | None:
    """`href` resolved against `base` without its fragment; None unless http(s)."""
    if not href:
        return None
    try:
        url = urljoin(base, href.strip()).partition("#")[0]
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 literal in a hand-written href
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url
