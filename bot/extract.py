"""Extract stage: the bytes of one article page → `ExtractedPage` (text and metadata).

Pure and CPU-bound: `pipeline.py` runs it in a process pool, so the public entry
points are top-level functions. trafilatura finds the article body; a small lxml
pass reads what the Vietnamese CMSs publish better than trafilatura guesses (the
sapo, `article:published_time`, the `dd/mm/yyyy` date under the title), and a line
filter drops the captions, credit lines and comment counters that survive
extraction. Every text that leaves this module is NFC.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from urllib.parse import urljoin

from lxml.etree import LxmlError
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.utils import decode_file, load_html

from bot.errors import ExtractError
from bot.models import ExtractedPage, Rejection

# Vietnam has kept UTC+7 without daylight saving since 1975; a fixed offset needs no
# tz database on the machine and pickles cheaply into pool workers.
VN_TZ: tzinfo = timezone(timedelta(hours=7), "ICT")
FUTURE_SLACK = timedelta(days=1)  # clock skew and time-zone mistakes tolerated in dates

_TITLE_XPATHS = (
    "//h1[contains(@class, 'article__title')]",
    "//h1[contains(@class, 'detail-title') or contains(@class, 'title-detail')]",
    "//h1[contains(@class, 'article-title') or contains(@class, 'post-title')]",
    "//article//h1",
)
_LEAD_XPATHS = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' article__sapo ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' detail-sapo ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' sapo ')]",
    "//*[contains(@class, 'article-lead') or contains(@class, 'article__lead')]",
    "//*[contains(@class, 'sapo')]",
)
_AUTHOR_XPATHS = (
    "//meta[@name='author']/@content",
    "//meta[@property='article:author']/@content",
    "//*[contains(@class, 'article__author') or contains(@class, 'author-name')]",
    "//*[contains(@class, 'detail-author')]",
)
# Containers trafilatura sometimes keeps although no reader counts them as the article.
_PRUNE_XPATHS = [
    "//figcaption",
    "//*[contains(@class, 'box-related') or contains(@class, 'related-posts')]",
    "//*[contains(@class, 'detail-related') or contains(@class, 'article-related')]",
]

_CREDIT_LINE = re.compile(r"^\s*(?:sumber|source|nguồn)\s*:\s*(https?://\S+)\s*$", re.I)
_ARTICLE_LINK = re.compile(r"^https?://[^/?#]+/[^?#]*[^/?#]")
_CREDIT_LABEL = re.compile(r"^\s*(?:sumber|source|nguồn)\s*:", re.I)
_CAPTION_END = re.compile(
    r"(?:\((?:foto|ảnh|photo|sumber foto|nguồn ảnh|sumber|nguồn|source)\s*:[^()]{1,100}\)"
    r"|(?:^|_|[.]\s|\s[-–]\s)(?:foto|ảnh|photo)\s*:\s*[^.()]{1,40})\.?\s*\|?\s*$",
    re.I,
)
_COMMENT_COUNT = re.compile(r"^(?:komentar|bình luận|ý kiến|comments?)\s*\(\d+\)$", re.I)
_IMAGE_LINE = re.compile(r"^(?:!\[[^\]]*\]\([^)]*\)\s*\|?|\|.*\||[\w.-]+\.(?:jpe?g|png|gif|webp))$")
_OUTLET_DATE = re.compile(r"^\D{0,80}\d{1,2}/\d{1,2}/\d{4}$")
_BOILERPLATE_LINES = frozenset(
    {
        "vietnam.vn - nền tảng quảng bá việt nam",
        "silakan tinggalkan komentar untuk berbagi perasaan anda!",
        "dalam topik yang sama",
        "dalam kategori yang sama",
        "dari penulis yang sama",
        "no data",
        "no videos available",
        "tin liên quan",
        "xem thêm",
        "related news",
        "baca juga",
    }
)
_VISIBLE_DATE = re.compile(
    r"(?:(?P<h1>\d{1,2}):(?P<m1>\d{2})\W{0,4})?"
    r"(?<!\d)(?P<d>\d{1,2})[/.-](?P<mo>\d{1,2})[/.-](?P<y>\d{4})(?!\d)"
    r"(?:\W{1,4}(?P<h2>\d{1,2})[:h](?P<m2>\d{2}))?"
)
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252"}
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_WARM_UP_PAGE = (
    "<html lang='en'><head><title>Warm-up</title>"
    "<meta property='article:published_time' content='2025-01-01T00:00:00+07:00'></head>"
    "<body><article><h1>Warm-up</h1><p>"
    + "This paragraph only loads the extraction machinery before real pages arrive. " * 6
    + "</p></article></body></html>"
)


def extract(
    html: bytes,
    url: str,
    *,
    charset: str | None = None,
    min_text_chars: int = 280,
    now: datetime | None = None,
) -> ExtractedPage:
    """Extract the article text and metadata from one page, or raise ExtractError.

    A publication date more than a day after `now` (default: the current time) is
    not believed; the page's next date candidate is taken instead, if any.
    """
    tree = _parse(html, url, charset)
    doc = _run_trafilatura(tree, url, tables=False)
    if _too_short(doc, min_text_chars) and tree.find(".//table") is not None:
        # layout tables (older CMSs) hold the whole article: only then read tables
        doc = _run_trafilatura(tree, url, tables=True) or doc
    if doc is None:
        raise ExtractError(url, "no article text found")
    title = _title(tree, doc)
    raw_text = _nfc(getattr(doc, "text", None))
    credit = find_credit_url(raw_text) or _page_credit(tree)
    text = _clean_text(raw_text, title)
    if len(text) < min_text_chars:
        raise ExtractError(url, f"too little text ({len(text)} characters)")
    if not title:
        raise ExtractError(url, "no title")
    base = _base_url(tree, url)
    latest = (now or datetime.now(UTC)) + FUTURE_SLACK
    return ExtractedPage(
        url=url,
        title=title,
        text=text,
        lead=_lead(tree),
        published_at=_published_at(tree, doc, latest=latest),
        author=_author(tree),
        site=_meta(tree, "og:site_name") or _nfc(getattr(doc, "sitename", None)) or None,
        language=_language(tree),
        image=_absolute(base, _meta(tree, "og:image") or getattr(doc, "image", None)),
        canonical_url=_absolute(base, _canonical_href(tree)),
        credit_url=credit,
    )


def extract_or_reject(
    html: bytes, url: str, charset: str | None, min_text_chars: int, now: datetime | None = None
) -> ExtractedPage | Rejection:
    """Like `extract`, but a page without usable text comes back as a Rejection."""
    try:
        return extract(html, url, charset=charset, min_text_chars=min_text_chars, now=now)
    except ExtractError as exc:
        return Rejection(url=url, reason=exc.reason)


def warm_up() -> None:
    """Process-pool initializer: load trafilatura, lxml and htmldate and fill their caches."""
    try:
        extract(_WARM_UP_PAGE.encode(), "https://example.org/warm-up", min_text_chars=0)
    except ExtractError:
        return  # warming is an optimisation; real pages report their own errors


def find_credit_url(text: str) -> str | None:
    """The URL on the last `Sumber:` / `Source:` / `Nguồn:` line of `text`, if any."""
    found = None
    for line in text.splitlines():
        match = _CREDIT_LINE.match(line)
        if match:
            found = match[1].rstrip(".,;)»”\"'")
    return found


def _parse(html: bytes, url: str, charset: str | None) -> HtmlElement:
    if not html.strip():
        raise ExtractError(url, "empty page")
    text = _nfc(_decode(html, charset))
    try:
        tree = load_html(text)
    except (LxmlError, ValueError, TypeError) as exc:
        raise ExtractError(url, f"unparseable HTML ({exc.__class__.__name__})") from exc
    if tree is None:
        raise ExtractError(url, "not an HTML document")
    return tree


def _decode(html: bytes, charset: str | None) -> str:
    """BOM, then valid UTF-8, then the HTTP charset, then <meta charset>, then detection."""
    # Bytes that are valid UTF-8 with non-ASCII text are UTF-8 whatever a server's
    # default "charset=ISO-8859-1" says; legacy Vietnamese encodings never validate.
    first = "utf-8-sig" if html.startswith(codecs.BOM_UTF8) else "utf-8"
    declared = _META_CHARSET.search(html[:4096])
    meta = declared[1].decode("ascii", "ignore") if declared else None
    for name in (first, charset, meta):
        if not name:
            continue
        name = _WHATWG_ALIASES.get(name.strip().lower(), name.strip())
        try:
            return html.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return str(decode_file(html))


def _too_short(doc: object | None, min_text_chars: int) -> bool:
    return doc is None or len(getattr(doc, "text", None) or "") < min_text_chars


def _run_trafilatura(tree: HtmlElement, url: str, *, tables: bool) -> object | None:
    """trafilatura's document for the page; None when it finds no main text."""
    try:
        doc = bare_extraction(
            tree,
            url=url,
            fast=True,
            favor_precision=True,
            include_comments=False,
            include_tables=tables,
            include_images=False,
            with_metadata=True,
            prune_xpath=_PRUNE_XPATHS,
        )
    # trafilatura is heuristic code run on arbitrary markup: whatever breaks inside it
    # means this page cannot be extracted, never that the worker should die.
    except Exception as exc:
        raise ExtractError(url, f"extraction failed ({exc.__class__.__name__})") from exc
    return doc


