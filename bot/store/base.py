"""Storage: what every group of queries shares — the engine and its transactions.

In: an engine and its URL. Out: `_read()` / `_write()` blocks, each one transaction
on one pooled connection, with database errors translated into StoreError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from bot.store.engine import WRITE_OPTION, label, translated


class StoreBase:
    """The engine and transaction helpers the query groups build on."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self._url = url
        self.database_label = label(url)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read-only transaction."""
        with translated(self._url), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction that writes: committed on success, rolled back on any error."""
        with translated(self._url), self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn
