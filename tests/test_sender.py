"""The sender against a real store and python-telegram-bot's `Bot` over HTTP (tests/botapi.py).

Delivery order, pacing and every answer Telegram gives (429, 403, migration, too long,
5xx, resets, late replies, other 400s), and what survives a stop or a crash. Times the
store compares (not_before, leases) come from a `Clock` the test moves; the pacing
itself runs in real time, checked by the server's flood limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot

from bot.store import Store
from bot.telegram.limits import SendLimits
from bot.telegram.sender import Sender
from tests.botapi import (
    BotApi,
    Fault,
    bad_gateway,
    bad_request,
    blocked,
    chat_not_found,
    kicked,
    reset,
    retry_after,
    slow,
)

# PTB warns each time it builds a RetryAfter (its `retry_after` will become a timedelta).
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

ROOT = Path(__file__).resolve().parent.parent
ALICE, BINH, CHI = 1001, 1002, 1003
GROUP = -4001  # a basic group
SUPERGROUP = -1001234567890
_stories = itertools.count(1)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def utcnow() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on SQLite, then on PostgreSQL."""
    with Store.open(db_url) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A store on SQLite only, for the tests about timing rather than the database."""
    with Store.open(f"sqlite:///{tmp_path}/duta.db") as opened:
        yield opened


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


@pytest.fixture
async def bot(api: BotApi) -> AsyncIterator[Bot]:
    async with api.bot(read_timeout_s=1.0) as connected:
        yield connected


def chat(store: Store, chat_id: int) -> int:
    kind = "private" if chat_id > 0 else "group"
    store.upsert_chat(chat_id, kind=kind, title=None)
    return chat_id


def alert(
    store: Store,
    chat_id: int,
    text: str,
    *,
    at: datetime,
    thread_id: int | None = None,
    preview_url: str | None = None,
) -> int:
    """Queue an alert as matching does (one per story)."""
    story = next(_stories)
    queued = store.enqueue_alert(
        chat_id=chat_id,
        thread_id=thread_id,
        story_id=story,
        article_id=story,
        text=text,
        preview_url=preview_url,
        not_before=at,
        now=at,
    )
    assert queued is not None
    return queued


def alerts(store: Store, chat_id: int, count: int, *, at: datetime) -> list[str]:
    """Queue `count` numbered alerts for one chat; their texts in queue order."""
    texts = [f"<b>Tin {i}</b> cho {chat_id}" for i in range(1, count + 1)]
    for text in texts:
        alert(store, chat_id, text, at=at)
    return texts


async def until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


# --- what arrives ------------------------------------------------------------------------


async def test_alert_arrives_as_html_with_its_preview_and_is_recorded(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    chat(store, ALICE)
    store.upsert_chat(SUPERGROUP, kind="supergroup", title="Diễn đàn")
    text = "<b>Hữu nghị Việt Nam – Nhật Bản</b>\nBáo Quốc tế · 01/03 &amp; <i>tóm tắt</i>"
    link = "https://baoquocte.vn/huu-nghi-viet-nam-nhat-ban-123.html"
    alert(store, ALICE, text, at=clock(), preview_url=link)
    alert(store, SUPERGROUP, "<i>Forum topic</i>", at=clock(), thread_id=42)

    assert await Sender(bot, store, worker="w1", clock=clock).drain() == 2

    [private] = api.messages_to(ALICE)
    assert (private.text, private.parse_mode, private.thread_id) == (text, "HTML", None)
    assert private.link_preview == {"url": link}
    [forum] = api.messages_to(SUPERGROUP)
    assert forum.thread_id == 42
    assert forum.link_preview == {"is_disabled": True}
    assert store.sent_messages(ALICE) == [(private.message_id, text)]
    assert store.outbox_counts(now=clock()) == {"pending": 0, "sent": 2, "failed": 0, "held": 0}


async def test_nothing_due_sends_nothing(store: Store, api: BotApi, bot: Bot) -> None:
    clock = Clock()
    chat(store, ALICE)
    alert(store, ALICE, "quiet hours end at 07:00", at=clock() + timedelta(hours=2))
    assert await Sender(bot, store, worker="w1", clock=clock).drain() == 0
    assert api.requests == 0
    assert store.outbox_counts(now=clock())["held"] == 1


# --- flood control -----------------------------------------------------------------------


async def test_retry_after_holds_only_that_chat_while_others_continue(
    store: Store, api: BotApi, bot: Bot
) -> None:
    texts = {c: alerts(store, chat(store, c), 2, at=utcnow()) for c in (ALICE, BINH, CHI)}
    api.fail(ALICE, retry_after(2))
    stopping = asyncio.Event()
    running = asyncio.create_task(Sender(bot, store, worker="w1", clock=utcnow).run(stopping))
    await until(lambda: len(api.messages) == 6)
    stopping.set()
    await running

    [throttle] = api.throttles
    held = api.messages_to(ALICE)
    others = [m for m in api.messages if m.chat_id != ALICE]
    assert held[0].at - throttle.at >= 2.0 - 0.05  # waited the whole retry_after
    assert max(m.at for m in others) < held[0].at  # nobody else waited for it
    assert {c: api.texts(c) for c in texts} == texts  # each chat in order
    assert api.too_many_requests == 0  # the only 429 was the scripted one


async def test_pacing_keeps_every_chat_and_group_under_telegrams_limits(
    sqlite_store: Store, api: BotApi, bot: Bot
) -> None:
    store, clock = sqlite_store, Clock()
    expected: dict[int, list[str]] = {}
    for n in range(60):
        expected[2000 + n] = alerts(store, chat(store, 2000 + n), 2, at=clock())
    for group in (GROUP, GROUP - 1):
        expected[group] = alerts(store, chat(store, group), 3, at=clock())

    started = time.monotonic()
    assert await Sender(bot, store, worker="w1", clock=clock).drain() == 126

    assert api.too_many_requests == 0
    assert {c: api.texts(c) for c in expected} == expected
    for group in (GROUP, GROUP - 1):
        times = [m.at for m in api.messages_to(group)]
        assert all(b - a >= 3.0 - 0.2 for a, b in itertools.pairwise(times))
    # 126 messages at 25/s overall, and the groups' 3 s spacing: a few seconds, not minutes
    assert time.monotonic() - started < 15


@pytest.mark.parametrize(("group_per_min", "throttled"), [(200.0, False), (400.0, True)])
async def test_twenty_per_group_window_is_respected_only_by_matching_pacing(
    sqlite_store: Store, group_per_min: float, throttled: bool
) -> None:
    # Time runs ten times faster: 20 messages per 6 s window, 1 per 0.1 s per chat.
    store = sqlite_store
    texts = alerts(store, chat(store, GROUP), 24, at=utcnow())
    limits = SendLimits(private_per_s=10.0, group_per_min=group_per_min)
    stopping = asyncio.Event()
    with BotApi(chat_interval_s=0.1, group_window_s=6.0) as api:
        async with api.bot(read_timeout_s=1.0) as bot:
            sender = Sender(bot, store, worker="w1", clock=utcnow, limits=limits)
            running = asyncio.create_task(sender.run(stopping))
            await until(lambda: len(api.messages) == 24 or api.too_many_requests > 0, 30)
            stopping.set()
            await running
    assert (api.too_many_requests > 0) is throttled
    if not throttled:
        assert api.texts(GROUP) == texts


async def test_pacing_looser_than_telegram_is_throttled_and_still_delivers_in_order(
    sqlite_store: Store, api: BotApi, bot: Bot
) -> None:
    store = sqlite_store
    expected = {c: alerts(store, chat(store, c), 3, at=utcnow()) for c in (ALICE, BINH)}
    limits = SendLimits(private_per_s=4.0)
    stopping = asyncio.Event()
    sender = Sender(bot, store, worker="w1", clock=utcnow, limits=limits)
    running = asyncio.create_task(sender.run(stopping))
    await until(lambda: len(api.messages) == 6, 30)
    stopping.set()
    await running
    assert api.too_many_requests > 0
    assert {c: api.texts(c) for c in expected} == expected


# --- chats that refuse, move or are gone -------------------------------------------------


@pytest.mark.parametrize("fault", [blocked(), kicked(), chat_not_found()])
async def test_three_refusals_switch_the_chat_off_and_stop_sending_to_it(
    store: Store, api: BotApi, bot: Bot, fault: Fault
) -> None:
    clock = Clock()
    alerts(store, chat(store, ALICE), 5, at=clock())
    binh = alerts(store, chat(store, BINH), 1, at=clock())
    api.fail(ALICE, fault, times=100)

    sender = Sender(bot, store, worker="w1", clock=clock)
    assert await sender.drain() == 1

    assert api.texts(BINH) == binh
    assert api.requests_to(ALICE) == 3
    settings = store.chat(ALICE)
    assert settings is not None
    assert (settings.active, settings.consecutive_failures) == (False, 3)
    assert store.outbox_counts(now=clock())["failed"] == 5
    later = store.enqueue_alert(
        chat_id=ALICE,
        thread_id=None,
        story_id=next(_stories),
        article_id=1,
        text="one more story",
        preview_url=None,
        not_before=clock(),
        now=clock(),
    )
    assert later is None  # a switched-off chat gets nothing queued
    clock.advance(3600)
    assert await sender.drain() == 0
    assert api.requests_to(ALICE) == 3


async def test_a_refusal_followed_by_a_delivery_keeps_the_chat(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    texts = alerts(store, chat(store, ALICE), 3, at=clock())
    api.fail(ALICE, blocked(), times=2)
    assert await Sender(bot, store, worker="w1", clock=clock).drain() == 1
    assert api.texts(ALICE) == texts[2:]
    settings = store.chat(ALICE)
    assert settings is not None
    assert (settings.active, settings.consecutive_failures) == (True, 0)


async def test_migrated_group_gets_its_messages_at_the_new_id(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    texts = alerts(store, chat(store, GROUP), 2, at=clock())
    api.migrate(GROUP, SUPERGROUP)

    assert await Sender(bot, store, worker="w1", clock=clock).drain() == 2

    assert api.messages_to(GROUP) == []
    assert api.texts(SUPERGROUP) == texts
    assert [text for _id, text in store.sent_messages(SUPERGROUP)] == texts
    old, new = store.chat(GROUP), store.chat(SUPERGROUP)
    assert old is not None and not old.active
    assert new is not None and new.active


# --- messages Telegram refuses -----------------------------------------------------------


async def test_too_long_message_is_split_and_every_part_arrives_in_order(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    chat(store, ALICE)
    paragraphs = [
        f"<b>Mục {i}</b>" + " Hợp tác hữu nghị Việt Nam – Nhật Bản &amp; ASEAN." * 18
        for i in range(1, 13)
    ]
    long = "\n\n".join(paragraphs)
    alert(store, ALICE, long, at=clock())
    alert(store, ALICE, "the next alert", at=clock())

    sent = await Sender(bot, store, worker="w1", clock=clock).drain()

    received = api.texts(ALICE)
    assert sent == len(received) >= 4
    assert received[-1] == "the next alert"
    assert "\n\n".join(received[:-1]) == long
    assert [text for _id, text in store.sent_messages(ALICE)] == received


async def test_other_bad_request_fails_once_and_is_never_retried(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    chat(store, ALICE)
    alert(store, ALICE, "<div>not Telegram HTML</div>", at=clock())
    alert(store, ALICE, "<b>fine</b>", at=clock())
    sender = Sender(bot, store, worker="w1", clock=clock)

    assert await sender.drain() == 1
    assert api.texts(ALICE) == ["<b>fine</b>"]
    assert store.outbox_counts(now=clock())["failed"] == 1
    clock.advance(86_400)
    assert await sender.drain() == 0
    assert api.requests_to(ALICE) == 2


async def test_message_thread_gone_is_a_failure_not_a_retry(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    store.upsert_chat(SUPERGROUP, kind="supergroup", title=None)
    alert(store, SUPERGROUP, "into a deleted topic", at=clock(), thread_id=7)
    api.fail(SUPERGROUP, bad_request("message thread not found"))
    sender = Sender(bot, store, worker="w1", clock=clock)
    assert await sender.drain() == 0
    clock.advance(86_400)
    assert await sender.drain() == 0
    assert api.requests_to(SUPERGROUP) == 1
    settings = store.chat(SUPERGROUP)
    assert settings is not None and settings.active  # the chat itself is fine


# --- network trouble ---------------------------------------------------------------------


async def test_bad_gateway_burst_backs_off_exponentially_then_delivers_in_order(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    texts = alerts(store, chat(store, ALICE), 3, at=clock())
    binh = alerts(store, chat(store, BINH), 1, at=clock())
    api.fail(ALICE, bad_gateway(), times=3)
    sender = Sender(bot, store, worker="w1", clock=clock, limits=SendLimits(backoff_base_s=10))

    assert await sender.drain() == 1  # Binh's
    assert api.texts(BINH) == binh
    # (seconds to wait, requests Alice's chat has seen after the next drain)
    # The last step: the first goes through, then the two waiting behind it.
    for wait, requests in [(9, 1), (1, 2), (19, 2), (1, 3), (39, 3), (1, 6)]:
        clock.advance(wait)
        await sender.drain()
        assert api.requests_to(ALICE) == requests, f"after waiting {wait} s"
    assert api.texts(ALICE) == texts
    assert store.outbox_counts(now=clock())["sent"] == 4


async def test_connection_reset_is_retried_and_delivered_once(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    texts = alerts(store, chat(store, ALICE), 1, at=clock())
    api.fail(ALICE, reset())
    sender = Sender(bot, store, worker="w1", clock=clock)
    assert await sender.drain() == 0
    clock.advance(SendLimits().backoff_base_s)
    assert await sender.drain() == 1
    assert api.texts(ALICE) == texts


async def test_slow_answer_within_the_timeout_is_one_delivery(
    store: Store, api: BotApi, bot: Bot
) -> None:
    clock = Clock()
    texts = alerts(store, chat(store, ALICE), 1, at=clock())
    api.fail(ALICE, slow(0.5))  # the bot waits up to 1 s
    assert await Sender(bot, store, worker="w1", clock=clock).drain() == 1
    assert api.texts(ALICE) == texts


async def test_reply_lost_to_a_timeout_is_sent_again(store: Store, api: BotApi, bot: Bot) -> None:
    # The documented at-least-once window, network side: Telegram took the message but
    # the reply came too late, so the sender cannot know and sends it once more.
    clock = Clock()
    texts = alerts(store, chat(store, ALICE), 1, at=clock())
    api.fail(ALICE, slow(1.5))
    sender = Sender(bot, store, worker="w1", clock=clock)
    assert await sender.drain() == 0
    clock.advance(SendLimits().backoff_base_s)
    assert await sender.drain() == 1
    assert api.texts(ALICE) == texts * 2


# --- stopping and crashing ---------------------------------------------------------------


async def test_cancelled_mid_batch_then_restarted_delivers_every_message_once(
    store: Store, api: BotApi, bot: Bot
) -> None:
    expected = {2000 + n: alerts(store, chat(store, 2000 + n), 3, at=utcnow()) for n in range(40)}
    for n in range(0, 40, 4):
        api.fail(2000 + n, slow(0.3))  # requests in flight when the cancel lands
    first = asyncio.create_task(
        Sender(bot, store, worker="first", clock=utcnow).run(asyncio.Event())
    )
    await until(lambda: len(api.messages) >= 30)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    delivered = len(api.messages)
    assert delivered < 120
    # Everything Telegram confirmed is recorded: a stop opens no duplicate window.
    assert store.outbox_counts(now=utcnow())["sent"] == delivered

    # A restarted process needs over a second to start (bench: 1.25 s), and the 1/s per
    # chat pace lives in the sender's memory; a sender started within the same second
    # could meet a 429 for a chat the first one had just written to.
    await asyncio.sleep(1.1)
    await Sender(bot, store, worker="second", clock=utcnow).drain()

    assert Counter((m.chat_id, m.text) for m in api.messages) == Counter(
        (c, t) for c, texts in expected.items() for t in texts
    )
    assert {c: api.texts(c) for c in expected} == expected
    assert api.too_many_requests == 0


CRASHING_SENDER = """
import asyncio, sys
from datetime import UTC, datetime
from telegram import Bot
from bot.store import Store
from bot.telegram.limits import SendLimits
from bot.telegram.sender import Sender

