"""Storage: Telegram chats — their settings, their health, and moving to a supergroup.

In: chats the bot meets, settings from /settings, delivery failures from the sender,
group-to-supergroup migrations. Out: `ChatSettings`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, select, tuple_, update

from bot.errors import StoreError
from bot.models import ChatSettings, UiLanguage
from bot.store.articles import IN_BATCH
from bot.store.base import StoreBase, insert_ignore
from bot.store.schema import chats, digest_items, outbox, subscriptions

MAX_ERROR_CHARS = 1000  # a reason is one line for /status, not a traceback
SETTINGS = ("language", "timezone", "digest_time", "digest_weekday", "quiet_start", "quiet_end")
_DEFAULTS = ChatSettings(chat_id=0)


class ChatQueries(StoreBase):
    """Chats and their settings."""

    def upsert_chat(
        self,
        chat_id: int,
        *,
        kind: str,
        title: str | None,
        language: UiLanguage | None = None,
        now: datetime | None = None,
    ) -> ChatSettings:
        """Remember a chat: a new one gets the defaults, a known one is re-activated.

        `language` is only the starting UI language: a known chat keeps the one it chose.
        """
        with self._write() as conn:
            added = insert_ignore(
                conn, chats, _new_chat(chat_id, kind, title, language or "en", now)
            )
            if added is None:
                values = {"kind": kind, "title": title, "active": True, "consecutive_failures": 0}
                conn.execute(update(chats).where(chats.c.chat_id == chat_id).values(**values))
            return _chat(chat_row(conn, chat_id))

    def chat(self, chat_id: int) -> ChatSettings | None:
        """The chat's settings, or None if the bot never met it."""
        with self._read() as conn:
            row = conn.execute(select(chats).where(chats.c.chat_id == chat_id)).one_or_none()
        return None if row is None else _chat(row)

    def update_chat(self, chat_id: int, **changes: object) -> ChatSettings:
        """Change settings (language, timezone, digest_time, digest_weekday, quiet hours).

        The values are validated by the caller; unknown names are a TypeError.
        """
        unknown = sorted(set(changes) - set(SETTINGS))
        if unknown:
            raise TypeError(f"not a chat setting: {', '.join(unknown)}")
        with self._write() as conn:
            if changes:
                query = update(chats).where(chats.c.chat_id == chat_id).values(**changes)
                conn.execute(query)
            return _chat(chat_row(conn, chat_id))

    def migrate_chat(self, old_id: int, new_id: int, *, now: datetime | None = None) -> None:
        """Move a group upgraded to a supergroup: settings, subscriptions, pending messages
        and digest items go to `new_id`; the old chat is marked migrated and inactive.

        What the new chat already has wins; keys of messages already sent are carried
        over, so a story alerted in the old group is not alerted again in the new one.
        """
        with self._write() as conn:
            old = chat_row(conn, old_id, lock=True)
            _adopt_settings(conn, old, new_id, now)
            _move_keyed(conn, subscriptions, old_id, new_id, "topic")
            _move_keyed(conn, digest_items, old_id, new_id, "story_id")
            _move_outbox(conn, old_id, new_id)
            conn.execute(
                update(chats)
                .where(chats.c.chat_id == old_id)
                .values(active=False, migrated_to=new_id)
            )

    def record_chat_failure(
        self,
        chat_id: int,
        *,
        error: str,
        deactivate_after: int = 3,
        now: datetime | None = None,
    ) -> ChatSettings:
        """Count a delivery the chat refused; at `deactivate_after` in a row it goes inactive.

        An inactive chat gets no new deliveries, and its pending messages are failed so
        that re-activating it later does not flood it with stale alerts.
        """
        at = now or datetime.now(UTC)
        reason = error[:MAX_ERROR_CHARS]
        with self._write() as conn:
            row = chat_row(conn, chat_id, lock=True)
            failures = row.consecutive_failures + 1
            values: dict[str, Any] = {
                "consecutive_failures": failures,
                "last_failure": reason,
                "last_failure_at": at,
            }
            if failures >= deactivate_after:
                values["active"] = False
                _fail_pending(conn, chat_id, f"chat inactive: {reason}", at)
            conn.execute(update(chats).where(chats.c.chat_id == chat_id).values(**values))
            return _chat(chat_row(conn, chat_id))

    def record_chat_success(self, chat_id: int) -> None:
        """A delivery went through: the chat's failure streak ends."""
        query = (
            update(chats)
            .where(chats.c.chat_id == chat_id, chats.c.consecutive_failures != 0)
            .values(consecutive_failures=0)
        )
        with self._write() as conn:
            conn.execute(query)


