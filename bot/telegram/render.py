"""Telegram edge: stored articles and digest sections → Telegram HTML messages.

Pure; imports no Telegram library. In: a `StoredArticle` with its `Tag`s, or the
`DigestSection`s of bot.digest, the chat's language and time zone, and a function
naming a topic in that language. Out: strings for `parse_mode=HTML`, every dynamic
value escaped, each under Telegram's 4096-character limit. `split_message` cuts a
long message on paragraph boundaries, then lines, then words, never inside a tag or
an entity, and closes and reopens tags at a cut so every part stands on its own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from urllib.parse import urlsplit

from bot.digest import DigestSection
from bot.models import DigestEntry, StoredArticle, Tag, UiLanguage
from bot.telegram.i18n import t, t_html
from bot.telegram.topics import FACET_EMOJI

Labeler = Callable[[str, UiLanguage], str]  # (topic id, language) → readable name

MESSAGE_LIMIT = 4096  # Telegram's maximum message length
MAX_ENTITIES = 100  # Telegram's maximum number of formatted spans in one message
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 700  # keeps an alert well under one message, even with a long URL
MAX_DIGEST_SUMMARY_CHARS = 200  # a digest item's summary is one line
MAX_TAGS_PER_FACET = 3
TAG_FACET_ORDER = ("partner", "theme", "org", "event", "place")
LINK_SCHEMES = ("http", "https")  # Telegram refuses links of other schemes
DATE_TIME = "%d/%m/%Y %H:%M"
DATE = "%d/%m/%Y"


def escape(text: str) -> str:
    """Text made safe for Telegram HTML, its white space collapsed to single spaces."""
    return html.escape(" ".join(text.split()), quote=False)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters with '…'."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return head.rstrip(" ,;:.-–—") + "…"


def site_name(article: StoredArticle) -> str:
    """The publisher's name: the page's site name, else the host, else the source name."""
    if article.site and article.site.strip():
        return article.site.strip()
    host = urlsplit(article.url).hostname or ""
    return host.removeprefix("www.") or article.source


def local_time(article: StoredArticle, tz: tzinfo) -> datetime:
    """When the article was published (or fetched, when undated) in the chat's time zone."""
    return (article.published_at or article.fetched_at).astimezone(tz)


def link(url: str, text: str) -> str:
    """`<a href>` around already-escaped `text`; the bare text for a URL Telegram refuses."""
    if urlsplit(url.strip()).scheme.lower() not in LINK_SCHEMES:
        return text
    return f'<a href="{html.escape(url.strip(), quote=True)}">{text}</a>'


def tag_line(tags: Sequence[Tag], lang: UiLanguage, labels: Labeler) -> str:
    """Tags as readable names grouped by facet: '🌏 Japan · 🤝 People-to-people diplomacy'."""
    by_facet: dict[str, list[Tag]] = {}
    for tag in sorted(tags, key=lambda tag: (-tag.score, tag.id)):
        group = by_facet.setdefault(tag.facet, [])
        if tag.id not in (known.id for known in group):
            group.append(tag)
    facets = [f for f in TAG_FACET_ORDER if f in by_facet]
    facets += sorted(f for f in by_facet if f not in TAG_FACET_ORDER)
    groups = []
    for facet in facets:
        names = [escape(labels(tag.id, lang)) for tag in by_facet[facet][:MAX_TAGS_PER_FACET]]
        groups.append(f"{FACET_EMOJI.get(facet, '🏷')} {', '.join(names)}")
    return " · ".join(groups)


def alert(
    article: StoredArticle,
    tags: Sequence[Tag],
    *,
    also_in: Sequence[str],
    lang: UiLanguage,
    tz: tzinfo,
    labels: Labeler,
) -> str:
    """One article as an alert: title, site and date, summary, tags, link, other copies."""
    site = site_name(article)
    when = local_time(article, tz).strftime(DATE_TIME)
    title = escape(shorten(article.title, MAX_TITLE_CHARS))
    blocks = [f"<b>{title}</b>\n{escape(site)} · {when}"]
    summary = article.summary or article.lead
    if summary and summary.strip():
        blocks.append(escape(shorten(summary, MAX_SUMMARY_CHARS)))
    tagged = tag_line(tags, lang, labels)
    if tagged:
        blocks.append(tagged)
    footer = "🔗 " + link(article.url, t_html(lang, "render.read", site=" ".join(site.split())))
    others = _other_sites(also_in, site)
    if others:
        footer += "\n" + t_html(lang, "render.also_in", sites=", ".join(others))
    blocks.append(footer)
    return "\n\n".join(blocks)


