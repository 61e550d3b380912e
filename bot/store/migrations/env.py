"""Alembic environment for Duta's store.

`Store.open()` passes its own connection in `config.attributes["connection"]`; the
`alembic` command line (see ../alembic.ini) names the database with `-x url=...`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from bot.store.engine import database_url, make_engine
from bot.store.schema import metadata

# Any fixed number: the PostgreSQL advisory lock that keeps workers starting together
# from running the same migration twice.
MIGRATION_LOCK_KEY = 0x64757461


def _url() -> str:
    raw = context.get_x_argument(as_dictionary=True).get("url")
    raw = raw or context.config.get_main_option("sqlalchemy.url")
    if not raw:
        raise SystemExit("name the database: alembic -x url=sqlite:///data/duta.db ...")
    return raw


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


def _run_online() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    engine = make_engine(database_url(_url()))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run_offline() -> None:
    context.configure(url=database_url(_url()), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
