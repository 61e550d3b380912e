"""Telegram faults against a running `duta run`: a 429 storm, 5xx bursts, connection
resets, a chat that blocks the bot, a group that becomes a supergroup and a message over
Telegram's length limit — with the service stopped (SIGTERM) and started again while the
faults are being worked through.

Asserted as the chats and an operator see it: every healthy chat received every alert
exactly once and in full; nothing reached a chat twice; each failure is recorded against
its own chat (the chat's failure count and reason, the outbox row's last error).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import Store
from tests.botapi import MAX_TEXT, BotApi, bad_gateway, reset, retry_after
from tests.faults.helpers import (
    chat_health,
    outbox_rows,
    subscribe_everything,
    telegram_env,
)
from tests.sites import SeedSites
from tests.test_service import Duta, sqlite_url

FLOODED = 6101  # a 429 storm
BURST = 6102  # two 502s in a row
RESET = 6103  # the connection torn down before an answer
BLOCKED = 6104  # the user blocked the bot
GROUP, SUPERGROUP = -6105, -1006105  # upgraded to a supergroup
LONG = 6106  # a digest over Telegram's limit
HEALTHY = (FLOODED, BURST, RESET)
SETTLE_S = 75.0
BLOCKED_REASON = "Forbidden: bot was blocked by the user"


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


@pytest.fixture
def runs() -> Iterator[list[Duta]]:
    started: list[Duta] = []
    yield started
    for process in started:
        process.kill()


def long_digest() -> str:
    """A digest of 60 stories in Telegram HTML: about 9,000 visible characters."""
    items = [
        f"<b>{n}. Việt Nam – Nhật Bản: hợp tác địa phương, vòng {n}</b>\n"
        f"Hai bên thúc đẩy hợp tác nông nghiệp công nghệ cao, đầu tư và giao lưu nhân dân "
        f'(<a href="https://nhandan.vn/bai-{n}.html">Nhân Dân</a>).'
        for n in range(1, 61)
    ]
    return "\n\n".join(items)


def visible(text: str) -> str:
    """The words a reader sees, tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def test_telegram_faults_with_a_restart_lose_and_duplicate_nothing(
    tmp_path: Path, seed_sites: SeedSites, api: BotApi, runs: list[Duta]
) -> None:
    url = sqlite_url(tmp_path)
    expected = len([a for a in seed_sites.expected_articles() if a.source is not None])
    digest = long_digest()
    with Store.open(url) as store:
        subscribe_everything(store, [*HEALTHY, BLOCKED])
        subscribe_everything(store, [GROUP], kind="group")
        store.upsert_chat(LONG, kind="private", title=None, language="en")
        store.enqueue_digest(
            chat_id=LONG,
            thread_id=None,
            mode="daily",
            key=f"digest:{LONG}:test",
            parts=[digest],
            item_ids=[],
            now=datetime.now(UTC),
        )
        store.sync_sources(seed_sites.sources())
    api.fail(FLOODED, retry_after(1), times=4)
    api.fail(BURST, bad_gateway(), times=2)
    api.fail(RESET, reset())
    api.block(BLOCKED)
    api.migrate(GROUP, SUPERGROUP)
    env = telegram_env(tmp_path, seed_sites, url, api)

    first = Duta(env, tmp_path / "first")
    runs.append(first)
    first.until(
        lambda: (
            api.requests_to(BURST) >= 1
            and api.requests_to(RESET) >= 1
            and chat_health(url, BLOCKED)["consecutive_failures"] >= 1
        ),
        "the faults under way",
    )
    assert first.stop() < 10  # SIGTERM in the middle of the faults
    assert first.process.returncode == 0, first.err

    second = Duta(env, tmp_path / "second")
    runs.append(second)
    with Store.open(url) as store:

        def done() -> bool:
            counts = store.outbox_counts()
            return store.count_articles() == expected and counts["pending"] == 0

        second.until(done, "every message sent or given up", SETTLE_S)
    assert second.stop() < 10
    assert second.process.returncode == 0, second.err
    log = first.err + second.err
    rows = outbox_rows(url)

    # nothing reached any chat twice, and what Telegram accepted is what the outbox says
    assert max(Counter((m.chat_id, m.text) for m in api.messages).values()) == 1
    assert {(m.chat_id, m.message_id, m.text) for m in api.messages} == {
        (r.chat_id, r.telegram_message_id, r.text) for r in rows if r.status == "sent"
    }

    # every healthy chat, and the supergroup, received the same alerts, in full
    received = {chat: sorted(api.texts(chat)) for chat in (*HEALTHY, SUPERGROUP)}
    alerts = received[FLOODED]
    assert alerts and all(texts == alerts for texts in received.values()), received
    assert len(alerts) == len(
        {r.article_id for r in rows if r.chat_id == FLOODED and r.kind == "alert"}
    )

    # 429: only that chat was held, each time for what Telegram asked
    assert len([t for t in api.throttles if t.chat_id == FLOODED and t.rule == "scripted"]) == 4
    assert f"chat {FLOODED}: flood control, holding it for 1 s" in log

    # 5xx and resets: retried with backoff, the reason kept on the row
    burst = [r for r in rows if r.chat_id == BURST and r.attempts]
    assert [(r.status, r.attempts) for r in burst] == [("sent", 2)]
    assert burst[0].last_error == "NetworkError: Bad Gateway"
    reset_rows = [r for r in rows if r.chat_id == RESET and r.attempts]
    assert [(r.status, r.attempts) for r in reset_rows] == [("sent", 1)]
    assert (reset_rows[0].last_error or "").startswith("NetworkError: ")
    for chat in HEALTHY:
        health = chat_health(url, chat)
        assert health["active"] and health["consecutive_failures"] == 0, (chat, health)

    # the blocked chat: three refusals, switched off, the rest of its queue failed
    assert api.texts(BLOCKED) == []
    assert chat_health(url, BLOCKED) == {
        "active": False,
        "consecutive_failures": 3,
        "last_failure": BLOCKED_REASON,
        "migrated_to": None,
    }
    blocked = [r for r in rows if r.chat_id == BLOCKED]
    assert blocked and {r.status for r in blocked} == {"failed"}
    assert [r.last_error for r in blocked[:3]] == [BLOCKED_REASON] * 3
    assert {r.last_error for r in blocked[3:]} <= {f"chat inactive: {BLOCKED_REASON}"}

    # the group: nothing accepted under its old id, everything moved to the supergroup
    assert api.texts(GROUP) == []
    assert chat_health(url, GROUP)["migrated_to"] == SUPERGROUP
    assert not chat_health(url, GROUP)["active"]
    assert chat_health(url, SUPERGROUP)["active"]
    assert not [r for r in rows if r.chat_id == GROUP and r.status != "split"]

    # the long digest: replaced by parts under the limit that read as the whole
    parts = api.texts(LONG)
    assert len(parts) >= 2 and all(len(visible(p)) <= MAX_TEXT for p in parts)
    assert visible(" ".join(parts)) == visible(digest)
    assert next(r.status for r in rows if r.chat_id == LONG) == "split"