def _other_sites(sites: Sequence[str], own: str) -> list[str]:
    """Site names without repeats, blanks or the alert's own site."""
    seen = {own.strip().casefold()}
    kept = []
    for site in sites:
        name = " ".join(site.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    return kept


def digest_title(lang: UiLanguage, day: date) -> str:
    """'Duta digest — 31/12/2025' in `lang` (plain text; `digest` escapes it)."""
    return t(lang, "digest.title", date=day.strftime(DATE))


def digest(
    sections: Sequence[DigestSection],
    *,
    title: str,
    lang: UiLanguage,
    tz: tzinfo,
    labels: Labeler,
    limit: int = MESSAGE_LIMIT,
) -> list[str]:
    """A digest as messages: the title, then each theme's items; [] when there are none."""
    if not any(section.entries for section in sections):
        return []
    blocks = [f"<b>{escape(title)}</b>"]
    for section in sections:
        if not section.entries:
            continue
        name = labels(section.theme, lang) if section.theme else t(lang, "render.other")
        items = [digest_item(entry, tz) for entry in section.entries]
        # The heading shares a paragraph with the first item, so a cut never orphans it.
        blocks.append(f"<b>{escape(name)}</b>\n{items[0]}")
        blocks.extend(items[1:])
    return split_message("\n\n".join(blocks), limit)


def digest_item(entry: DigestEntry, tz: tzinfo) -> str:
    """'• <a href=…>title</a> — site, date' and a one-line summary."""
    article = entry.article
    title = link(article.url, escape(shorten(article.title, MAX_TITLE_CHARS)))
    when = local_time(article, tz).strftime(DATE)
    line = f"• {title} — {escape(site_name(article))}, {when}"
    summary = article.summary or article.lead
    if summary and summary.strip():
        line += "\n" + escape(shorten(summary, MAX_DIGEST_SUMMARY_CHARS))
    return line


def why(article: StoredArticle, tags: Sequence[Tag], *, lang: UiLanguage, labels: Labeler) -> str:
    """The /why reply: the article, the relevance decision, and each tag with its evidence."""
    head = link(article.url, f"<b>{escape(shorten(article.title, MAX_TITLE_CHARS))}</b>")
    source = f"{t(lang, 'render.source')}: {escape(site_name(article))}"
    blocks = [f"{head}\n{source}"]
    if article.relevant is None:
        blocks.append(t(lang, "why.untagged"))
        return "\n\n".join(blocks)
    verdict = "why.relevant" if article.relevant else "why.not_relevant"
    blocks.append(t(lang, verdict, score=f"{article.relevance or 0.0:.2f}"))
    if not tags:
        blocks.append(t(lang, "why.no_tags"))
        return "\n\n".join(blocks)
    lines = [t(lang, "why.tags")]
    for tag in sorted(tags, key=lambda tag: (-tag.score, tag.id)):
        evidence = ", ".join(f"“{phrase}”" for phrase in tag.evidence) or "—"
        lines.append(
            t_html(
                lang,
                "why.tag",
                label=" ".join(labels(tag.id, lang).split()),
                topic=tag.id,
                score=f"{tag.score:.2f}",
                evidence=" ".join(evidence.split()),
            )
        )
    blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# --- splitting ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<tag><(?P<close>/?)(?P<name>[a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});)"
    r"|(?P<space>\s+)"
    r"|(?P<char>.)",
    re.DOTALL,
)
PARAGRAPH, LINE, WORD, ANYWHERE = 3, 2, 1, 0  # where a message may be cut, best first


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    cut: int = ANYWHERE  # for white space: the kind of boundary it is
    opens: str = ""  # tag name, for an opening tag
    closes: str = ""  # tag name, for a closing tag


def _tokens(text: str) -> list[_Token]:
    """Tags, entities and white space as single tokens; any other character alone."""
    tokens = []
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if match.group("tag"):
            name = match.group("name").lower()
            tokens.append(
                _Token(piece, closes=name) if match.group("close") else _Token(piece, opens=name)
            )
        elif match.group("space"):
            newlines = piece.count("\n")
            tokens.append(
                _Token(piece, cut=PARAGRAPH if newlines > 1 else LINE if newlines else WORD)
            )
        else:
            tokens.append(_Token(piece))
    return tokens