def _clean_text(text: str, title: str | None) -> str:
    kept = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line and line != title and not _is_boilerplate(line):
            kept.append(line)
    return "\n".join(kept)


def _is_boilerplate(line: str) -> bool:
    if line.casefold() in _BOILERPLATE_LINES:
        return True
    if _COMMENT_COUNT.match(line) or _IMAGE_LINE.match(line):
        return True
    if _CREDIT_LINE.match(line) or (len(line) < 60 and _CREDIT_LABEL.match(line)):
        return True  # "Sumber: https://…" or "Nguồn: Báo Nhân Dân": attribution, kept apart
    if len(line) < 100 and _OUTLET_DATE.match(line):
        return True  # "Báo Nhân dânBáo Nhân dân04/12/2025": the credited outlet and date
    return len(line) < 400 and _CAPTION_END.search(line) is not None


def _page_credit(tree: HtmlElement) -> str | None:
    """The credit line as markup: `<p>Sumber: <a href="…">…</a></p>` (last one wins)."""
    found = None
    for element in tree.iter("p", "div", "span", "em", "i"):
        label = _squash(element.text_content())
        if len(label) > 400 or not _CREDIT_LABEL.match(label):
            continue
        # a link to an outlet's home page names the outlet, not the original article
        hrefs = [h for h in map(str, element.xpath(".//a/@href")) if _ARTICLE_LINK.match(h)]
        found = hrefs[0] if hrefs else find_credit_url(label) or found
    return found


