"""Storage: what every group of queries shares — the engine and its transactions.

In: an engine and its URL. Out: `_read()` / `_write()` blocks, each one transaction
on one pooled connection, with database errors translated into StoreError; and the
small helpers several query groups share (insert-unless-present, thread ids).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL

from bot.store.engine import WRITE_OPTION, label, translated


class StoreBase:
    """The engine and transaction helpers the query groups build on."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self._url = url
        self.database_label = label(url)
        # SQLite has one writer at a time. Threads of this process queue here, where a
        # release wakes the next at once, instead of in SQLite's busy handler, which
        # sleeps and polls (up to 100 ms a try) while the lock may already be free.
        # Other processes still wait in busy_timeout.
        self._writer: AbstractContextManager[Any] = (
            threading.RLock() if url.get_backend_name() == "sqlite" else nullcontext()
        )

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read-only transaction."""
        with translated(self._url), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction that writes: committed on success, rolled back on any error."""
        with self._writer, translated(self._url), self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> int | None:
    """Insert one row unless it breaks a unique constraint; its key, or None if skipped.

    ON CONFLICT DO NOTHING, rather than catching the error, keeps a PostgreSQL transaction
    usable afterwards and lets two workers race for the same row without an error.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    query = dialect.insert(table).values(**values).on_conflict_do_nothing()
    found = conn.execute(query.returning(key)).scalar_one_or_none()
    return None if found is None else int(found)


def thread_key(thread_id: int | None) -> int:
    """The stored form of a forum topic id: 0 for none."""
    return 0 if thread_id is None else thread_id


def thread_of(stored: int) -> int | None:
    """The forum topic id as the rest of Duta sees it: None for none."""
    return None if stored == 0 else stored
