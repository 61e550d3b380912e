"""Telegram edge: stored articles and digest sections → Telegram HTML messages.

Pure; imports no Telegram library. In: a `StoredArticle` with its `Tag`s, or the
`DigestSection`s of bot.digest, the chat's language and time zone, and a function
naming a topic in that language. Out: strings for `parse_mode=HTML`, every dynamic
value escaped, each under Telegram's 4096-character limit (long digests are cut by
bot.telegram.split).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import date, datetime, tzinfo
from urllib.parse import urlsplit

from bot.digest import DigestSection
from bot.models import DigestEntry, StoredArticle, Tag, UiLanguage
from bot.telegram.i18n import t, t_html
from bot.telegram.split import MESSAGE_LIMIT, split_message
from bot.telegram.topics import FACET_EMOJI

Labeler = Callable[[str, UiLanguage], str]  # (topic id, language) → readable name

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