def _title(tree: HtmlElement, doc: object) -> str | None:
    for xpath in _TITLE_XPATHS:
        text = _first_text(tree, xpath)
        if text:
            return text
    for candidate in (_meta(tree, "og:title"), getattr(doc, "title", None)):
        if candidate:
            return _nfc(_squash(candidate))
    return _first_text(tree, "//title")


def _lead(tree: HtmlElement) -> str | None:
    for xpath in _LEAD_XPATHS:
        text = _first_text(tree, xpath)
        if text:
            return text
    return _meta(tree, "og:description") or _meta(tree, "description")


def _author(tree: HtmlElement) -> str | None:
    for xpath in _AUTHOR_XPATHS:
        for found in tree.xpath(xpath):
            text = _squash(found if isinstance(found, str) else found.text_content())
            if text and len(text) <= 80 and not text.startswith("http"):
                return _nfc(text)
    return None


def _published_at(tree: HtmlElement, doc: object, *, latest: datetime) -> datetime | None:
    """The first plausible date: not after `latest` (a CMS bug or a bait for the top)."""
    return next((when for when in _date_candidates(tree, doc) if when <= latest), None)


def _date_candidates(tree: HtmlElement, doc: object) -> Iterator[datetime]:
    """Publication dates the page states, most trustworthy first."""
    for value in tree.xpath(
        "//meta[@property='article:published_time' or @itemprop='datePublished']/@content"
    ):
        parsed = _parse_iso(str(value))
        if parsed:
            yield parsed
    visible = _visible_date(tree)
    day = _parse_iso(str(getattr(doc, "date", None) or ""))
    if day is not None and visible is not None and visible.date() == day.date():
        yield visible  # same day, but the page also shows the time
    if day is not None:
        yield day
    if visible is not None:
        yield visible


def _parse_iso(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def _visible_date(tree: HtmlElement) -> datetime | None:
    """The first `dd/mm/yyyy[ HH:MM]` after the headline, as Vietnamese pages print it."""
    heads = tree.xpath("//h1")
    axis = "following::text()" if heads else "//body//text()"
    nearby = f"{axis}[normalize-space()][not(parent::script or parent::style)][position() <= 40]"
    for node in (heads[0] if heads else tree).xpath(nearby):
        for match in _VISIBLE_DATE.finditer(str(node)):
            found = _date_from_match(match)
            if found:
                return found
    return None


def _date_from_match(match: re.Match[str]) -> datetime | None:
    hour, minute = match["h2"] or match["h1"], match["m2"] or match["m1"]
    try:
        day = date(int(match["y"]), int(match["mo"]), int(match["d"]))
        at = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
        if hour is not None and minute is not None:
            at = at.replace(hour=int(hour), minute=int(minute))
    except ValueError:
        return None
    return at


def _language(tree: HtmlElement) -> str | None:
    declared = (
        tree.get("lang")
        or _meta(tree, "og:locale")
        or next(iter(tree.xpath("//meta[@http-equiv='content-language']/@content")), None)
    )
    if not declared:
        return None
    primary = re.split(r"[-_]", str(declared).strip())[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _canonical_href(tree: HtmlElement) -> str | None:
    for link in tree.xpath("//link[@rel][@href]"):
        if "canonical" in str(link.get("rel")).lower().split():
            return str(link.get("href")).strip() or None
    return None


def _base_url(tree: HtmlElement, url: str) -> str:
    base = next(iter(tree.xpath("//base/@href")), None)
    return urljoin(url, str(base)) if base else url


def _absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    absolute = urljoin(base, href.strip())
    return absolute if absolute.startswith(("http://", "https://")) else None


def _meta(tree: HtmlElement, name: str) -> str | None:
    """A <meta property=…> or <meta name=…> content, squashed, NFC; None when empty."""
    for value in tree.xpath(f"//meta[@property='{name}' or @name='{name}']/@content"):
        text = _squash(str(value))
        if text:
            return _nfc(text)
    return None


def _first_text(tree: HtmlElement, xpath: str) -> str | None:
    for element in tree.xpath(xpath):
        text = _squash(element.text_content())
        if text:
            return _nfc(text)
    return None


def _squash(text: str) -> str:
    return " ".join(text.split())


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text) if text else ""
