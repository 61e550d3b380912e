"""Extract stage: the bytes of one article page → `ExtractedPage` (text and metadata).

Pure and CPU-bound: `pipeline.py` runs it in a process pool, so the public entry
points are top-level functions. The page is decoded and parsed once. A few cheap
passes over that tree read what the Vietnamese CMSs publish better than trafilatura
guesses (the sapo, `article:published_time`, the `dd/mm/yyyy` date under the title);
then trafilatura finds the article body in a copy of it, with options built once.
A line filter drops the captions, credit lines and comment counters that survive
extraction. Every text that leaves this module is NFC.
"""

from __future__ import annotations

import codecs
import copy
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from urllib.parse import urljoin

from lxml.etree import ElementDefaultClassLookup, ElementNamespaceClassLookup, XPath
from lxml.html import (
    FormElement,
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    InputElement,
    LabelElement,
    SelectElement,
    TextareaElement,
    fromstring,
)
from trafilatura import bare_extraction
from trafilatura.settings import Extractor, set_date_params
from trafilatura.utils import decode_file, is_dubious_html, repair_faulty_html

from bot.errors import ExtractError
from bot.models import ExtractedPage, Rejection

# Vietnam has kept UTC+7 without daylight saving since 1975; a fixed offset needs no
# tz database on the machine and pickles cheaply into pool workers.
VN_TZ: tzinfo = timezone(timedelta(hours=7), "ICT")
FUTURE_SLACK = timedelta(days=1)  # clock skew and time-zone mistakes tolerated in dates