async def main(url, base_url, token):
    with Store.open(url) as store:
        async with Bot(token, base_url=base_url) as bot:
            sender = Sender(bot, store, worker="doomed", clock=lambda: datetime.now(UTC),
                            limits=SendLimits(lease_s=4.0, poll_s=0.2))
            await sender.run(asyncio.Event())

asyncio.run(main(*sys.argv[1:]))
"""


async def test_killed_sender_loses_nothing_and_repeats_only_unrecorded_messages(
    store: Store, api: BotApi, bot: Bot, db_url: str
) -> None:
    chats = [2000 + n for n in range(30)]
    expected = {c: alerts(store, chat(store, c), 3, at=utcnow()) for c in chats}
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_SENDER, db_url, api.base_url, api.token, cwd=ROOT
    )
    try:
        await until(lambda: len(api.messages) >= 40, 60)
    finally:
        doomed.kill()  # SIGKILL: no shutdown, no release
        await doomed.wait()
    await asyncio.sleep(4.0)  # the dead sender's leases run out; requests in transit land
    delivered = len(api.messages)
    recorded = store.outbox_counts(now=utcnow())["sent"]

    await Sender(bot, store, worker="heir", clock=utcnow).drain()

    copies = Counter((m.chat_id, m.text) for m in api.messages)
    assert set(copies) == {(c, t) for c, texts in expected.items() for t in texts}
    repeated = sum(n - 1 for n in copies.values())
    # Only messages Telegram took but the dead sender had not recorded come twice:
    # at most the one in flight per chat.
    assert repeated == delivered - recorded
    assert repeated <= len(chats)
    assert store.outbox_counts(now=utcnow())["pending"] == 0
