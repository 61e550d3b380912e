"""Several `duta run --role worker` processes on one PostgreSQL database, over the seed
sites and a local Bot API: sources and the outbox shared through leases, a worker
killed mid-cycle, and SQLite's one-process rule."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.matching import MIN_SCORE
from bot.models import Source, Subscription
from bot.store import Store
from bot.store.engine import database_url, make_engine
from bot.store.schema import articles, outbox
from bot.taxonomy import load_taxonomy
from tests.botapi import BotApi
from tests.postgres import fresh_database
from tests.sites import SeedSites
from tests.test_service import Duta, free_ports, get, metric, service_env, slow_down, sqlite_url

ROOT = Path(__file__).resolve().parent.parent
CHATS = (5101, 5102, 5103)
SOURCE_LINE = re.compile(r"source=(\S+) outcome=")


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


@pytest.fixture
def workers() -> Iterator[list[Duta]]:
    started: list[Duta] = []
    yield started
    for process in started:
        process.kill()


def subscribe_everything(store: Store) -> None:
    """Three private chats, each following every topic instantly."""
    topics = [node.id for node in load_taxonomy(ROOT / "seeds" / "taxonomy.yaml").nodes]
    for chat_id in CHATS:
        store.upsert_chat(chat_id, kind="private", title=None, language="en")
        for topic in topics:
            store.subscribe(Subscription(chat_id, topic, "instant"))


def worker_env(
    tmp_path: Path, seed_sites: SeedSites, url: str, api: BotApi, **extra: str
) -> dict[str, str]:
    return service_env(
        tmp_path,
        seed_sites,
        url,
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.root_url,
        DUTA_OUTBOX_LEASE_S="5",
        **extra,
    )


def settled(store: Store, expected: int) -> bool:
    """Every article stored, every source polled and released, nothing left to send."""
    states = store.source_states()
    leases = store.source_leases()
    return (
        store.count_articles() == expected
        and all(state.last_success_at is not None for state in states.values())
        and all(holder is None for holder, _until in leases.values())
        and store.outbox_counts()["pending"] == 0
    )


def assert_each_message_delivered_once(store: Store, url: str, api: BotApi) -> None:
    """The sent rows of the outbox and the messages the Bot API accepted are the same,
    one for one, and every relevant story reached every chat."""
    engine = make_engine(database_url(url))  # the rows as the database holds them
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    outbox.c.chat_id, outbox.c.text, outbox.c.telegram_message_id, outbox.c.status
                )
            ).all()
            story_of = {
                row.id: row.story_id
                for row in conn.execute(select(articles.c.id, articles.c.story_id))
            }
            alerted_rows = conn.execute(
                select(outbox.c.chat_id, outbox.c.article_id).where(outbox.c.kind == "alert")
            ).all()
    finally:
        engine.dispose()
    assert rows and {row.status for row in rows} == {"sent"}
    sent = Counter((row.chat_id, row.telegram_message_id, row.text) for row in rows)
    accepted = Counter((m.chat_id, m.message_id, m.text) for m in api.messages)
    assert accepted == sent
    assert max(accepted.values()) == 1
    assert max(Counter((m.chat_id, m.text) for m in api.messages).values()) == 1

    alerted = {(chat, story_of[article]) for chat, article in alerted_rows}
    for article_id in store.iter_article_ids():
        article = store.get_article(article_id)
        assert article is not None
        tags = store.article_tags(article_id)
        if article.relevant and any(tag.score >= MIN_SCORE for tag in tags):
            for chat_id in CHATS:
                assert (chat_id, article.story_id) in alerted, (chat_id, article.url)


def polled_sources(*processes: Duta) -> Counter[str]:
    """How often each source was polled, from the one log line per source per cycle."""
    return Counter(name for p in processes for name in SOURCE_LINE.findall(p.err))


def test_two_workers_share_the_sources_and_the_outbox(
    tmp_path: Path, seed_sites: SeedSites, pg_url: str, api: BotApi, workers: list[Duta]
) -> None:
    expected = [a for a in seed_sites.expected_articles() if a.source is not None]
    sources = seed_sites.sources()
    with Store.open(pg_url) as store:
        subscribe_everything(store)
        store.sync_sources(sources)
        due = datetime.now(UTC) + timedelta(seconds=6)  # after both workers are up
        for source in sources:
            store.record_success(source.name, now=due, next_check_at=due, validators=None)
        slow_down(seed_sites, 0.3)  # a source takes a while: the other worker claims the next
        env = worker_env(tmp_path, seed_sites, pg_url, api, DUTA_SOURCE_BATCH="1")
        ports = free_ports(2)
        for name, port in zip("ab", ports, strict=True):
            workers.append(
                Duta({**env, "DUTA_HTTP_PORT": str(port)}, tmp_path / name, "--role", "worker")
            )
        for worker in workers:
            worker.until(worker.started, "the worker")

        workers[0].until(lambda: settled(store, len(expected)), "every delivery", 90)
        exposed = [get(f"http://127.0.0.1:{port}/metrics")[1] for port in ports]
        for worker in workers:
            assert worker.stop() < 10
            assert worker.process.returncode == 0, worker.err

        polls = polled_sources(*workers)
        assert polls == Counter({source.name: 1 for source in sources})  # never twice
        assert all(polled_sources(worker) for worker in workers)  # both took a share
        stored = store.articles_since(datetime(2000, 1, 1, tzinfo=UTC))
        assert sorted(a.url for a in stored) == sorted(a.url for a in expected)  # each once
        assert_each_message_delivered_once(store, pg_url, api)
        # each worker counts what it did: together, what the sites and the Bot API saw
        assert sum(metric(text, "duta_articles_stored_total") or 0 for text in exposed) == len(
            expected
        )
        assert sum(metric(text, "duta_telegram_429_total") or 0 for text in exposed) == (
            api.too_many_requests
        )


def test_a_worker_killed_mid_cycle_loses_nothing(
    tmp_path: Path, seed_sites: SeedSites, pg_url: str, api: BotApi, workers: list[Duta]
) -> None:
    expected = [a for a in seed_sites.expected_articles() if a.source is not None]
    with Store.open(pg_url) as store:
        subscribe_everything(store)
        slow_down(seed_sites, 0.4)
        env = worker_env(tmp_path, seed_sites, pg_url, api, DUTA_SOURCE_LEASE_S="3")
        victim = Duta(env, tmp_path / "victim", "--role", "worker")
        workers.append(victim)

        def holds_every_source() -> bool:
            leases = store.source_leases()
            return bool(leases) and all(
                (holder or "").endswith(f":{victim.pid}") for holder, _ in leases.values()
            )

        victim.until(holds_every_source, "the victim's batch")
        survivor = Duta(env, tmp_path / "survivor", "--role", "worker")
        workers.append(survivor)
        victim.until(lambda: store.count_articles() > 0, "the victim's first article")
        victim.process.kill()  # SIGKILL: no shutdown, the leases stay until they run out
        victim.process.wait(10)
        assert 0 < store.count_articles() < len(expected)  # it died mid-cycle
        assert store.outbox_counts()["pending"] == 0  # routing happens after the batch

        slow_down(seed_sites, 0.0)
        survivor.until(lambda: settled(store, len(expected)), "every delivery", 90)
        assert "taking over unfinished sources" in survivor.err
        assert survivor.stop() < 10
        assert survivor.process.returncode == 0, survivor.err
        assert store.count_articles() == len(expected)
        assert_each_message_delivered_once(store, pg_url, api)


def test_a_second_service_on_one_sqlite_file_is_refused(
    tmp_path: Path, seed_sites: SeedSites, workers: list[Duta]
) -> None:
    database = sqlite_url(tmp_path)
    env = service_env(tmp_path, seed_sites, database)
    first = Duta(env, tmp_path / "first")
    workers.append(first)
    first.until(first.started, "the first service")

    second = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--role", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"duta: error: another duta process is using {tmp_path / 'data' / 'duta.db'} "
        f"(pid {first.pid}); SQLite supports one process — use PostgreSQL for several workers"
    )
    # short commands may share the file with the service (WAL), as documented
    poll = subprocess.run(
        [sys.executable, "-m", "bot", "poll", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert poll.returncode == 0, poll.stderr

    first.process.send_signal(signal.SIGKILL)  # the kernel drops the lock with the process
    first.process.wait(10)
    third = Duta(env, tmp_path / "third")
    workers.append(third)
    third.until(third.started, "a new service")
    assert third.stop() < 10
    assert third.process.returncode == 0, third.err


def test_claims_never_overlap_and_a_lease_that_runs_out_is_taken_over(db_url: str) -> None:
    names = [f"site{n:02}" for n in range(12)]
    sources = [
        Source(name=name, url=f"https://{name}.example.org/rss", kind="rss", language="vi")
        for name in names
    ]
    now = datetime(2025, 12, 4, 8, 0, tzinfo=UTC)
    with Store.open(db_url) as store:
        store.sync_sources(sources)

        def claim_all(worker: str) -> list[str]:
            taken: list[str] = []
            while batch := store.claim_due_sources(worker=worker, now=now, limit=2, lease_s=60):
                taken.extend(batch)
            return taken

        with ThreadPoolExecutor(max_workers=2) as pool:  # two workers claiming at once
            first, second = pool.map(claim_all, ["a", "b"])
        assert sorted(first + second) == names  # each source once, none twice
        assert store.due_sources(now) == []  # all leased
        later = now + timedelta(seconds=61)
        store.release_sources(first, worker="b")  # not b's: nothing happens
        assert store.claim_due_sources(worker="c", now=now, limit=50, lease_s=60) == []
        store.release_sources(first, worker="a")  # a finished its batch
        claimed = store.claim_sources(worker="c", now=later, limit=50, lease_s=60)
        by_name = {claim.name: claim.orphaned_at for claim in claimed}
        assert set(by_name) == set(names)  # released ones are due, b's ran out
        assert {name for name, left in by_name.items() if left is not None} == set(second)
        assert [claim.name for claim in claimed[: len(second)]] == sorted(second)  # left first
        store.abandon_sources(names, now=later, worker="c")
        again = store.claim_sources(worker="d", now=later, limit=50, lease_s=60)
        assert {claim.name: claim.orphaned_at for claim in again} == dict.fromkeys(names, later)
