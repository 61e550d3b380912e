"""Shared harness of the crash, Telegram-fault and soak tests: a real `duta run` over the
seed sites (or generated ones), a local Bot API, SQLite, and what the database and the Bot
API saw afterwards."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.matching import MIN_SCORE
from bot.models import Subscription
from bot.store import Store
from bot.store.engine import database_url, make_engine
from bot.store.schema import chats, outbox
from bot.taxonomy import load_taxonomy
from tests.botapi import BotApi
from tests.sites import SeedSites
from tests.test_service import service_env

ROOT = Path(__file__).resolve().parents[2]
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
LAG_LINE = re.compile(
    r"event loop lag: p50 (?P<p50>[\d.]+) ms, p95 (?P<p95>[\d.]+) ms, "
    r"p99 (?P<p99>[\d.]+) ms, max (?P<max>[\d.]+) ms \((?P<samples>\d+) samples\)"
)


def topics() -> list[str]:
    """Every topic of the shipped taxonomy."""
    return [node.id for node in load_taxonomy(ROOT / "seeds" / "taxonomy.yaml").nodes]


def subscribe_everything(store: Store, chat_ids: Iterable[int], *, kind: str = "private") -> None:
    """Chats that follow every topic instantly, as /subscribe would leave them."""
    every = topics()
    for chat_id in chat_ids:
        store.upsert_chat(chat_id, kind=kind, title=None, language="en")
        for topic in every:
            store.subscribe(Subscription(chat_id, topic, "instant"))


def telegram_env(
    tmp_path: Path, seed_sites: SeedSites, url: str, api: BotApi, **extra: str
) -> dict[str, str]:
    """`duta run` over the seed sites, sending to `api`, with short leases so that what a
    killed process held comes back within seconds."""
    return service_env(
        tmp_path,
        seed_sites,
        url,
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.root_url,
        DUTA_OUTBOX_LEASE_S="3",
        DUTA_SOURCE_LEASE_S="3",
        **extra,
    )


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL."""
    return Path(url.removeprefix("sqlite:///"))


def integrity(url: str) -> str:
    """SQLite's own verdict on the file (recovering the WAL a killed process left)."""
    conn = sqlite3.connect(sqlite_path(url))
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(row[0]) for row in rows)


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row as the database holds it."""

    id: int
    chat_id: int
    kind: str
    status: str
    text: str
    attempts: int
    last_error: str | None
    telegram_message_id: int | None
    article_id: int | None


def outbox_rows(url: str) -> list[OutboxRow]:
    """Every outbox row, in id order."""
    engine = make_engine(database_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    finally:
        engine.dispose()
    return [
        OutboxRow(
            id=row.id,
            chat_id=row.chat_id,
            kind=row.kind,
            status=row.status,
            text=row.text,
            attempts=row.attempts,
            last_error=row.last_error,
            telegram_message_id=row.telegram_message_id,
            article_id=row.article_id,
        )
        for row in rows
    ]


def chat_health(url: str, chat_id: int) -> dict[str, Any]:
    """active, consecutive_failures, last_failure and migrated_to of one chat."""
    engine = make_engine(database_url(url))
    try:
        with engine.connect() as conn:
            row = conn.execute(select(chats).where(chats.c.chat_id == chat_id)).one()
    finally:
        engine.dispose()
    return {
        "active": bool(row.active),
        "consecutive_failures": row.consecutive_failures,
        "last_failure": row.last_failure,
        "migrated_to": row.migrated_to,
    }


def sent_texts(url: str, chat_id: int) -> set[str]:
    """Texts of the chat's rows the database records as sent."""
    return {r.text for r in outbox_rows(url) if r.chat_id == chat_id and r.status == "sent"}


def settled(store: Store, expected: int) -> bool:
    """Every article stored, every source polled and released, nothing left to send."""
    leases = store.source_leases()
    counts = store.outbox_counts()
    return (
        store.count_articles() == expected
        and all(state.last_success_at is not None for state in store.source_states().values())
        and all(holder is None for holder, _until in leases.values())
        and counts["pending"] == 0
        and counts["sent"] > 0
    )


def duplicates(api: BotApi) -> Counter[tuple[int, str]]:
    """(chat, text) the Bot API accepted more than once, and how many extra times."""
    seen = Counter((m.chat_id, m.text) for m in api.messages)
    return Counter({key: count - 1 for key, count in seen.items() if count > 1})


def assert_delivered(
    store: Store,
    url: str,
    api: BotApi,
    chat_ids: Sequence[int],
    *,
    in_flight: Set[tuple[int, str]] = frozenset(),
    kills: int = 0,
) -> None:
    """Every sent row reached Telegram and every accepted message is a sent row; each once,
    except messages that were in flight at a kill (at most once more per kill); every
    relevant story reached every chat."""
    rows = outbox_rows(url)
    assert rows and {r.status for r in rows} == {"sent"}, Counter(r.status for r in rows)
    extra = duplicates(api)
    assert set(extra) <= in_flight, (extra, in_flight)
    assert sum(extra.values()) <= kills
    # the last copy Telegram accepted is the one recorded as sent
    accepted = {(m.chat_id, m.message_id, m.text) for m in api.messages}
    recorded = {(r.chat_id, r.telegram_message_id, r.text) for r in rows}
    assert recorded <= accepted
    assert {(m.chat_id, m.text) for m in api.messages} == {(r.chat_id, r.text) for r in rows}

    story_of = {a.id: a.story_id for a in store.articles_since(EPOCH, limit=100_000)}
    alerted = {(r.chat_id, story_of[r.article_id]) for r in rows if r.article_id is not None}
    relevant = 0
    for article_id in store.iter_article_ids():
        article = store.get_article(article_id)
        assert article is not None
        if article.relevant and any(t.score >= MIN_SCORE for t in store.article_tags(article_id)):
            relevant += 1
            for chat_id in chat_ids:
                assert (chat_id, article.story_id) in alerted, (chat_id, article.url)
    assert relevant > 0


def loop_lag(stderr: str) -> dict[str, float] | None:
    """The event-loop lag percentiles (ms) a service logs when it stops."""
    found = list(LAG_LINE.finditer(stderr))
    if not found:
        return None
    match = found[-1]
    return {key: float(value) for key, value in match.groupdict().items()}


def rss_kb(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")
