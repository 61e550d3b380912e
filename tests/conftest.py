"""Shared fixtures: local HTTP sites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.httpserver import LocalSite


@pytest.fixture
def site() -> Iterator[LocalSite]:
    """A fresh local HTTP server on its own port."""
    with LocalSite("site") as s:
        yield s


from tests.sites import seed_sites_fixture  # noqa: E402, F401  (the `seed_sites` fixture)