# The headline, the sapo and the byline as the Vietnamese CMSs mark them up, most
# specific first. A headline rule lists parts of an <h1>'s class attribute; a sapo or
# byline rule is (a word every matching class attribute contains, whole class names,
# parts of the class attribute).
_TITLE_CLASSES = (
    ("article__title",),
    ("detail-title", "title-detail"),
    ("article-title", "post-title"),
)
_ClassRule = tuple[str, tuple[str, ...], tuple[str, ...]]
_LEAD_CLASSES: tuple[_ClassRule, ...] = (
    ("sapo", ("article__sapo",), ()),
    ("sapo", ("detail-sapo",), ()),
    ("sapo", ("sapo",), ()),
    ("lead", (), ("article-lead", "article__lead")),
    ("sapo", (), ("sapo",)),
)
_AUTHOR_CLASSES: tuple[_ClassRule, ...] = (
    ("author", (), ("article__author", "author-name")),
    ("author", (), ("detail-author",)),
)
# XPath predicates cost a string copy per node tested: test the few class attributes,
# never every element.
_CLASS_HAVING = XPath("//@class[contains(., $word)]")
# Containers trafilatura sometimes keeps although no reader counts them as the article.
_PRUNE_XPATH = (
    "//figcaption | //@class[contains(., 'related')][contains(., 'box-related')"
    " or contains(., 'related-posts') or contains(., 'detail-related')"
    " or contains(., 'article-related')]/.."
)
# lxml.html's element classes for the tags that have their own
_FORM_CLASSES = {
    "form": FormElement,
    "input": InputElement,
    "label": LabelElement,
    "select": SelectElement,
    "textarea": TextareaElement,
}
_XML_SPACE = re.compile(r"[ \t\r\n]+")  # what XPath's normalize-space() collapses
_CREDIT_WORDS = ("sumber", "source", "nguồn")
_CREDIT_HEADS = frozenset(w[:n] for w in _CREDIT_WORDS for n in range(1, len(w) + 1))
_CAPTION_WORDS = ("foto", "ảnh", "photo", "sumber", "nguồn", "source")  # one is in any caption
_CAPTION_SPAN = 160  # no caption match is longer, and every one ends its line

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
_LONGEST_BOILERPLATE = max(map(len, _BOILERPLATE_LINES))
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
    # read the page's own markup while the new tree is still in the CPU's caches:
    # trafilatura works on a copy and leaves this one as it is
    page = _Declared(tree)
    classes = _Classes(tree)
    lead, author = _lead(page, classes), _author(page, classes)
    labelled = _has_credit_label(tree.text_content())
    doc = _run_trafilatura(tree, url, tables=False)
    if _too_short(doc, min_text_chars) and tree.find(".//table") is not None:
        # layout tables (older CMSs) hold the whole article: only then read tables
        doc = _run_trafilatura(tree, url, tables=True) or doc
    if doc is None:
        raise ExtractError(url, "no article text found")
    title = _title(page, doc)
    raw_text = _nfc(getattr(doc, "text", None))
    credit = find_credit_url(raw_text) or (_page_credit(tree) if labelled else None)
    text = _clean_text(raw_text, title)
    if len(text) < min_text_chars:
        raise ExtractError(url, f"too little text ({len(text)} characters)")
    if not title:
        raise ExtractError(url, "no title")
    base = urljoin(url, page.base) if page.base else url
    latest = (now or datetime.now(UTC)) + FUTURE_SLACK
    return ExtractedPage(
        url=url,
        title=title,
        text=text,
        lead=lead,
        published_at=_published_at(tree, page, doc, latest=latest),
        author=author,
        site=page.meta("og:site_name") or _nfc(getattr(doc, "sitename", None)) or None,
        language=_language(tree, page),
        image=_absolute(base, page.meta("og:image") or getattr(doc, "image", None)),
        canonical_url=_absolute(base, page.canonical),
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
    """Run by each pool worker before its first page: load trafilatura, lxml and htmldate."""
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
    tree = _load(_nfc(_decode(html, charset)))
    if tree is None:
        raise ExtractError(url, "not an HTML document")
    return tree


def _load(text: str) -> HtmlElement | None:
    """trafilatura's `load_html` for a decoded page, parsed with `_parser()`; None: not HTML."""
    beginning = text[:50].lower()
    dubious = is_dubious_html(beginning)
    text = repair_faulty_html(text, beginning)
    parser, tree, retried = _parser(), None, False
    # as in load_html, whatever lxml raises only means that this way gave no tree
    try:
        tree = fromstring(text, parser=parser)
    except ValueError:  # a text with an XML encoding declaration: lxml wants its bytes
        tree, retried = _load_bytes(text, parser), True
    except Exception:
        tree = None
    if (tree is None or len(tree) < 1) and not retried:
        tree = _load_bytes(text, parser)
    if tree is not None and dubious and len(tree) < 2:
        return None  # a JSON, PDF or text body that lxml wrapped in <html><p>
    return tree


def _load_bytes(text: str, parser: HTMLParser) -> HtmlElement | None:
    try:
        tree: HtmlElement = fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except Exception:
        return None
    return tree


@functools.cache
def _parser() -> HTMLParser:
    """trafilatura's HTML parser settings, with lxml.html's element classes chosen in C.

    lxml.html's own parser calls back into Python to pick the class of every element
    object it hands out: about a microsecond each, 0.1-0.2 ms of every page's extraction
    (trafilatura works on a copy of this tree, which keeps its parser). The classes are the
    same: HtmlElement, and lxml.html's form classes for their tags.
    """
    lookup = ElementNamespaceClassLookup(
        ElementDefaultClassLookup(
            element=HtmlElement,
            comment=HtmlComment,
            pi=HtmlProcessingInstruction,
            entity=HtmlEntity,
        )
    )
    lookup.get_namespace(None).update(_FORM_CLASSES)
    parser = HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
    )
    parser.set_element_class_lookup(lookup)
    return parser


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
        doc = bare_extraction(tree, options=_options(url, tables=tables), prune_xpath=_PRUNE_XPATH)
    # trafilatura is heuristic code run on arbitrary markup: whatever breaks inside it
    # means this page cannot be extracted, never that the worker should die.
    except Exception as exc:
        raise ExtractError(url, f"extraction failed ({exc.__class__.__name__})") from exc
    return doc


@functools.cache
def _settings(tables: bool) -> Extractor:
    """Duta's trafilatura options, its configuration read once rather than on every page."""
    return Extractor(
        output_format="python",
        fast=True,
        precision=True,
        comments=False,
        tables=tables,
        images=False,
        with_metadata=True,
    )


def _options(url: str, *, tables: bool) -> Extractor:
    """The options `bare_extraction(url=…, fast=True, favor_precision=True, …)` would build."""
    options = copy.copy(_settings(tables))
    options.url = url
    options.source = url.encode("utf-8", "replace").decode("utf-8")
    # htmldate's latest acceptable date is today's, as trafilatura sets it on every call
    options.date_params = set_date_params(options.date_params["extensive_search"])
    return options


