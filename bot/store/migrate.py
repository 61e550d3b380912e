"""Storage: bringing a database's schema up to date with the Alembic migrations.

In: an engine. Out: the schema at the newest revision in `migrations/versions/`.
The configuration is built in code from the package's own directory, so it works
the same from a checkout and from an installed wheel.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from bot.errors import StoreError
from bot.store.engine import WRITE_OPTION

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# Alembic keeps the running migration in module-level state (alembic.context, alembic.op),
# so two stores opening at once in one process must take turns. Separate processes are
# serialised by the database itself (see migrations/env.py).
_ONE_AT_A_TIME = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for Duta's migrations, optionally bound to a connection."""
    config = Config()
    # Config values go through configparser interpolation, so a literal % must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this version of Duta."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine) -> None:
    """Apply every migration the database does not have yet, in one transaction."""
    with _ONE_AT_A_TIME, engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            try:
                command.upgrade(alembic_config(connection), "head")
            except CommandError as exc:
                # e.g. a database written by a newer Duta, at a revision unknown here.
                raise StoreError(f"cannot migrate the database: {exc}") from exc