def _width(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), never less than len()."""
    return len(text.encode("utf-16-le")) // 2


class _Splitter:
    """Greedy packing of token ranges; a range is a part with its open tags re-balanced."""

    def __init__(self, tokens: list[_Token], limit: int, max_entities: int) -> None:
        self.tokens, self.limit, self.max_entities = tokens, limit, max_entities
        self.width = [0]  # prefix sums of token widths
        self.entities = [0]  # prefix sums of opening tags
        self.stacks: list[tuple[_Token, ...]] = [()]  # tags open before each token
        stack: tuple[_Token, ...] = ()
        for token in tokens:
            self.width.append(self.width[-1] + _width(token.text))
            self.entities.append(self.entities[-1] + bool(token.opens))
            if token.opens:
                stack = (*stack, token)
            elif token.closes and token.closes in (tag.opens for tag in stack):
                names = [tag.opens for tag in stack]
                stack = stack[: len(names) - 1 - names[::-1].index(token.closes)]
            self.stacks.append(stack)

    def fits(self, start: int, end: int) -> bool:
        reopen, close = self.stacks[start], self.stacks[end]
        width = sum(_width(tag.text) for tag in reopen) + self.width[end] - self.width[start]
        width += sum(len(tag.opens) + 3 for tag in close)
        entities = len(reopen) + self.entities[end] - self.entities[start]
        return width <= self.limit and entities <= self.max_entities

    def render(self, start: int, end: int) -> str:
        reopen = "".join(tag.text for tag in self.stacks[start])
        body = "".join(token.text for token in self.tokens[start:end])
        close = "".join(f"</{tag.opens}>" for tag in reversed(self.stacks[end]))
        return reopen + body + close

    def visible(self, start: int, end: int) -> bool:
        return any(
            not (token.opens or token.closes or token.text.isspace())
            for token in self.tokens[start:end]
        )

    def pack(self, start: int, end: int, level: int) -> list[tuple[int, int]]:
        """Ranges covering [start, end), cut at boundaries of `level`, lower ones if needed."""
        if level == ANYWHERE:
            return self.hard_cut(start, end)
        parts: list[tuple[int, int]] = []
        current: tuple[int, int] | None = None
        for piece_start, piece_end in self.pieces(start, end, level):
            if current and self.fits(current[0], piece_end):
                current = (current[0], piece_end)
                continue
            if current:
                parts.append(current)
                current = None
            if self.fits(piece_start, piece_end):
                current = (piece_start, piece_end)
            else:
                parts.extend(self.pack(piece_start, piece_end, level - 1))
        if current:
            parts.append(current)
        return parts

    def pieces(self, start: int, end: int, level: int) -> list[tuple[int, int]]:
        """The non-empty ranges between white space of at least `level`."""
        found, begin = [], start
        for index in range(start, end):
            if self.tokens[index].cut >= level:  # only white space has a cut level
                if index > begin:
                    found.append((begin, index))
                begin = index + 1
        if end > begin:
            found.append((begin, end))
        return found

    def hard_cut(self, start: int, end: int) -> list[tuple[int, int]]:
        """A range without white space, cut between characters, tags and entities."""
        parts = []
        while start < end:
            stop = start + 1
            while stop < end and self.fits(start, stop + 1):
                stop += 1
            while stop - 1 > start and self.tokens[stop - 1].opens:
                stop -= 1  # an opening tag belongs with the text it formats
            parts.append((start, stop))
            start = stop
        return parts


def split_message(
    text: str, limit: int = MESSAGE_LIMIT, *, max_entities: int = MAX_ENTITIES
) -> list[str]:
    """Telegram HTML cut into parts of at most `limit` characters and `max_entities` tags.

    Cuts fall between paragraphs (blank lines) where possible, else between lines,
    else between words, else between characters — never inside a tag or an entity;
    the white space at a cut is dropped. Tags open at a cut are closed at the end of
    the part and reopened at the start of the next. Parts with no visible text are
    dropped. ValueError when the markup alone cannot fit (a link longer than `limit`).
    """
    splitter = _Splitter(_tokens(text), limit, max_entities)
    end = len(splitter.tokens)
    if splitter.fits(0, end):
        return [text] if splitter.visible(0, end) else []
    ranges = splitter.pack(0, end, PARAGRAPH)
    parts = [splitter.render(a, b) for a, b in ranges if splitter.visible(a, b)]
    for part in parts:
        if _width(part) > limit:
            raise ValueError(f"cannot split a message into parts of {limit} characters")
    return parts
