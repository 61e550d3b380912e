"""Discovery helpers that tell what kind of document a fetched body is.

Bytes in, a verdict out: the name of the root element, whether the body is an
HTML page, a feed, a sitemap or gzip data (only the first few kilobytes are read),
and whether its DTD declares entities that would read files or expand without end.
"""

from __future__ import annotations

import contextlib
import re
from xml.parsers import expat

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
_ENTITY_DECL = re.compile(rb"<!ENTITY\s", re.IGNORECASE)
_ENTITY_REF = re.compile(r"&[A-Za-z_:][\w.:-]*;")  # a named reference, not &#160;


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


class _RootReached(Exception):
    """Raised by the expat handler: the DTD, if any, has been read."""


def entity_problem(content: bytes) -> str | None:
    """Why the document's DTD is dangerous ('external', 'nested' entities), or None.

    An external general entity (SYSTEM or PUBLIC) asks the parser to read a file or
    a URL; an entity whose value refers to other entities is how "billion laughs"
    expands a few hundred bytes into gigabytes. Only the prolog is parsed, by expat,
    which declares entities without expanding or fetching them.
    """
    if _ENTITY_DECL.search(content) is None:
        return None
    found: list[str] = []

    def declared(
        name: str,
        is_parameter: int,
        value: str | None,
        base: str | None,
        system_id: str | None,
        public_id: str | None,
        notation: str | None,
    ) -> None:
        if is_parameter:
            return  # never expanded here; feedparser drops them unread
        if system_id is not None or public_id is not None:
            found.append(f"an external XML entity ({name})")
        elif value is not None and _ENTITY_REF.search(value):
            found.append(f"nested XML entities ({name}), an entity-expansion attack")

    def root(name: str, attributes: object) -> None:
        raise _RootReached

    parser = expat.ParserCreate()
    parser.EntityDeclHandler = declared
    parser.StartElementHandler = root
    # Malformed XML is reported by the parser that reads the whole document.
    with contextlib.suppress(_RootReached, expat.ExpatError, ValueError):
        parser.Parse(content, True)
    return found[0] if found else None
