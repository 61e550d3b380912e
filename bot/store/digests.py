"""Storage: what goes into digests — collected items per chat, and stored articles on demand.

In: matches for daily and weekly subscriptions (one item per chat, thread and story);
rendered digest parts. Out: `DigestEntry`s (article, tags, other sites of its story),
and queued digest messages. Tags and other copies are read with one query per
batch of articles, never one per article.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, exists, func, select, update

from bot.models import DeliveryMode, DigestEntry, StoredArticle, Tag
from bot.store.articles import IN_BATCH, _article, _select
from bot.store.base import StoreBase, insert_ignore, thread_key
from bot.store.chats import chat_row
from bot.store.outbox import add_messages, alert_key, queued
from bot.store.schema import article_tags, articles, digest_items, outbox


def digest_key(chat_id: int, thread_id: int | None, mode: DeliveryMode, day: date) -> str:
    """The key of a chat's digest for one local day, so at most one is queued per day."""
    return f"digest:{chat_id}:{thread_key(thread_id)}:{mode}:{day.isoformat()}"


class DigestQueries(StoreBase):
    """Digest items of subscribed chats and the articles a digest shows."""

    def add_digest_item(
        self,
        *,
        chat_id: int,
        thread_id: int | None,
        mode: DeliveryMode,
        story_id: int,
        article_id: int,
        now: datetime,
    ) -> bool:
        """Collect a story for the chat's next digest; False if it is already there, was
        already alerted to this chat and thread, or the chat is inactive."""
        values = {
            "chat_id": chat_id,
            "thread_id": thread_key(thread_id),
            "mode": mode,
            "story_id": story_id,
            "article_id": article_id,
            "created_at": now,
        }
        alerted = select(outbox.c.id).where(
            outbox.c.dedup_key == alert_key(chat_id, thread_id, story_id)
        )
        with self._write() as conn:
            if not chat_row(conn, chat_id).active or conn.execute(alerted).first() is not None:
                return False
            return insert_ignore(conn, digest_items, values) is not None

    def due_digest_items(
        self, chat_id: int, thread_id: int | None, mode: DeliveryMode
    ) -> list[DigestEntry]:
        """The stories collected for one chat, thread and mode and not yet in a digest."""
        query = (
            _select()
            .join(digest_items, digest_items.c.article_id == articles.c.id)
            .where(
                digest_items.c.chat_id == chat_id,
                digest_items.c.thread_id == thread_key(thread_id),
                digest_items.c.mode == mode,
                digest_items.c.digested_at.is_(None),
            )
            .order_by(digest_items.c.id)
        )
        with self._read() as conn:
            found = [_article(row) for row in conn.execute(query)]
            return _entries(conn, found)

    def enqueue_digest(
        self,
        *,
        chat_id: int,
        thread_id: int | None,
        mode: DeliveryMode,
        key: str,
        parts: Sequence[str],
        item_ids: Sequence[int] | None = None,
        now: datetime,
    ) -> list[int]:
        """Queue a digest's parts (keys f"{key}:{i}") and mark its items digested, atomically.

        `item_ids` are the `article.id`s of the entries rendered (None: every due item of
        this chat, thread and mode, even one collected since they were read). A key
        already queued, or no parts, changes nothing and gives [].
        """
        if not parts:
            return []  # nothing to send: the items stay due
        common = queued(chat_id, thread_id, "digest", now)
        keyed = [(f"{key}:{index}", text) for index, text in enumerate(parts)]
        mark = update(digest_items).where(
            digest_items.c.chat_id == chat_id,
            digest_items.c.thread_id == thread_key(thread_id),
            digest_items.c.mode == mode,
            digest_items.c.digested_at.is_(None),
        )
        with self._write() as conn:
            ids = add_messages(conn, common, keyed)
            if not ids:
                return []
            if item_ids is None:
                conn.execute(mark.values(digested_at=now))
                return ids
            wanted = sorted(set(item_ids))
            for start in range(0, len(wanted), IN_BATCH):
                batch = wanted[start : start + IN_BATCH]
                chosen = mark.where(digest_items.c.article_id.in_(batch))
                conn.execute(chosen.values(digested_at=now))
        return ids

    def digest_entries(
        self,
        *,
        since: datetime,
        topics: Sequence[str] | None,
        limit: int = 200,
        min_score: float = 0.0,
    ) -> list[DigestEntry]:
        """Relevant articles stored since `since`, one per story (its most relevant copy),
        tagged with any of `topics` (None: all) at `min_score` or more; newest first."""
        where: list[Any] = [articles.c.relevant.is_(True), articles.c.fetched_at >= since]
        if topics is not None:
            where.append(
                exists().where(
                    article_tags.c.article_id == articles.c.id,
                    article_tags.c.tag_id.in_(sorted(set(topics))),
                    article_tags.c.score >= min_score,
                )
            )
        best = func.row_number().over(
            partition_by=articles.c.story_id,
            order_by=(articles.c.relevance.desc(), articles.c.id),
        )
        ranked = select(articles.c.id, articles.c.fetched_at, best.label("rank"))
        chosen = ranked.where(*where).subquery()
        ids = (
            select(chosen.c.id)
            .where(chosen.c.rank == 1)
            .order_by(chosen.c.fetched_at.desc(), chosen.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            picked = list(conn.execute(ids).scalars())
            rows = conn.execute(_select().where(articles.c.id.in_(picked))).all()
            by_id = {row.id: _article(row) for row in rows}
            return _entries(conn, [by_id[article_id] for article_id in picked])


def _entries(conn: Connection, found: list[StoredArticle]) -> list[DigestEntry]:
    """Attach tags and the other sites of each article's story."""
    tags = _tags(conn, [article.id for article in found])
    copies = _copies(conn, sorted({article.story_id for article in found}))
    return [
        DigestEntry(
            article=article,
            tags=tuple(tags.get(article.id, ())),
            also_in=_also_in(article, copies.get(article.story_id, ())),
        )
        for article in found
    ]


def _tags(conn: Connection, article_ids: list[int]) -> dict[int, list[Tag]]:
    """Each article's tags, strongest first."""
    found: dict[int, list[Tag]] = defaultdict(list)
    for start in range(0, len(article_ids), IN_BATCH):
        query = (
            select(article_tags)
            .where(article_tags.c.article_id.in_(article_ids[start : start + IN_BATCH]))
            .order_by(article_tags.c.article_id, article_tags.c.score.desc(), article_tags.c.tag_id)
        )
        for row in conn.execute(query):
            found[row.article_id].append(
                Tag(
                    id=row.tag_id,
                    facet=row.facet,
                    label=row.label,
                    score=row.score,
                    evidence=row.evidence,
                )
            )
    return found


def _copies(conn: Connection, story_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """(article id, site) of every article of each story, in the order they were stored."""
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for start in range(0, len(story_ids), IN_BATCH):
        query = (
            select(articles.c.story_id, articles.c.id, articles.c.site, articles.c.source)
            .where(articles.c.story_id.in_(story_ids[start : start + IN_BATCH]))
            .order_by(articles.c.fetched_at, articles.c.id)
        )
        for row in conn.execute(query):
            found[row.story_id].append((row.id, row.site or row.source))
    return found


def _also_in(article: StoredArticle, copies: Sequence[tuple[int, str]]) -> tuple[str, ...]:
    """The other sites that carried the story, each once, not the article's own."""
    own = article.site or article.source
    sites: list[str] = []
    for article_id, site in copies:
        if article_id != article.id and site != own and site not in sites:
            sites.append(site)
    return tuple(sites)
