"""Shared fixtures: local HTTP sites, PostgreSQL, the Bot API emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.httpserver import LocalSite
from tests.postgres import fresh_database, postgres_server

# python-telegram-bot 22: durations as timedelta (the product sets the same in bot.telegram)
os.environ.setdefault("PTB_TIMEDELTA", "1")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """An admin URL of a real PostgreSQL server started for this test session."""
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL naming an empty database: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/data/duta.db"
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        yield url


@pytest.fixture
def site() -> Iterator[LocalSite]:
    """A fresh local HTTP server on its own port."""
    with LocalSite("site") as s:
        yield s


from tests.emulator import emulator_fixture, emulator_server_fixture  # noqa: E402, F401
from tests.sites import seed_sites_fixture  # noqa: E402, F401  (the `seed_sites` fixture)
