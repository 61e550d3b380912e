"""Storage: how a sender's claim picks messages from the outbox.

In: the time and how many messages a sender wants. Out: the queries and the choice.

A chat's messages go out in (batch, seq, id) order, and a chat is served by one
sender at a time: a claim takes, per chat, the run of due and unleased messages at
the head of its queue, so a message held back (a retry, quiet hours, RetryAfter)
holds back the ones after it, and a chat whose head is leased is left alone. On
PostgreSQL the chats being claimed are locked with FOR UPDATE SKIP LOCKED, so
concurrent senders pick different chats instead of waiting; the leases they write
keep others away until they run out. SQLite's BEGIN IMMEDIATE serialises claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, or_, select

from bot.store.schema import chats, outbox

ORDER = (outbox.c.batch, outbox.c.seq, outbox.c.id)


def lease_free(table: Any, now: datetime) -> ColumnElement[bool]:
    """No sender holds the row, or its lease ran out."""
    return or_(table.c.locked_until.is_(None), table.c.locked_until <= now)


def claimable_chats(now: datetime, limit: int) -> Select[Any]:
    """Active chats whose first pending message is due and unleased; oldest queue first."""
    due = select(outbox.c.chat_id).where(
        outbox.c.status == "pending", outbox.c.not_before <= now, lease_free(outbox, now)
    )
    queue = outbox.alias("queue")
    head_ready = (
        select(case((and_(queue.c.not_before <= now, lease_free(queue, now)), 1), else_=0))
        .where(queue.c.chat_id == chats.c.chat_id, queue.c.status == "pending")
        .order_by(queue.c.batch, queue.c.seq, queue.c.id)
        .limit(1)
        .scalar_subquery()
    )
    oldest = (
        select(func.min(queue.c.batch))
        .where(queue.c.chat_id == chats.c.chat_id, queue.c.status == "pending")
        .scalar_subquery()
    )
    return (
        select(chats.c.chat_id)
        .where(chats.c.active.is_(True), chats.c.chat_id.in_(due), head_ready == 1)
        .order_by(oldest, chats.c.chat_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def queue_heads(chat_ids: list[int], limit: int) -> Select[Any]:
    """The first `limit` pending messages of each chat, in the chat's order."""
    position = func.row_number().over(partition_by=outbox.c.chat_id, order_by=ORDER)
    ranked = (
        select(outbox, position.label("position"))
        .where(outbox.c.chat_id.in_(chat_ids), outbox.c.status == "pending")
        .subquery()
    )
    return (
        select(ranked)
        .where(ranked.c.position <= limit)
        .order_by(ranked.c.chat_id, ranked.c.position)
    )


def ready_runs(rows: Sequence[Row[Any]], now: datetime) -> list[list[Row[Any]]]:
    """Per chat, the messages before the first one that is not due or is leased."""
    runs: dict[int, list[Row[Any]]] = {}
    blocked: set[int] = set()
    for row in rows:
        if row.chat_id in blocked:
            continue
        leased = row.locked_until is not None and row.locked_until > now
        if row.not_before > now or leased:
            blocked.add(row.chat_id)
            continue
        runs.setdefault(row.chat_id, []).append(row)
    return list(runs.values())


def fair_share(runs: list[list[Row[Any]]], limit: int) -> list[Row[Any]]:
    """Up to `limit` messages taken from the chats' runs in turn."""
    picked: list[Row[Any]] = []
    depth = 0
    while len(picked) < limit and any(depth < len(run) for run in runs):
        picked.extend(run[depth] for run in runs if depth < len(run))
        depth += 1
    return picked[:limit]
