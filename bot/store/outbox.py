"""Storage: the outbox — every message to a chat, from queued to sent or failed.

In: rendered alerts (matching) and digests (the digest scheduler); the sender's
outcomes. Out: `OutboxMessage`s claimed under a lease, in each chat's order.

A chat's messages go out in (batch, seq, id) order and a chat is served by one
sender at a time (see claims.py); a crashed sender's lease runs out and its messages
are claimed again. A message is marked sent in the same transaction that records
Telegram's message id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, case, func, select, update

from bot.errors import StoreError
from bot.models import OutboxMessage
from bot.store.base import StoreBase, insert_ignore, thread_key, thread_of
from bot.store.chats import chat_row
from bot.store.claims import ORDER, claimable_chats, fair_share, queue_heads, ready_runs
from bot.store.engine import StoreConflict
from bot.store.schema import articles, outbox

MAX_ERROR_CHARS = 1000  # a reason is one line for /status, not a traceback
STATUSES = ("pending", "sent", "failed")


def alert_key(chat_id: int, thread_id: int | None, story_id: int) -> str:
    """The dedup key of a story's alert in one chat and thread."""
    return f"alert:{chat_id}:{thread_key(thread_id)}:{story_id}"


def add_messages(
    conn: Connection, common: dict[str, Any], parts: Sequence[tuple[str, str]]
) -> list[int]:
    """Queue (key, text) messages that belong together, in order; [] if the first key is taken."""
    ids: list[int] = []
    for seq, (key, text) in enumerate(parts):
        values = common | {"dedup_key": key, "text": text, "seq": seq, "batch": 0}
        added = insert_ignore(conn, outbox, values)
        if added is None:
            if not ids:
                return []
            raise StoreConflict(f"outbox: message {key!r} is already queued")
        ids.append(added)
    conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(batch=ids[0]))
    return ids


def queued(
    chat_id: int, thread_id: int | None, kind: str, now: datetime, **values: Any
) -> dict[str, Any]:
    """The columns every newly queued message starts with."""
    return {
        "chat_id": chat_id,
        "thread_id": thread_key(thread_id),
        "kind": kind,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "not_before": now,
    } | values