class _Declared:
    """What a page declares in <meta>, <link rel=canonical>, <base>, <h1> and <title>.

    Read in one walk over the document instead of an XPath query (a walk) per field.
    """

    def __init__(self, tree: HtmlElement) -> None:
        self.named: dict[str, list[str]] = {}  # meta property or name → contents, page order
        self.dates: list[str] = []  # article:published_time, itemprop=datePublished
        self.authors: list[str] = []  # meta name=author
        self.article_authors: list[str] = []  # meta property=article:author
        self.content_language: str | None = None
        self.canonical: str | None = None
        self.base: str | None = None
        self.headings: list[HtmlElement] = []
        self.titles: list[HtmlElement] = []
        seen_canonical = False
        # `//…` queries search the whole document, even when the tree is a fragment's element
        for element in tree.getroottree().getroot().iter("meta", "link", "base", "h1", "title"):
            tag = element.tag
            if tag == "meta":
                self._add_meta(element)
            elif tag == "h1":
                self.headings.append(element)
            elif tag == "title":
                self.titles.append(element)
            elif tag == "base":
                if self.base is None:
                    self.base = element.get("href")
            elif not seen_canonical and _is_canonical(element):
                seen_canonical = True
                self.canonical = str(element.get("href")).strip() or None

    def _add_meta(self, element: HtmlElement) -> None:
        content = element.get("content")
        if content is None:
            return
        prop, name = element.get("property"), element.get("name")
        for key in (prop, name if name != prop else None):
            if key is not None:
                self.named.setdefault(key, []).append(content)
        if prop == "article:published_time" or element.get("itemprop") == "datePublished":
            self.dates.append(content)
        if name == "author":
            self.authors.append(content)
        if prop == "article:author":
            self.article_authors.append(content)
        if self.content_language is None and element.get("http-equiv") == "content-language":
            self.content_language = content

    def meta(self, name: str) -> str | None:
        """A <meta property=…> or <meta name=…> content, squashed, NFC; None when empty."""
        for value in self.named.get(name, ()):
            text = _squash(value)
            if text:
                return _nfc(text)
        return None


def _is_canonical(link: HtmlElement) -> bool:
    rel, href = link.get("rel"), link.get("href")
    return rel is not None and href is not None and "canonical" in rel.lower().split()


class _Classes:
    """Elements by a word in their class attribute, looked up once per word, when needed."""

    def __init__(self, tree: HtmlElement) -> None:
        self._tree = tree
        self._found: dict[str, list[tuple[str, HtmlElement]]] = {}

    def having(self, word: str) -> list[tuple[str, HtmlElement]]:
        """(class, element) for every element whose class attribute contains `word`."""
        if word not in self._found:
            found = _CLASS_HAVING(self._tree, word=word)
            self._found[word] = [(str(value), value.getparent()) for value in found]
        return self._found[word]

    def by_rules(self, rules: tuple[_ClassRule, ...]) -> Iterator[HtmlElement]:
        """The elements each rule picks, rule by rule, in page order within a rule."""
        for word, names, parts in rules:
            for cls, element in self.having(word):
                tokens = _XML_SPACE.split(cls) if names else []
                if _has_part(cls, parts) or any(name in tokens for name in names):
                    yield element


def _clean_text(text: str, title: str | None) -> str:
    kept = []
    for raw in text.splitlines():
        line = raw if _is_squashed(raw) else _squash(raw)
        if line and line != title and not _is_boilerplate(line):
            kept.append(line)
    return "\n".join(kept)


def _is_squashed(line: str) -> bool:
    """Whether `_squash` would leave the line as it is (trafilatura's lines mostly are)."""
    # every whitespace character but the ASCII space is unprintable
    return line.isprintable() and "  " not in line and line[:1] != " " and line[-1:] != " "


def _is_boilerplate(line: str) -> bool:
    # casefolding never shortens a text: a longer line is none of the known ones
    if len(line) <= _LONGEST_BOILERPLATE and line.casefold() in _BOILERPLATE_LINES:
        return True
    if _COMMENT_COUNT.match(line) or _IMAGE_LINE.match(line):
        return True
    if _CREDIT_LINE.match(line) or (len(line) < 60 and _CREDIT_LABEL.match(line)):
        return True  # "Sumber: https://…" or "Nguồn: Báo Nhân Dân": attribution, kept apart
    if len(line) < 100 and _OUTLET_DATE.match(line):
        return True  # "Báo Nhân dânBáo Nhân dân04/12/2025": the credited outlet and date
    if len(line) >= 400:
        return False
    tail = line[-_CAPTION_SPAN:]
    if ":" not in tail:
        return False  # "Ảnh:", "Foto:", "(Sumber: …)": every caption has its colon
    folded = tail.casefold()  # as the caption's case-insensitive match sees it
    if not any(word in folded for word in _CAPTION_WORDS):
        return False
    return _CAPTION_END.search(line, len(line) - len(tail)) is not None


