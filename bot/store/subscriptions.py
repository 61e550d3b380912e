"""Storage: which topics each chat (and forum topic) follows, and how.

In: /subscribe and /unsubscribe from the Telegram handlers. Out: `Subscription`s — a
chat's own, and those following given topics (only of chats the bot can still reach).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from types import EllipsisType
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from bot.models import Subscription
from bot.store.articles import IN_BATCH
from bot.store.base import StoreBase, insert_ignore, thread_key, thread_of
from bot.store.chats import chat_row
from bot.store.schema import chats, digest_items, outbox, subscriptions


class SubscriptionQueries(StoreBase):
    """Subscriptions of chats to taxonomy topics."""

    def subscribe(
        self, sub: Subscription, *, created_by: int | None = None, now: datetime | None = None
    ) -> bool:
        """Follow a topic; True if the subscription is new or its mode changed."""
        values = {
            "chat_id": sub.chat_id,
            "thread_id": thread_key(sub.thread_id),
            "topic": sub.topic,
            "mode": sub.mode,
            "created_at": now or datetime.now(UTC),
            "created_by": created_by,
        }
        with self._write() as conn:
            chat_row(conn, sub.chat_id)
            if insert_ignore(conn, subscriptions, values) is not None:
                return True
            changed = conn.execute(
                update(subscriptions)
                .where(
                    subscriptions.c.chat_id == sub.chat_id,
                    subscriptions.c.thread_id == thread_key(sub.thread_id),
                    subscriptions.c.topic == sub.topic,
                    subscriptions.c.mode != sub.mode,
                )
                .values(mode=sub.mode)
            )
            return changed.rowcount > 0

    def unsubscribe(
        self, chat_id: int, topics: Sequence[str] | None, *, thread_id: int | None = None
    ) -> int:
        """Stop following `topics` (None: all) in one chat and thread; how many were removed.

        Digest items of a mode no longer followed there are dropped, and so are pending
        alerts once nothing is followed instantly, so nothing arrives after the last topic.
        """
        where = [subscriptions.c.chat_id == chat_id]
        where.append(subscriptions.c.thread_id == thread_key(thread_id))
        if topics is not None:
            where.append(subscriptions.c.topic.in_(list(topics)))
        with self._write() as conn:
            removed = conn.execute(delete(subscriptions).where(*where)).rowcount
            if removed:
                _drop_unfollowed(conn, chat_id, thread_key(thread_id))
            return int(removed)

    def subscriptions(
        self, chat_id: int, *, thread_id: int | EllipsisType | None = ...
    ) -> list[Subscription]:
        """The chat's subscriptions: all threads by default, or only `thread_id` (None: none)."""
        query = select(subscriptions).where(subscriptions.c.chat_id == chat_id)
        if not isinstance(thread_id, EllipsisType):
            query = query.where(subscriptions.c.thread_id == thread_key(thread_id))
        query = query.order_by(subscriptions.c.thread_id, subscriptions.c.topic)
        with self._read() as conn:
            return [_subscription(row) for row in conn.execute(query)]

    def subscriptions_for_topics(self, topics: Iterable[str]) -> list[Subscription]:
        """Subscriptions of active chats to any of `topics`, by chat, thread and topic."""
        wanted = sorted(set(topics))
        found: list[Subscription] = []
        with self._read() as conn:
            for start in range(0, len(wanted), IN_BATCH):
                query = (
                    select(subscriptions)
                    .join(chats, chats.c.chat_id == subscriptions.c.chat_id)
                    .where(
                        chats.c.active.is_(True),
                        subscriptions.c.topic.in_(wanted[start : start + IN_BATCH]),
                    )
                )
                found.extend(_subscription(row) for row in conn.execute(query))
        return sorted(found, key=lambda s: (s.chat_id, thread_key(s.thread_id), s.topic))

    def digest_subscriptions(self) -> list[Subscription]:
        """Daily and weekly subscriptions of active chats, by chat, thread, mode and topic."""
        query = (
            select(subscriptions)
            .join(chats, chats.c.chat_id == subscriptions.c.chat_id)
            .where(chats.c.active.is_(True), subscriptions.c.mode.in_(["daily", "weekly"]))
            .order_by(
                subscriptions.c.chat_id,
                subscriptions.c.thread_id,
                subscriptions.c.mode,
                subscriptions.c.topic,
            )
        )
        with self._read() as conn:
            return [_subscription(row) for row in conn.execute(query)]


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        chat_id=row.chat_id, topic=row.topic, mode=row.mode, thread_id=thread_of(row.thread_id)
    )


def _drop_unfollowed(conn: Connection, chat_id: int, thread: int) -> None:
    """Forget what was queued for modes the chat and thread no longer follow."""
    modes = set(
        conn.execute(
            select(subscriptions.c.mode).where(
                subscriptions.c.chat_id == chat_id, subscriptions.c.thread_id == thread
            )
        ).scalars()
    )
    conn.execute(
        delete(digest_items).where(
            digest_items.c.chat_id == chat_id,
            digest_items.c.thread_id == thread,
            digest_items.c.digested_at.is_(None),
            digest_items.c.mode.not_in(sorted(modes)),
        )
    )
    if "instant" not in modes:
        conn.execute(
            update(outbox)
            .where(
                outbox.c.chat_id == chat_id,
                outbox.c.thread_id == thread,
                outbox.c.kind == "alert",
                outbox.c.status == "pending",
            )
            .values(status="failed", last_error="unsubscribed", locked_by=None, locked_until=None)
        )
