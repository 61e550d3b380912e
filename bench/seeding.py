"""Benchmark fixture: fill a Duta store fast, straight into its tables in large transactions.

In: a migrated store's database URL. Out: stories, articles and their tags as the
pipeline would have written them — realistic titles, text (eight paragraphs of
human-written news), leads, summaries and the tags the real tagger gives the
document each article is built on. One transaction per batch instead of one per
article is what makes 100,000 articles take seconds.

Fingerprints of the bulk articles are random 64-bit values (SimHash values of
unrelated texts are as good as random); feed entries preloaded for a poll cycle get
their real fingerprint, since the cycle compares new entries against them.
"""

from __future__ import annotations

import functools
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from bench.corpus import ROOT, Doc, article_doc, documents, paragraphs
from bot import dedup
from bot.store.engine import database_url, make_engine
from bot.store.schema import article_tags, articles, stories
from bot.tagging import Tagger
from bot.taxonomy import load_taxonomy

BATCH = 2000
ARTICLES_PER_DAY = 1000
DOMAINS = (
    "nhandan.vn",
    "en.nhandan.vn",
    "baoquocte.vn",
    "thoidai.com.vn",
    "vietnamtimes.org.vn",
    "www.vietnam.vn",
    "www.vietnamplus.vn",
    "en.vietnamplus.vn",
    "vnexpress.net",
    "tapchicongsan.org.vn",
)


@dataclass(frozen=True, slots=True)
class Tagged:
    """A document's tagging as the pipeline would store it."""

    language: str
    relevant: bool
    relevance: float
    tags: tuple[dict[str, Any], ...]


def engine_for(url: str) -> Engine:
    """An engine configured as the store configures its own."""
    return make_engine(database_url(url))


@functools.cache
def tagger() -> Tagger:
    """The tagger over the project's taxonomy."""
    return Tagger(load_taxonomy(ROOT / "seeds" / "taxonomy.yaml"))


@functools.cache
def taggings() -> dict[str, Tagged]:
    """The real tagging of every corpus document, by title."""
    found = {}
    for doc in documents():
        result = tagger().tag(title=doc.title, lead=doc.lead, text="\n".join(doc.paragraphs))
        tags = tuple(
            {
                "tag_id": t.id,
                "facet": t.facet,
                "label": t.label,
                "score": t.score,
                "evidence": t.evidence,
            }
            for t in result.tags
        )
        found[doc.title] = Tagged(result.language, result.relevant, result.relevance, tags)
    return found


