"""Benchmark fixture: realistic text, feeds and pages built from the project's own documents.

In: the labelled evaluation documents (tests/data/eval, Indonesian, English and
Vietnamese in the house style of the seed sites), the seed texts (seeds/*.txt) and the
article pages of the local seed sites (tests/data/sites, tests/data/extract). Out:
deterministic RSS feeds, article pages and synthetic stored articles, so every run
measures the same work.
"""

from __future__ import annotations

import functools
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "tests" / "data" / "eval"
SEEDS_DIR = ROOT / "seeds"
SITES_DIR = ROOT / "tests" / "data" / "sites"
EXTRACT_DIR = ROOT / "tests" / "data" / "extract"
LANGUAGES = ("vi", "en", "id")
FEED_EPOCH = datetime(2025, 12, 4, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Doc:
    """One human-written document: title, lead and body paragraphs."""

    language: str
    title: str
    lead: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """One article page as a site serves it."""

    name: str
    url: str
    html: bytes


@functools.cache
def documents() -> tuple[Doc, ...]:
    """The evaluation documents of every language."""
    docs = []
    for language in LANGUAGES:
        with (EVAL_DIR / f"{language}.yaml").open(encoding="utf-8") as fh:
            data: dict[str, Any] = yaml.safe_load(fh)
        for entry in data["documents"]:
            docs.append(
                Doc(language, entry["title"], entry["lead"], (entry["text"], entry["lead"]))
            )
    return tuple(docs)


@functools.cache
def seed_texts() -> tuple[str, ...]:
    """The seed articles, as stored in seeds/."""
    return tuple(p.read_text(encoding="utf-8") for p in sorted(SEEDS_DIR.glob("*.txt")))


@functools.cache
def paragraphs(language: str) -> tuple[str, ...]:
    """Body paragraphs in one language (seed paragraphs count as Indonesian)."""
    found = [p for d in documents() if d.language == language for p in d.paragraphs]
    if language == "id":
        for text in seed_texts():
            found.extend(p for p in text.splitlines()[1:] if len(p) > 200 and "|" not in p)
    return tuple(found)


def _rng(*key: object) -> random.Random:
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def article_doc(site: int, number: int, *, paragraph_count: int = 8) -> Doc:
    """A deterministic article for entry `number` of site `site`: a real title, new body."""
    rng = _rng("article", site, number)
    base = rng.choice(documents())
    pool = paragraphs(base.language)
    body = tuple(rng.choice(pool) for _ in range(paragraph_count))
    title = f"{base.title} ({site}-{number})"
    return Doc(base.language, title, base.lead, body)


def feed_xml(site: int, version: int, items: int, base: str) -> str:
    """Site `site`'s RSS feed at `version`: entries version … version+items-1, newest first."""
    entries = []
    for number in range(version + items - 1, version - 1, -1):
        doc = article_doc(site, number, paragraph_count=1)
        published = FEED_EPOCH + timedelta(hours=number)
        entries.append(
            "<item>"
            f"<title>{escape(doc.title)}</title>"
            f"<link>{base}/a/{number}.html</link>"
            f'<guid isPermaLink="false">site{site}-{number}</guid>'
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{escape(doc.lead + ' ' + doc.paragraphs[0])}</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Tin đối ngoại {site}</title><link>{base}/</link>"
        f"<description>Tin tức đối ngoại, site {site}</description><language>vi</language>"
        + "".join(entries)
        + "</channel></rss>"
    )


@functools.cache
def _page_template() -> str:
    return (
        "<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title>"
        "<meta property='og:title' content='{title}'>"
        "<meta property='og:site_name' content='Báo Đối ngoại {site}'>"
        "<meta property='article:published_time' content='{published}'>"
        "<link rel='canonical' href='{url}'></head><body>"
        "<header><nav><a href='/'>Trang chủ</a> <a href='/the-gioi/'>Thế giới</a> "
        "<a href='/doi-ngoai/'>Đối ngoại</a> <a href='/kinh-te/'>Kinh tế</a></nav></header>"
        "<main><article><h1 class='article__title'>{title}</h1>"
        "<div class='article__sapo'>{lead}</div>{body}</article>"
        "<aside class='box-related'><h3>Tin liên quan</h3><ul>{related}</ul></aside></main>"
        "<footer><p>Bản quyền thuộc về Báo Đối ngoại {site}</p></footer></body></html>"
    )


def article_page(site: int, number: int) -> bytes:
    """The HTML page of entry `number` of site `site`, with menus and related links."""
    related = [(f"/a/{number - k}.html", article_doc(site, number - k).title) for k in range(1, 4)]
    published = (FEED_EPOCH + timedelta(hours=number)).isoformat()
    return doc_page(
        article_doc(site, number),
        site=site,
        published=published,
        url=f"/a/{number}.html",
        related=related,
    )


def doc_page(
    doc: Doc, *, site: int, published: str, url: str, related: list[tuple[str, str]]
) -> bytes:
    """`doc` as a news site's article page: menus, headline, sapo, body, related links."""
    body = "".join(f"<p>{escape(p)}</p>" for p in doc.paragraphs)
    links = "".join(f"<li><a href='{href}'>{escape(title)}</a></li>" for href, title in related)
    return (
        _page_template()
        .format(
            lang=doc.language,
            title=escape(doc.title, {"'": "&#39;"}),
            site=site,
            published=published,
            url=url,
            lead=escape(doc.lead),
            body=body,
            related=links,
        )
        .encode()
    )


@functools.cache
def fixture_pages() -> tuple[Page, ...]:
    """Every article page of the local seed sites and the extraction fixtures."""
    from tests.sites import SITE_NAMES, fill, load_manifest

    manifest = load_manifest()
    bases = {name: f"https://{name}.example" for name in SITE_NAMES}
    today = FEED_EPOCH.date()
    pages = []
    for entry in manifest["articles"]:
        site = entry["site"]
        file_name = manifest["sites"][site]["routes"][entry["path"]]
        html = fill((SITES_DIR / site / file_name).read_text(encoding="utf-8"), bases, today)
        url = bases[site] + fill(entry["path"], bases, today)
        pages.append(Page(f"{site}/{file_name}", url, html.encode()))
    for file in sorted(EXTRACT_DIR.glob("*.html")):
        pages.append(
            Page(f"extract/{file.name}", f"https://example.org/{file.stem}", file.read_bytes())
        )
    return tuple(pages)