def _page_credit(tree: HtmlElement) -> str | None:
    """The credit line as markup: `<p>Sumber: <a href="…">…</a></p>` (last one wins)."""
    found = None
    for element in tree.iter("p", "div", "span", "em", "i"):
        if not _may_open_with_credit(element):
            continue
        label = _squash(element.text_content())
        if len(label) > 400 or not _CREDIT_LABEL.match(label):
            continue
        # a link to an outlet's home page names the outlet, not the original article
        hrefs = [h for h in map(str, element.xpath(".//a/@href")) if _ARTICLE_LINK.match(h)]
        found = hrefs[0] if hrefs else find_credit_url(label) or found
    return found


def _has_credit_label(text: str) -> bool:
    """Whether `text` holds `Sumber:`, `Source:` or `Nguồn:` in any case, anywhere."""
    return any(_ends_with_credit_word(before) for before in text.split(":")[:-1])


def _ends_with_credit_word(text: str) -> bool:
    # lower-cased as the label's case-insensitive match sees it, which takes ſ for s
    return text.rstrip()[-6:].lower().replace("ſ", "s").endswith(_CREDIT_WORDS)


def _may_open_with_credit(element: HtmlElement) -> bool:
    """Whether the element's text can start with a credit label (a cheap first look)."""
    chunk = _first_chunk(element) or ""
    start = chunk[:64].lstrip() or chunk.lstrip()  # no copy of a long text for its first words
    # as the label's case-insensitive match sees it; the label may go on in the next chunk
    head = start[:6].lower().replace("ſ", "s")
    return head in _CREDIT_HEADS or head.startswith(_CREDIT_WORDS)


def _first_chunk(element: HtmlElement) -> str | None:
    """The first text in the element that is not blank, as `itertext()` would yield it."""
    text = element.text
    if text and not text.isspace():
        return str(text)
    for child in element:
        if isinstance(child.tag, str):  # comments and processing instructions hold no text
            found = _first_chunk(child)
            if found:
                return found
        tail = child.tail
        if tail and not tail.isspace():
            return str(tail)
    return None


def _title(page: _Declared, doc: object) -> str | None:
    classed = [(h.get("class") or "", h) for h in page.headings]
    text = _first_text(h for parts in _TITLE_CLASSES for cls, h in classed if _has_part(cls, parts))
    text = text or _first_text(h for h in page.headings if _in_article(h))
    if text:
        return text
    for candidate in (page.meta("og:title"), getattr(doc, "title", None)):
        if candidate:
            return _nfc(_squash(candidate))
    return _first_text(page.titles)


def _in_article(element: HtmlElement) -> bool:
    return next(element.iterancestors("article"), None) is not None


def _has_part(cls: str, parts: tuple[str, ...]) -> bool:
    return any(part in cls for part in parts)


def _lead(page: _Declared, classes: _Classes) -> str | None:
    text = _first_text(classes.by_rules(_LEAD_CLASSES))
    return text or page.meta("og:description") or page.meta("description")


def _author(page: _Declared, classes: _Classes) -> str | None:
    declared = page.authors + page.article_authors
    shown = (e.text_content() for e in classes.by_rules(_AUTHOR_CLASSES))
    for found in itertools.chain(declared, shown):
        text = _squash(found)
        if text and len(text) <= 80 and not text.startswith("http"):
            return _nfc(text)
    return None


def _published_at(
    tree: HtmlElement, page: _Declared, doc: object, *, latest: datetime
) -> datetime | None:
    """The first plausible date: not after `latest` (a CMS bug or a bait for the top)."""
    candidates = _date_candidates(tree, page, doc)
    return next((when for when in candidates if when <= latest), None)


def _date_candidates(tree: HtmlElement, page: _Declared, doc: object) -> Iterator[datetime]:
    """Publication dates the page states, most trustworthy first."""
    for value in page.dates:
        parsed = _parse_iso(value)
        if parsed:
            yield parsed
    visible = _visible_date(tree, page.headings)
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


def _visible_date(tree: HtmlElement, heads: list[HtmlElement]) -> datetime | None:
    """The first `dd/mm/yyyy[ HH:MM]` after the headline, as Vietnamese pages print it."""
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


def _language(tree: HtmlElement, page: _Declared) -> str | None:
    declared = tree.get("lang") or page.meta("og:locale") or page.content_language
    if not declared:
        return None
    primary = re.split(r"[-_]", str(declared).strip())[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    absolute = urljoin(base, href.strip())
    return absolute if absolute.startswith(("http://", "https://")) else None


def _first_text(elements: Iterable[HtmlElement]) -> str | None:
    for element in elements:
        text = _squash(element.text_content())
        if text:
            return _nfc(text)
    return None


def _squash(text: str) -> str:
    return " ".join(text.split())


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text) if text else ""
