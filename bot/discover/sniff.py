"""Discovery helpers that tell what kind of document a fetched body is.

Bytes in, a verdict out: the name of the root element, whether the body is an
HTML page, a feed, a sitemap or gzip data. Only the first few kilobytes are read.
"""

from __future__ import annotations

import re

from bot.models import Response

FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
GZIP_MAGIC = b"\x1f\x8b"

_HEAD_BYTES = 8192
_COMMENT = re.compile(rb"<!--.*?(?:-->|$)", re.DOTALL)
_DOCTYPE_HTML = re.compile(rb"^\s*<!doctype\s+html", re.IGNORECASE)
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")


def root_name(content: bytes) -> str | None:
    """The lower-cased local name of the first element, e.g. 'rss', 'urlset', 'html'."""
    head = content[:_HEAD_BYTES].lstrip(b"\xef\xbb\xbf")
    if _DOCTYPE_HTML.match(head):
        return "html"
    match = _FIRST_TAG.search(_COMMENT.sub(b"", head))
    if match is None:
        return None
    name = match.group(1).decode("ascii", "replace")
    return name.rsplit(":", 1)[-1].lower()


def is_html(response: Response) -> bool:
    """True when the server or the bytes say this is an HTML page."""
    return response.content_type in HTML_TYPES or root_name(response.content) == "html"


def is_feed(response: Response) -> bool:
    """True when the content type or the root element says RSS, Atom or RDF."""
    return response.content_type in FEED_TYPES or root_name(response.content) in FEED_ROOTS


def is_gzip(content: bytes) -> bool:
    """True for a gzip stream (a `.xml.gz` sitemap served without Content-Encoding)."""
    return content.startswith(GZIP_MAGIC)


def describe(response: Response) -> str:
    """A short human name for what the body looks like, for error messages."""
    if not response.content.strip():
        return "an empty response"
    if is_gzip(response.content):
        return "gzip data"
    root = root_name(response.content)
    if root == "html" or (root is None and response.content_type in HTML_TYPES):
        return "an HTML page"
    if root in FEED_ROOTS:
        return "an RSS/Atom feed"
    if root in SITEMAP_ROOTS:
        return "a sitemap"
    if root is not None:
        return f"an XML document with root <{root}>"
    kind = f" ({response.content_type})" if response.content_type else ""
    return f"a document that is not XML{kind}"
