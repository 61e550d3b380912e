"""Crash safety: `duta run` killed with SIGKILL during a poll cycle, during extraction and
during sending, then started again on the same SQLite file.

Each case asserts what a subscriber and an operator would see afterwards: every article
stored once, every alert delivered once (a message in flight at the kill — accepted by
Telegram, not yet recorded — at most once more), and `PRAGMA integrity_check` = ok.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.store import Store
from tests.botapi import BotApi, slow
from tests.faults.helpers import (
    EPOCH,
    assert_delivered,
    duplicates,
    integrity,
    sent_texts,
    settled,
    subscribe_everything,
    telegram_env,
)
from tests.httpserver import Route
from tests.sites import ExpectedArticle, SeedSites
from tests.test_service import Duta, leased, slow_down, sqlite_url, stored

CHAT = 7101
SETTLE_S = 60.0


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


@pytest.fixture
def runs() -> Iterator[list[Duta]]:
    """Started `duta run` processes, killed at the end whatever happened."""
    started: list[Duta] = []
    yield started
    for process in started:
        process.kill()


def prepare(tmp_path: Path, seed_sites: SeedSites) -> tuple[str, list[ExpectedArticle]]:
    """A database with one chat following everything and the seed sites as sources."""
    url = sqlite_url(tmp_path)
    with Store.open(url) as store:
        subscribe_everything(store, [CHAT])
        store.sync_sources(seed_sites.sources())
    return url, [a for a in seed_sites.expected_articles() if a.source is not None]


def start(runs: list[Duta], env: dict[str, str], workdir: Path) -> Duta:
    duta = Duta(env, workdir)
    runs.append(duta)
    return duta


def kill(duta: Duta, url: str) -> None:
    """SIGKILL: no shutdown code runs; the file must still be consistent."""
    duta.process.kill()
    duta.process.wait(10)
    assert integrity(url) == "ok"


def finish(runs: list[Duta], env: dict[str, str], workdir: Path, url: str, expected: int) -> None:
    """Start again and wait until everything is stored and sent; stop cleanly."""
    again = start(runs, env, workdir)
    with Store.open(url) as store:
        again.until(lambda: settled(store, expected), "everything stored and sent", SETTLE_S)
    assert again.stop() < 10
    assert again.process.returncode == 0, again.err
    assert integrity(url) == "ok"


def assert_stored_once(url: str, expected: list[ExpectedArticle]) -> None:
    with Store.open(url) as store:
        urls = [a.url for a in store.articles_since(EPOCH, limit=10_000)]
    assert sorted(urls) == sorted(a.url for a in expected)


def test_kill_during_a_poll_cycle(
    tmp_path: Path, seed_sites: SeedSites, api: BotApi, runs: list[Duta]
) -> None:
    url, expected = prepare(tmp_path, seed_sites)
    env = telegram_env(tmp_path, seed_sites, url, api)
    slow_down(seed_sites, 0.5)  # the cycle's fetches take a while
    first = start(runs, env, tmp_path / "first")
    first.until(lambda: bool(leased(url)), "a poll cycle in flight")
    kill(first, url)
    assert stored(url) < len(expected)
    assert api.messages == []  # routing and sending come after the batch

    slow_down(seed_sites, 0.0)
    finish(runs, env, tmp_path / "second", url, len(expected))
    assert_stored_once(url, expected)
    with Store.open(url) as store:
        assert_delivered(store, url, api, [CHAT])  # nothing was in flight: no duplicate


def test_kill_during_extraction(
    tmp_path: Path, seed_sites: SeedSites, api: BotApi, runs: list[Duta]
) -> None:
    url, expected = prepare(tmp_path, seed_sites)
    env = telegram_env(tmp_path, seed_sites, url, api, DUTA_EXTRACT_WORKERS="1")
    slow_pages = delay_article_pages(seed_sites, expected, 1.0)
    first = start(runs, env, tmp_path / "first")
    first.until(lambda: stored(url) > 0, "the first article extracted and stored")
    kill(first, url)
    assert 0 < stored(url) < len(expected)  # killed with pages still being taken

    for route in slow_pages:
        route.delay_s = 0.0
    finish(runs, env, tmp_path / "second", url, len(expected))
    assert_stored_once(url, expected)
    with Store.open(url) as store:
        assert_delivered(store, url, api, [CHAT])


def test_kill_during_sending_resends_at_most_the_message_in_flight(
    tmp_path: Path, seed_sites: SeedSites, api: BotApi, runs: list[Duta]
) -> None:
    url, expected = prepare(tmp_path, seed_sites)
    env = telegram_env(tmp_path, seed_sites, url, api)
    api.fail(CHAT, slow(5.0))  # the first alert is delivered; Telegram's reply comes late
    first = start(runs, env, tmp_path / "first")
    first.until(lambda: bool(api.messages_to(CHAT)), "the first alert accepted by Telegram")
    kill(first, url)  # between Telegram's acceptance and the commit of `sent`

    accepted = {(m.chat_id, m.text) for m in api.messages}
    in_flight = accepted - {(CHAT, text) for text in sent_texts(url, CHAT)}
    assert len(in_flight) == 1

    finish(runs, env, tmp_path / "second", url, len(expected))
    assert_stored_once(url, expected)
    # the documented window: that one message reached the chat twice, nothing else did
    assert duplicates(api) == Counter(dict.fromkeys(in_flight, 1))
    with Store.open(url) as store:
        assert_delivered(store, url, api, [CHAT], in_flight=in_flight, kills=1)


def delay_article_pages(
    seed_sites: SeedSites, expected: list[ExpectedArticle], seconds: float
) -> list[Route]:
    """Make every article page answer `seconds` late; the routes changed."""
    changed: list[Route] = []
    for article in expected:
        route = seed_sites.sites[article.site].routes[urlsplit(article.url).path]
        assert isinstance(route, Route)
        route.delay_s = seconds
        changed.append(route)
    return changed