def _new_chat(
    chat_id: int, kind: str, title: str | None, language: str, now: datetime | None
) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "kind": kind,
        "title": title,
        "language": language,
        **{name: getattr(_DEFAULTS, name) for name in SETTINGS if name != "language"},
        "active": True,
        "consecutive_failures": 0,
        "created_at": now or datetime.now(UTC),
    }


def chat_row(conn: Connection, chat_id: int, *, lock: bool = False) -> Row[Any]:
    """The chat's row; StoreError if the bot never met it."""
    query = select(chats).where(chats.c.chat_id == chat_id)
    if lock:
        # PostgreSQL: serialise concurrent changes of one chat's failure streak.
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise StoreError(f"unknown chat {chat_id}")
    return row


def _chat(row: Row[Any]) -> ChatSettings:
    return ChatSettings(
        chat_id=row.chat_id,
        kind=row.kind,
        title=row.title,
        language=row.language,
        timezone=row.timezone,
        digest_time=row.digest_time,
        digest_weekday=row.digest_weekday,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        active=row.active,
        consecutive_failures=row.consecutive_failures,
    )


def _fail_pending(conn: Connection, chat_id: int, error: str, now: datetime) -> None:
    conn.execute(
        update(outbox)
        .where(outbox.c.chat_id == chat_id, outbox.c.status == "pending")
        .values(status="failed", last_error=error, failed_at=now, locked_by=None, locked_until=None)
    )


def _adopt_settings(conn: Connection, old: Row[Any], new_id: int, now: datetime | None) -> None:
    """Give the new chat the old chat's settings, creating it if needed."""
    settings = {name: old._mapping[name] for name in SETTINGS}
    values = _new_chat(new_id, "supergroup", old.title, old.language, now) | settings
    if insert_ignore(conn, chats, values) is None:
        moved = settings | {"active": True, "consecutive_failures": 0}
        conn.execute(update(chats).where(chats.c.chat_id == new_id).values(**moved))


def _move_keyed(conn: Connection, table: Table, old_id: int, new_id: int, column: str) -> None:
    """Move rows unique by (chat, thread, `column`); rows the new chat already has stay behind."""
    key = tuple_(table.c.thread_id, table.c[column])
    present = select(table.c.thread_id, table.c[column]).where(table.c.chat_id == new_id)
    taken = [tuple(row) for row in conn.execute(present)]
    mine = table.c.chat_id == old_id
    for start in range(0, len(taken), IN_BATCH):
        conn.execute(delete(table).where(mine, key.in_(taken[start : start + IN_BATCH])))
    conn.execute(update(table).where(mine).values(chat_id=new_id))


def _move_outbox(conn: Connection, old_id: int, new_id: int) -> None:
    """Move pending messages to the new chat and carry every dedup key over to it."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.dedup_key, outbox.c.status).where(outbox.c.chat_id == old_id)
    ).all()
    renamed = {row.id: _rekey(row.dedup_key, old_id, new_id) for row in rows}
    wanted = sorted({key for key in renamed.values() if key is not None})
    taken: set[str] = set()
    for start in range(0, len(wanted), IN_BATCH):
        batch = wanted[start : start + IN_BATCH]
        query = select(outbox.c.dedup_key).where(outbox.c.dedup_key.in_(batch))
        taken.update(conn.execute(query).scalars())
    for row in rows:
        key, pending = renamed[row.id], row.status == "pending"
        if key in taken:
            if pending:  # the new chat already has this very message
                conn.execute(delete(outbox).where(outbox.c.id == row.id))
            continue
        values: dict[str, Any] = {} if key is None else {"dedup_key": key}
        if pending:
            values["chat_id"] = new_id
        if values:
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))


def _rekey(key: str, old_id: int, new_id: int) -> str | None:
    """'alert:{old}:…' → 'alert:{new}:…'; None for keys that do not name the old chat."""
    kind, _, rest = key.partition(":")
    chat, sep, tail = rest.partition(":")
    return f"{kind}:{new_id}:{tail}" if sep and chat == str(old_id) else None
