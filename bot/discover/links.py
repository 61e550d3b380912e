"""Discovery helper: does a link on a listing page point at an article?

A pure URL heuristic for listing pages without a configured selector or pattern.
An article link stays on the page's site (a leading `www.` ignored), is not
navigation (tags, categories, authors, pagination, search, login, media files) and
carries an article signal: a numeric id of five or more digits (in the path or the
query), a hyphenated slug of at least seven words, or a `.html`/`.htm`/`.aspx` leaf
of at least four words.
Section names can still reach seven words in Vietnamese, which is why links inside
navigation blocks are dropped before this test (see `bot.discover.listing`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from courlan import is_navigation_page, is_not_crawlable

from bot.discover.values import absolute_http_url

SLUG_MIN_WORDS = 7  # Vietnamese section names run to six syllables; headlines are longer
PAGE_LEAF_MIN_WORDS = 4  # `.html` leaves: 'lien-he.html' is navigation, a headline is not

_NAV_SEGMENTS = frozenset(
    {
        "tag", "tags", "category", "categories", "chuyen-muc", "chuyenmuc", "author",
        "authors", "tac-gia", "search", "tim-kiem", "login", "dang-nhap", "logout", "dang-xuat",
        "register", "dang-ky", "account", "tai-khoan", "user", "users", "rss", "rss_feed", "feed",
        "page", "trang", "wp-admin", "wp-login.php", "cdn-cgi",
    }
)  # fmt: skip
_NAV_LEAVES = frozenset(
    {
        "index", "default", "home", "trang-chu", "lien-he", "contact", "contact-us",
        "gioi-thieu", "about", "about-us", "privacy", "privacy-policy", "chinh-sach-bao-mat",
        "dieu-khoan", "dieu-khoan-su-dung", "terms", "sitemap", "quang-cao", "advertise",
    }
)  # fmt: skip
_MEDIA = re.compile(
    r"\.(?:jpe?g|png|gif|webp|avif|svg|bmp|ico|tiff?|pdf|docx?|xlsx?|pptx?|zip|rar|7z|gz|"
    r"mp3|m4a|wav|ogg|mp4|m4v|mov|avi|webm|css|js|json|xml|rss|txt)$",
    re.IGNORECASE,
)
_PAGED_QUERY = re.compile(r"(?:^|&)(?:page|paged|trang)=\d+", re.IGNORECASE)
_NUMERIC_ID = re.compile(r"(?<![0-9])[0-9]{5,}(?![0-9])")
_PAGE_LEAF = re.compile(r"^(?P<stem>.+)\.(?:html?|shtml|aspx?)$", re.IGNORECASE)


def is_article_url(href: str, page_url: str) -> bool:
    """True when `href` (relative to the listing page) looks like an article on that site."""
    url = absolute_http_url(page_url, href)
    return url is not None and article_filter(page_url)(url)


def article_filter(page_url: str) -> Callable[[str], bool]:
    """A test for absolute, fragment-free URLs found on the page at `page_url`."""
    page = absolute_http_url(page_url, page_url)
    site = _site(urlsplit(page_url))

    def accept(url: str) -> bool:
        if url == page:
            return False
        parts = urlsplit(url)
        if _site(parts) != site or _is_navigation(url, parts):
            return False
        return _has_article_signal(parts)

    return accept


def _site(parts: SplitResult) -> str:
    """The host without a leading `www.`, so www.example.vn and example.vn are one site."""
    host = parts.hostname or ""
    return host.removeprefix("www.")


def _is_navigation(url: str, parts: SplitResult) -> bool:
    """Section, tag, author, search, account and pagination pages, and media files."""
    segments = [s.lower() for s in parts.path.split("/") if s]
    if not segments or _MEDIA.search(segments[-1]):
        return True
    if any(s in _NAV_SEGMENTS for s in segments) or _PAGED_QUERY.search(parts.query):
        return True
    return is_navigation_page(url) or is_not_crawlable(url)


def _has_article_signal(parts: SplitResult) -> bool:
    """A numeric id, a long slug, or a page leaf named like a headline."""
    if _NUMERIC_ID.search(parts.path) or _NUMERIC_ID.search(parts.query):
        return True
    leaf = parts.path.rstrip("/").rsplit("/", 1)[-1].lower()
    page = _PAGE_LEAF.match(leaf)
    if page is not None:
        stem = page.group("stem")
        return stem not in _NAV_LEAVES and _words(stem) >= PAGE_LEAF_MIN_WORDS
    return leaf not in _NAV_LEAVES and _words(leaf) >= SLUG_MIN_WORDS


def _words(slug: str) -> int:
    """How many hyphen- or underscore-separated words a slug has."""
    return sum(1 for word in re.split(r"[-_]+", slug) if word)
