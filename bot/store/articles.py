"""Storage: articles, the stories that group them, and pages rejected on the way.

In: `NewArticle`s from dedup and rejections from extraction. Out: `StoredArticle`s,
the URLs already seen, and what story linking needs (stories by URL, credit and
recent fingerprints).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, func, insert, select, update

from bot.models import NewArticle, StoredArticle, Tagging
from bot.store.base import StoreBase
from bot.store.engine import StoreConflict
from bot.store.schema import article_tags, articles, rejections, stories
from bot.store.tagging import tag_rows, verdict

# Bound parameters per IN (...) query; far below every backend's limit.
IN_BATCH = 500


class ArticleQueries(StoreBase):
    """Stored articles and rejected pages."""

    def known_urls(self, canonical_urls: Iterable[str]) -> set[str]:
        """Those of `canonical_urls` already stored as an article or a rejection."""
        wanted = sorted(set(canonical_urls))
        found: set[str] = set()
        with self._read() as conn:
            for start in range(0, len(wanted), IN_BATCH):
                batch = wanted[start : start + IN_BATCH]
                query = (
                    select(articles.c.canonical_url)
                    .where(articles.c.canonical_url.in_(batch))
                    .union(
                        select(rejections.c.canonical_url).where(
                            rejections.c.canonical_url.in_(batch)
                        )
                    )
                )
                found.update(conn.execute(query).scalars())
        return found

    def add_rejection(
        self, *, source: str, url: str, canonical_url: str, reason: str, now: datetime
    ) -> None:
        """Remember a fetched page that was not stored; a second call for a URL is a no-op."""
        values = {
            "source": source,
            "url": url,
            "canonical_url": canonical_url,
            "reason": reason,
            "at": now,
        }
        try:
            with self._write() as conn:
                conn.execute(insert(rejections).values(**values))
        except StoreConflict:
            pass  # already rejected: the first reason stands

    def story_of_url(self, canonical_url: str) -> int | None:
        """The story of the article stored under `canonical_url`, if any."""
        query = select(articles.c.story_id).where(articles.c.canonical_url == canonical_url)
        with self._read() as conn:
            return conn.execute(query).scalar_one_or_none()

    def story_crediting(self, canonical_url: str) -> int | None:
        """The story of the earliest stored article that credits `canonical_url` as its source."""
        query = (
            select(articles.c.story_id)
            .where(articles.c.credit_url == canonical_url)
            .order_by(articles.c.id)
            .limit(1)
        )
        with self._read() as conn:
            return conn.execute(query).scalar_one_or_none()

    def recent_fingerprints(self, since: datetime) -> list[tuple[int, int]]:
        """(story_id, fingerprint) of every article fetched at or after `since`."""
        query = (
            select(articles.c.story_id, articles.c.fingerprint)
            .where(articles.c.fetched_at >= since)
            .order_by(articles.c.id)
        )
        with self._read() as conn:
            return [(row.story_id, row.fingerprint) for row in conn.execute(query)]

    def add_article(
        self,
        article: NewArticle,
        *,
        story_id: int | None,
        now: datetime,
        tagged: tuple[Tagging, str] | None = None,
    ) -> StoredArticle | None:
        """Store an article in `story_id`, or in a new story when None, with its
        (tagging, summary) when given, in one transaction.

        Returns None, with nothing changed, when `canonical_url` is already stored —
        also when another worker stored it a moment earlier.
        """
        values = _values(article) | {"fetched_at": now}
        if tagged is not None:
            values |= verdict(*tagged, now=now)
        try:
            with self._write() as conn:
                if story_id is None:
                    story_id = _new_story(conn, now)
                values["story_id"] = story_id
                # statements built once and given their values as parameters: SQLAlchemy
                # then reuses the compiled form instead of building a statement per article
                article_id = int(conn.execute(_INSERT_ARTICLE, values).scalar_one())
                if tagged is not None and tagged[0].tags:
                    conn.execute(insert(article_tags), tag_rows(article_id, tagged[0]))
        except StoreConflict:
            if self.story_of_url(article.canonical_url) is not None:
                return None
            raise  # not a duplicate URL: e.g. an unknown story_id
        return _stored(article_id, values)

    def merge_stories(self, story_id: int, others: Iterable[int]) -> None:
        """Move every article of the `others` stories into `story_id` and drop those stories."""
        merged = sorted(set(others) - {story_id})
        if not merged:
            return
        with self._write() as conn:
            moved = articles.c.story_id.in_(merged)
            conn.execute(update(articles).where(moved).values(story_id=story_id))
            conn.execute(delete(stories).where(stories.c.id.in_(merged)))

    def get_article(self, article_id: int) -> StoredArticle | None:
        """The article with this id, if stored."""
        return self._one(_select().where(articles.c.id == article_id))

    def article_by_url(self, canonical_url: str) -> StoredArticle | None:
        """The article stored under this canonical URL, if any."""
        return self._one(_select().where(articles.c.canonical_url == canonical_url))

    def story_articles(self, story_id: int) -> list[StoredArticle]:
        """Every article of one story, in the order they were fetched."""
        query = _select().where(articles.c.story_id == story_id)
        return self._many(query.order_by(articles.c.fetched_at, articles.c.id))

    def articles_since(self, since: datetime, *, limit: int = 1000) -> list[StoredArticle]:
        """Articles fetched at or after `since`, newest first, at most `limit`."""
        query = _select().where(articles.c.fetched_at >= since)
        order = (articles.c.fetched_at.desc(), articles.c.id.desc())
        return self._many(query.order_by(*order).limit(limit))

    def count_articles(self) -> int:
        """How many articles are stored."""
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())

    def _one(self, query: Select[Any]) -> StoredArticle | None:
        with self._read() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else _article(row)

    def _many(self, query: Select[Any]) -> list[StoredArticle]:
        with self._read() as conn:
            return [_article(row) for row in conn.execute(query)]


_INSERT_STORY = insert(stories).returning(stories.c.id)
_INSERT_ARTICLE = insert(articles).returning(articles.c.id)


def _new_story(conn: Connection, now: datetime) -> int:
    return int(conn.execute(_INSERT_STORY, {"created_at": now}).scalar_one())


def _stored(article_id: int, values: dict[str, Any]) -> StoredArticle:
    """The article just inserted, as a read would return it (dates in UTC)."""
    row: dict[str, Any] = {name: values.get(name) for name in _COLUMNS} | {"id": article_id}
    for name in ("published_at", "fetched_at"):
        if row[name] is not None:
            row[name] = row[name].astimezone(UTC)
    return StoredArticle(**row)


def _values(article: NewArticle) -> dict[str, Any]:
    return {
        "source": article.source,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "text": article.text,
        "lead": article.lead,
        "published_at": article.published_at,
        "author": article.author,
        "site": article.site,
        "language": article.language,
        "image": article.image,
        "fingerprint": article.fingerprint,
        "credit_url": article.credit_url,
    }


_COLUMNS = (
    "id",
    "story_id",
    "source",
    "url",
    "canonical_url",
    "title",
    "text",
    "lead",
    "published_at",
    "fetched_at",
    "language",
    "site",
    "author",
    "image",
    "credit_url",
    "detected_language",
    "relevant",
    "relevance",
    "summary",
)


def _select() -> Select[Any]:
    return select(*(articles.c[name] for name in _COLUMNS))


def _article(row: Row[Any]) -> StoredArticle:
    return StoredArticle(**{name: row._mapping[name] for name in _COLUMNS})