class OutboxQueries(StoreBase):
    """Queued messages, their leases and their outcomes."""

    def enqueue_alert(
        self,
        *,
        chat_id: int,
        thread_id: int | None,
        story_id: int,
        article_id: int,
        text: str,
        preview_url: str | None,
        not_before: datetime,
        now: datetime,
    ) -> int | None:
        """Queue a story's alert; None when this chat and thread already have the story
        (or the chat is inactive).

        The unique dedup key makes this hold across workers; a story merged into another
        after its alert also counts, through the stories its articles now belong to.
        """
        common = queued(
            chat_id,
            thread_id,
            "alert",
            now,
            story_id=story_id,
            article_id=article_id,
            preview_url=preview_url,
            not_before=not_before,
        )
        with self._write() as conn:
            inactive = not chat_row(conn, chat_id).active
            if inactive or _story_alerted(conn, chat_id, thread_key(thread_id), story_id):
                return None
            ids = add_messages(conn, common, [(alert_key(chat_id, thread_id, story_id), text)])
        return ids[0] if ids else None

    def claim_messages(
        self, *, worker: str, now: datetime, limit: int, lease_s: float
    ) -> list[OutboxMessage]:
        """Lease up to `limit` due messages of active chats to `worker`, oldest first."""
        if limit <= 0:
            return []
        with self._write() as conn:
            chat_ids = list(conn.execute(claimable_chats(now, limit)).scalars())
            if not chat_ids:
                return []
            rows = conn.execute(queue_heads(chat_ids, limit)).all()
            picked = fair_share(ready_runs(rows, now), limit)
            lease = {"locked_by": worker, "locked_until": now + timedelta(seconds=lease_s)}
            ids = [row.id for row in picked]
            conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(**lease))
        picked.sort(key=lambda row: (row.batch, row.seq, row.id))
        return [_message(row) for row in picked]

    def mark_sent(self, message_id: int, *, telegram_message_id: int, now: datetime) -> None:
        """Record that Telegram accepted the message, with its message id."""
        self._finish(
            message_id,
            status="sent",
            telegram_message_id=telegram_message_id,
            sent_at=now,
        )

    def mark_retry(self, message_id: int, *, error: str, not_before: datetime) -> None:
        """Give the message back to be tried again at `not_before`."""
        self._finish(
            message_id,
            attempts=outbox.c.attempts + 1,
            last_error=error[:MAX_ERROR_CHARS],
            not_before=not_before,
        )

    def mark_failed(self, message_id: int, *, error: str, now: datetime) -> None:
        """Give up on the message for good."""
        self._finish(
            message_id,
            status="failed",
            attempts=outbox.c.attempts + 1,
            last_error=error[:MAX_ERROR_CHARS],
            failed_at=now,
        )

    def release(self, message_ids: Iterable[int]) -> None:
        """Give the leases of unsent messages back (a sender shutting down)."""
        ids = sorted(set(message_ids))
        if not ids:
            return
        query = (
            update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.status == "pending")
            .values(locked_by=None, locked_until=None)
        )
        with self._write() as conn:
            conn.execute(query)

    def split_message(self, message_id: int, parts: Sequence[str]) -> list[int]:
        """Replace a pending message by `parts`, sent in its place and in order.

        The parts keep its chat, thread, kind, lease and place in the chat's queue; it
        stays behind as 'split' so its dedup key still blocks a second copy.
        """
        if not parts:
            raise ValueError("a message is split into at least one part")
        with self._write() as conn:
            row = _message_row(conn, message_id)
            if row.status != "pending":
                raise StoreError(f"outbox message {message_id} is {row.status}, not pending")
            # Make room in the batch: later messages move back by the parts added.
            conn.execute(
                update(outbox)
                .where(outbox.c.batch == row.batch, outbox.c.seq > row.seq)
                .values(seq=outbox.c.seq + len(parts) - 1)
            )
            ids = [_add_part(conn, row, index, text) for index, text in enumerate(parts)]
            conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id)
                .values(status="split", locked_by=None, locked_until=None)
            )
        return ids

    def hold_chat(self, chat_id: int, *, until: datetime) -> None:
        """Hold every pending message of one chat until `until` (Telegram's RetryAfter)."""
        later = case((outbox.c.not_before < until, until), else_=outbox.c.not_before)
        query = (
            update(outbox)
            .where(outbox.c.chat_id == chat_id, outbox.c.status == "pending")
            .values(not_before=later, locked_by=None, locked_until=None)
        )
        with self._write() as conn:
            conn.execute(query)

    def outbox_counts(self, *, now: datetime | None = None) -> dict[str, int]:
        """Messages per status: pending, sent, failed, and 'held' (pending, due later)."""
        at = now or datetime.now(UTC)
        by_status = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        held = select(func.count()).where(outbox.c.status == "pending", outbox.c.not_before > at)
        with self._read() as conn:
            counts = {status: 0 for status in STATUSES}
            for status, count in conn.execute(by_status):
                if status in counts:
                    counts[status] = int(count)
            counts["held"] = int(conn.execute(held).scalar_one())
        return counts

    def sent_messages(self, chat_id: int) -> list[tuple[int, str]]:
        """(telegram_message_id, text) of the messages sent to a chat, in send order."""
        query = (
            select(outbox.c.telegram_message_id, outbox.c.text)
            .where(outbox.c.chat_id == chat_id, outbox.c.status == "sent")
            .order_by(outbox.c.sent_at, *ORDER)
        )
        with self._read() as conn:
            return [(int(row.telegram_message_id), row.text) for row in conn.execute(query)]

    def _finish(self, message_id: int, **values: Any) -> None:
        """Update one message and end its lease; StoreError if there is no such message."""
        query = (
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(locked_by=None, locked_until=None, **values)
        )
        with self._write() as conn:
            if conn.execute(query).rowcount == 0:
                raise StoreError(f"unknown outbox message {message_id}")


def _story_alerted(conn: Connection, chat_id: int, thread: int, story_id: int) -> bool:
    """True if the chat and thread had an alert for an article now in `story_id`."""
    query = (
        select(outbox.c.id)
        .join(articles, articles.c.id == outbox.c.article_id)
        .where(
            articles.c.story_id == story_id,
            outbox.c.chat_id == chat_id,
            outbox.c.thread_id == thread,
            outbox.c.kind == "alert",
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def _message_row(conn: Connection, message_id: int) -> Row[Any]:
    row = conn.execute(
        select(outbox).where(outbox.c.id == message_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise StoreError(f"unknown outbox message {message_id}")
    return row


def _add_part(conn: Connection, row: Row[Any], index: int, text: str) -> int:
    inherited = {
        name: row._mapping[name]
        for name in (
            "chat_id",
            "thread_id",
            "kind",
            "story_id",
            "article_id",
            "batch",
            "status",
            "not_before",
            "attempts",
            "created_at",
            "locked_by",
            "locked_until",
        )
    }
    values = inherited | {
        "dedup_key": f"{row.dedup_key}/{index}",
        "seq": row.seq + index,
        "text": text,
        # One preview is enough: the first part shows it.
        "preview_url": row.preview_url if index == 0 else None,
    }
    added = insert_ignore(conn, outbox, values)
    if added is None:
        raise StoreConflict(f"outbox: message {values['dedup_key']!r} is already queued")
    return added


def _message(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        chat_id=row.chat_id,
        thread_id=thread_of(row.thread_id),
        text=row.text,
        kind=row.kind,
        preview_url=row.preview_url,
        attempts=row.attempts,
    )