def _slug(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title.replace("đ", "d").replace("Đ", "D"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
    return "-".join(words[:12])


def _next_ids(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        story = conn.execute(select(func.coalesce(func.max(stories.c.id), 0))).scalar_one()
        article = conn.execute(select(func.coalesce(func.max(articles.c.id), 0))).scalar_one()
    return int(story) + 1, int(article) + 1


def _article_row(
    doc: Doc, *, article_id: int, story_id: int, url: str, fetched_at: datetime, fp: int
) -> dict[str, Any]:
    tagged = taggings().get(doc.title.rsplit(" (", 1)[0])
    return {
        "id": article_id,
        "story_id": story_id,
        "source": url.split("/")[2],
        "url": url,
        "canonical_url": url,
        "title": doc.title,
        "text": "\n".join(doc.paragraphs),
        "lead": doc.lead,
        "published_at": fetched_at - timedelta(minutes=37),
        "fetched_at": fetched_at,
        "author": None,
        "site": url.split("/")[2],
        "language": doc.language,
        "image": url.removesuffix(".html") + ".jpg",
        "fingerprint": fp,
        "credit_url": None,
        "detected_language": tagged.language if tagged else doc.language,
        "relevant": tagged.relevant if tagged else False,
        "relevance": tagged.relevance if tagged else 0.0,
        "summary": doc.lead,
        "tagged_at": fetched_at,
    }


def _tag_rows(article_id: int, title: str) -> list[dict[str, Any]]:
    tagged = taggings().get(title.rsplit(" (", 1)[0])
    return [{"article_id": article_id, **tag} for tag in (tagged.tags if tagged else ())]


def _synthetic(
    count: int, now: datetime, first_story: int, first_article: int
) -> Iterator[tuple[dict[str, Any] | None, dict[str, Any], list[dict[str, Any]]]]:
    """(new story or None, article, tags) for `count` articles, oldest first."""
    rng = random.Random(20251204)
    docs = documents()
    span = timedelta(days=count / ARTICLES_PER_DAY)
    story_id = first_story - 1
    for n in range(count):
        article_id = first_article + n
        base = rng.choice(docs)
        body = tuple(rng.choice(paragraphs(base.language)) for _ in range(8))
        doc = Doc(base.language, f"{base.title} ({article_id})", base.lead, body)
        fetched_at = now - span * (count - 1 - n) / count
        domain = rng.choice(DOMAINS)
        url = f"https://{domain}/{_slug(base.title)}-{article_id}.html"
        new_story = None
        joins = story_id >= first_story and rng.random() < 0.15  # copies join a recent story
        story = rng.randint(max(first_story, story_id - 200), story_id) if joins else None
        if story is None:
            story_id += 1
            story = story_id
            new_story = {"id": story, "created_at": fetched_at}
        fp = rng.getrandbits(64) - (1 << 63)
        row = _article_row(
            doc, article_id=article_id, story_id=story, url=url, fetched_at=fetched_at, fp=fp
        )
        yield new_story, row, _tag_rows(article_id, doc.title)


def fill(url: str, count: int, now: datetime) -> None:
    """Add `count` tagged articles fetched over the days before `now` (1,000 a day)."""
    engine = engine_for(url)
    try:
        first_story, first_article = _next_ids(engine)
        batch: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        for new_story, row, tags in _synthetic(count, now, first_story, first_article):
            if new_story is not None:
                batch[0].append(new_story)
            batch[1].append(row)
            batch[2].extend(tags)
            if len(batch[1]) >= BATCH:
                _write(engine, *batch)
                batch = ([], [], [])
        _write(engine, *batch)
        _fix_sequences(engine)
    finally:
        engine.dispose()


def _write(
    engine: Engine,
    new_stories: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    tags: list[dict[str, Any]],
) -> None:
    with engine.begin() as conn:
        if new_stories:
            conn.execute(insert(stories), new_stories)
        if rows:
            conn.execute(insert(articles), rows)
        if tags:
            conn.execute(insert(article_tags), tags)


def _fix_sequences(engine: Engine) -> None:
    """PostgreSQL: move the id sequences past the explicit ids written above."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in ("stories", "articles"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )


@functools.cache
def _entry_fingerprint(site: int, number: int) -> int:
    doc = article_doc(site, number, paragraph_count=1)
    return dedup.fingerprint(doc.lead + " " + doc.paragraphs[0])


def preload_entries(
    url: str, feed_bases: list[str], version: int, items: int, now: datetime
) -> int:
    """Store the entries every feed lists at `version`, as an earlier cycle would have."""
    engine = engine_for(url)
    try:
        story_id, article_id = _next_ids(engine)
        new_stories, rows = [], []
        for site, base in enumerate(feed_bases):
            for number in range(version, version + items):
                doc = article_doc(site, number, paragraph_count=1)
                entry = Doc(
                    doc.language, doc.title, doc.lead, (doc.lead + " " + doc.paragraphs[0],)
                )
                link = dedup.canonical_url(f"{base}/a/{number}.html")
                new_stories.append({"id": story_id, "created_at": now})
                rows.append(
                    _article_row(
                        entry,
                        article_id=article_id,
                        story_id=story_id,
                        url=link,
                        fetched_at=now,
                        fp=_entry_fingerprint(site, number),
                    )
                )
                story_id += 1
                article_id += 1
        for start in range(0, len(rows), BATCH):
            _write(engine, new_stories[start : start + BATCH], rows[start : start + BATCH], [])
        return len(rows)
    finally:
        engine.dispose()
