"""Storage: what the tagging stage decided about each article.

In: a `Tagging` and a summary per article. Out: the article's `Tag`s with their
evidence, and the ids of stored articles (for re-tagging after a taxonomy change).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from bot.errors import StoreError
from bot.models import Tag, Tagging
from bot.store.base import StoreBase
from bot.store.schema import article_tags, articles


class TaggingQueries(StoreBase):
    """Tags, relevance and summaries of stored articles."""

    def set_tagging(
        self, article_id: int, tagging: Tagging, summary: str, *, now: datetime
    ) -> None:
        """Record the tagger's verdict and summary, replacing the article's previous tags."""
        with self._write() as conn:
            write_tagging(conn, article_id, tagging, summary, now=now)

    def article_tags(self, article_id: int) -> list[Tag]:
        """The article's tags, strongest first."""
        query = (
            select(article_tags)
            .where(article_tags.c.article_id == article_id)
            .order_by(article_tags.c.score.desc(), article_tags.c.tag_id)
        )
        with self._read() as conn:
            return [
                Tag(
                    id=row.tag_id,
                    facet=row.facet,
                    label=row.label,
                    score=row.score,
                    evidence=row.evidence,
                )
                for row in conn.execute(query)
            ]

    def iter_article_ids(self) -> list[int]:
        """The ids of all stored articles, oldest first."""
        with self._read() as conn:
            return list(conn.execute(select(articles.c.id).order_by(articles.c.id)).scalars())


def write_tagging(
    conn: Connection, article_id: int, tagging: Tagging, summary: str, *, now: datetime
) -> None:
    """`set_tagging` inside a caller's transaction."""
    found = conn.execute(
        update(articles)
        .where(articles.c.id == article_id)
        .values(**verdict(tagging, summary, now=now))
    )
    if found.rowcount == 0:
        raise StoreError(f"unknown article {article_id}")
    conn.execute(delete(article_tags).where(article_tags.c.article_id == article_id))
    if tagging.tags:
        conn.execute(insert(article_tags), tag_rows(article_id, tagging))


def verdict(tagging: Tagging, summary: str, *, now: datetime) -> dict[str, Any]:
    """The article columns the tagging stage sets."""
    return {
        "detected_language": tagging.language,
        "relevant": tagging.relevant,
        "relevance": tagging.relevance,
        "summary": summary,
        "tagged_at": now,
    }


def tag_rows(article_id: int, tagging: Tagging) -> list[dict[str, Any]]:
    """The article_tags rows of one article."""
    return [
        {
            "article_id": article_id,
            "tag_id": tag.id,
            "facet": tag.facet,
            "label": tag.label,
            "score": tag.score,
            "evidence": tag.evidence,
        }
        for tag in tagging.tags
    ]
