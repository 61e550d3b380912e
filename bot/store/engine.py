"""Storage: turning a database URL into a configured SQLAlchemy engine.

In: `DUTA_DATABASE_URL` as the user wrote it (`sqlite:///path`, `postgresql://…`).
Out: an `Engine` with the right driver and, for SQLite, the connection settings a
long-running single-file database needs. Also the one place that renders URLs and
database errors for humans without leaking the password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    SQLAlchemyError,
)

from bot.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option marking a connection whose transactions will write (see _begin).
WRITE_OPTION = "duta_write"
# psycopg 3 is the PostgreSQL driver Duta ships with; bare URLs would pick psycopg2.
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


class StoreConflict(StoreError):
    """A write broke a uniqueness or foreign-key rule; the transaction was rolled back."""


def database_url(raw: str) -> URL:
    """Parse a database URL and pick Duta's driver for bare `postgresql://` URLs."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        # The text itself may hold a password, so it is not repeated.
        raise StoreError(
            "invalid database URL: expected sqlite:///path or postgresql://user:pass@host/db"
        ) from None
    return url.set(drivername=_DRIVERS.get(url.drivername, url.drivername))


def label(url: URL) -> str:
    """The URL as shown in logs and errors: password replaced by ***."""
    return url.render_as_string(hide_password=True)


def scrub(message: str, url: URL) -> str:
    """Remove the URL's password from a message, in every spelling a driver may echo."""
    password = url.password
    if not password:
        return message
    for spelling in {str(password), quote(str(password), safe=""), quote_plus(str(password))}:
        message = message.replace(spelling, "***")
    return message


def describe(exc: SQLAlchemyError) -> str:
    """A one-line reason for a database error, without the SQL statement and parameters."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
    else:
        text = str(exc).split("\n[SQL:", 1)[0]
    first = text.strip().splitlines()
    return first[0] if first else type(exc).__name__


@contextmanager
def translated(url: URL) -> Iterator[None]:
    """Turn SQLAlchemy errors raised inside the block into StoreError naming the database."""
    try:
        yield
    except IntegrityError as exc:
        raise StoreConflict(f"{label(url)}: {scrub(describe(exc), url)}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"{label(url)}: {scrub(describe(exc), url)}") from exc


def make_engine(url: URL) -> Engine:
    """Create the engine for `url`, creating an SQLite file's directory first."""
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"{label(url)}: unsupported database: {scrub(str(exc), url)}") from exc


def _sqlite_engine(url: URL) -> Engine:
    path = url.database
    if path and path != ":memory:" and not url.query.get("uri"):
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{label(url)}: cannot create directory: {exc}") from exc
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by _sqlite_begin, not by the sqlite3 module's guesswork.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A transaction that will write takes the write lock up front: a deferred one that
    # reads first and then writes can fail at once with "database is locked" in WAL mode
    # instead of waiting for busy_timeout.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
