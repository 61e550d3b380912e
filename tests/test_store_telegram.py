"""The store's Telegram side against real SQLite files and a real PostgreSQL server:
chats, subscriptions, the outbox (alerts, leases, retries, splits) and digests."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.errors import StoreError
from bot.models import (
    ChatSettings,
    DeliveryMode,
    NewArticle,
    StoredArticle,
    Subscription,
    Tag,
    Tagging,
)
from bot.store import Store
from bot.store.digests import digest_key
from bot.store.engine import database_url, make_engine
from bot.store.schema import article_tags, articles, stories

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LEASE_S = 60.0


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on an empty database."""
    with Store.open(db_url) as opened:
        yield opened


def article(slug: str, **changes: object) -> NewArticle:
    """An article as dedup hands it to the store."""
    base = NewArticle(
        source="baoquocte",
        url=f"https://baoquocte.vn/{slug}.html",
        canonical_url=f"https://baoquocte.vn/{slug}.html",
        title="Việt Nam - Nhật Bản tăng cường hợp tác",
        text="Hai nước nhất trí thúc đẩy hợp tác kinh tế và giao lưu nhân dân. " * 5,
        lead="Thủ tướng hội kiến Đại sứ Nhật Bản.",
        published_at=NOW,
        author=None,
        site="Báo Quốc tế",
        language="vi",
        image=None,
        fingerprint=zlib.crc32(slug.encode()),
        credit_url=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def tag(tag_id: str, score: float) -> Tag:
    """A tag as the tagger gives it."""
    return Tag(id=tag_id, facet=tag_id.split("/")[0], label=tag_id, score=score, evidence=("x",))


def stored(
    store: Store,
    slug: str,
    *tags: Tag,
    story: int | None = None,
    relevance: float = 0.8,
    at: datetime = NOW,
    **changes: object,
) -> StoredArticle:
    """Store and tag an article (relevant when relevance >= 0.5)."""
    added = store.add_article(article(slug, **changes), story_id=story, now=at)
    assert added is not None
    verdict = Tagging(language="vi", relevant=relevance >= 0.5, relevance=relevance, tags=tags)
    store.set_tagging(added.id, verdict, f"Tóm tắt {slug}.", now=at)
    found = store.get_article(added.id)
    assert found is not None
    return found


def alert(
    store: Store,
    chat: int,
    item: StoredArticle,
    *,
    thread: int | None = None,
    text: str | None = None,
    not_before: datetime = NOW,
) -> int | None:
    """Queue an alert for an article, due now unless told."""
    return store.enqueue_alert(
        chat_id=chat,
        thread_id=thread,
        story_id=item.story_id,
        article_id=item.id,
        text=text or f"<b>{item.title}</b>",
        preview_url=item.url,
        not_before=not_before,
        now=NOW,
    )


def queued_alert(store: Store, chat: int, item: StoredArticle) -> int:
    """Queue an alert that must be new; its id."""
    message_id = alert(store, chat, item)
    assert message_id is not None
    return message_id


def collect(
    store: Store,
    chat: int,
    item: StoredArticle,
    *,
    mode: DeliveryMode = "daily",
    thread: int | None = None,
) -> bool:
    """Collect an article's story for a chat's digest."""
    return store.add_digest_item(
        chat_id=chat,
        thread_id=thread,
        mode=mode,
        story_id=item.story_id,
        article_id=item.id,
        now=NOW,
    )


def digest(
    store: Store, chat: int, key: str, parts: list[str], item_ids: list[int] | None = None
) -> list[int]:
    """Queue a daily digest for a chat's own thread."""
    return store.enqueue_digest(
        chat_id=chat,
        thread_id=None,
        mode="daily",
        key=key,
        parts=parts,
        item_ids=item_ids,
        now=NOW,
    )


def claim(store: Store, *, worker: str = "w1", at: datetime = NOW, limit: int = 100) -> list[int]:
    """Claim due messages; their ids."""
    return [m.id for m in store.claim_messages(worker=worker, now=at, limit=limit, lease_s=LEASE_S)]


def send_all(store: Store, ids: list[int], *, at: datetime = NOW) -> None:
    """Record messages as delivered, as the sender does after Telegram confirms."""
    for index, message_id in enumerate(ids):
        store.mark_sent(message_id, telegram_message_id=1000 + message_id, now=at + index * SECOND)


# --- chats ----------------------------------------------------------------------------


def test_new_chat_gets_defaults_and_keeps_its_language(store: Store) -> None:
    assert store.chat(42) is None
    first = store.upsert_chat(42, kind="private", title=None, language="vi", now=NOW)
    assert first == ChatSettings(chat_id=42, kind="private", language="vi")
    again = store.upsert_chat(42, kind="private", title="Lan", language="id", now=NOW)
    assert (again.language, again.title) == ("vi", "Lan")  # a known chat keeps its choice
    assert store.upsert_chat(7, kind="group", title="G", now=NOW).language == "en"


def test_update_chat(store: Store) -> None:
    store.upsert_chat(42, kind="private", title=None, now=NOW)
    changed = store.update_chat(
        42, timezone="Europe/Paris", digest_time="18:30", quiet_start="22:00", quiet_end="07:00"
    )
    assert (changed.timezone, changed.digest_time) == ("Europe/Paris", "18:30")
    assert (changed.quiet_start, changed.quiet_end) == ("22:00", "07:00")
    assert store.update_chat(42, quiet_start=None, quiet_end=None).quiet_start is None
    assert store.chat(42) == replace(changed, quiet_start=None, quiet_end=None)
    with pytest.raises(TypeError, match="active"):
        store.update_chat(42, active=False)
    with pytest.raises(StoreError, match="4242"):
        store.update_chat(4242, language="vi")


def test_chat_is_deactivated_after_three_failures(store: Store) -> None:
    for chat in (1, 2):
        store.upsert_chat(chat, kind="private", title=None, now=NOW)
        store.subscribe(Subscription(chat, "partner/jp"), now=NOW)
    japan = stored(store, "jp", tag("partner/jp", 0.7))
    queued = {chat: alert(store, chat, japan) for chat in (1, 2)}

    for count in (1, 2):
        state = store.record_chat_failure(1, error="Forbidden: bot was blocked", now=NOW)
        assert (state.consecutive_failures, state.active) == (count, True)
    store.record_chat_success(1)
    assert store.chat(1) == ChatSettings(chat_id=1, consecutive_failures=0)
    for _ in range(3):
        state = store.record_chat_failure(1, error="Forbidden: bot was blocked", now=NOW)
    assert (state.consecutive_failures, state.active) == (3, False)

    assert claim(store) == [queued[2]]  # chat 1 is skipped; its alert failed
    assert [s.chat_id for s in store.subscriptions_for_topics(["partner/jp"])] == [2]
    assert store.outbox_counts(now=NOW) == {"pending": 1, "sent": 0, "failed": 1, "held": 0}
    later = stored(store, "later", tag("partner/jp", 0.7))
    assert alert(store, 1, later) is None  # nothing new is queued for an inactive chat
    assert collect(store, 1, later) is False

    back = store.upsert_chat(1, kind="private", title=None, now=NOW + DAY)  # /start again
    assert (back.active, back.consecutive_failures) == (True, 0)
    assert [s.chat_id for s in store.subscriptions_for_topics(["partner/jp"])] == [1, 2]


def test_unknown_chat_failures_are_store_errors(store: Store) -> None:
    with pytest.raises(StoreError, match="99"):
        store.record_chat_failure(99, error="x", now=NOW)
    with pytest.raises(StoreError, match="99"):
        store.subscribe(Subscription(99, "partner/jp"))


# --- subscriptions --------------------------------------------------------------------


def test_subscribe_and_unsubscribe(store: Store) -> None:
    store.upsert_chat(-100, kind="supergroup", title="Forum", now=NOW)
    assert store.subscribe(Subscription(-100, "partner/jp"), created_by=5, now=NOW) is True
    assert store.subscribe(Subscription(-100, "partner/jp"), now=NOW) is False
    assert store.subscribe(Subscription(-100, "partner/jp", "daily"), now=NOW) is True
    assert store.subscribe(Subscription(-100, "partner/jp", "daily", thread_id=7)) is True
    assert store.subscribe(Subscription(-100, "org/asean", "weekly", thread_id=7)) is True

    everything = [
        Subscription(-100, "partner/jp", "daily"),
        Subscription(-100, "org/asean", "weekly", thread_id=7),
        Subscription(-100, "partner/jp", "daily", thread_id=7),
    ]
    assert store.subscriptions(-100) == everything
    assert store.subscriptions(-100, thread_id=None) == everything[:1]
    assert store.subscriptions(-100, thread_id=7) == everything[1:]

    assert store.unsubscribe(-100, ["partner/jp", "partner/us"], thread_id=7) == 1
    assert store.unsubscribe(-100, None) == 1  # only the chat's own, not thread 7's
    assert store.subscriptions(-100) == [Subscription(-100, "org/asean", "weekly", thread_id=7)]
    assert store.unsubscribe(-100, None) == 0


def test_subscriptions_for_topics_and_digests(store: Store) -> None:
    for chat in (3, 1, 2, 4):
        store.upsert_chat(chat, kind="private", title=None, now=NOW)
    store.subscribe(Subscription(3, "partner/jp"))
    store.subscribe(Subscription(1, "org/asean", "daily"))
    store.subscribe(Subscription(1, "partner/jp", thread_id=4))
    store.subscribe(Subscription(2, "partner/fr", "weekly"))
    store.subscribe(Subscription(4, "partner/jp", "daily"))
    for _ in range(3):
        store.record_chat_failure(4, error="Forbidden: bot was kicked", now=NOW)
    found = store.subscriptions_for_topics(["partner/jp", "org/asean", "partner/us"])
    assert found == [
        Subscription(1, "org/asean", "daily"),
        Subscription(1, "partner/jp", thread_id=4),
        Subscription(3, "partner/jp"),
    ]
    assert store.subscriptions_for_topics([]) == []
    assert store.digest_subscriptions() == [
        Subscription(1, "org/asean", "daily"),
        Subscription(2, "partner/fr", "weekly"),
    ]


def test_unsubscribing_drops_what_was_waiting(store: Store) -> None:
    store.upsert_chat(1, kind="private", title=None, now=NOW)
    store.subscribe(Subscription(1, "partner/jp"))
    store.subscribe(Subscription(1, "org/asean", "daily"))
    japan = stored(store, "jp", tag("partner/jp", 0.7))
    asean = stored(store, "asean", tag("org/asean", 0.7))
    alert(store, 1, japan, not_before=NOW + 8 * HOUR)  # held for quiet hours
    collect(store, 1, asean)

    store.unsubscribe(1, ["partner/jp"])
    assert claim(store, at=NOW + DAY) == []
    assert store.outbox_counts(now=NOW)["failed"] == 1
    assert len(store.due_digest_items(1, None, "daily")) == 1
    store.unsubscribe(1, None)
    assert store.due_digest_items(1, None, "daily") == []


# --- alerts: one per chat and thread per story ----------------------------------------


def test_one_alert_per_chat_per_story(store: Store) -> None:
    for chat in (1, 2):
        store.upsert_chat(chat, kind="private", title=None, now=NOW)
    original = stored(store, "goc", tag("partner/jp", 0.7))
    translation = stored(
        store,
        "ban-dich",
        tag("partner/jp", 0.7),
        story=original.story_id,
        canonical_url="https://www.vietnam.vn/en/japan",
        site="Vietnam.vn",
        language="en",
    )
    queued_alert(store, 1, original)
    assert alert(store, 1, translation) is None  # a copy of the same story
    assert alert(store, 1, original, text="again") is None
    assert alert(store, 1, original, thread=7) is not None  # another forum topic
    assert alert(store, 2, translation) is not None  # another chat
    assert len(claim(store)) == 3


def test_stories_merged_after_an_alert_are_not_alerted_again(store: Store) -> None:
    store.upsert_chat(1, kind="private", title=None, now=NOW)
    translation = stored(store, "ban-dich", tag("partner/jp", 0.7))
    assert alert(store, 1, translation) is not None
    original = stored(store, "goc", tag("partner/jp", 0.7))
    store.merge_stories(original.story_id, [translation.story_id])
    assert alert(store, 1, original) is None


def test_concurrent_alerts_for_one_story_queue_one(db_url: str) -> None:
    with Store.open(db_url) as setup:
        setup.upsert_chat(1, kind="private", title=None, now=NOW)
        story = stored(setup, "goc", tag("partner/jp", 0.7))
        copies = [story] + [
            stored(setup, f"copy{i}", story=story.story_id, canonical_url=f"https://x{i}.example/a")
            for i in range(3)
        ]
    workers = [Store.open(db_url) for _ in copies]
    barrier = threading.Barrier(len(copies))
    results: list[int | None] = []

    def enqueue(worker: Store, item: StoredArticle) -> None:
        barrier.wait()
        results.append(alert(worker, 1, item))

    threads = [
        threading.Thread(target=enqueue, args=pair) for pair in zip(workers, copies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.close()
    assert sum(result is not None for result in results) == 1


# --- claiming -------------------------------------------------------------------------


def test_concurrent_senders_never_claim_the_same_message(db_url: str) -> None:
    with Store.open(db_url) as setup:
        items = [stored(setup, f"a{i}", tag("partner/jp", 0.7)) for i in range(5)]
        for chat in range(1, 31):
            setup.upsert_chat(chat, kind="private", title=None, now=NOW)
            for item in items:
                alert(setup, chat, item)
    claimed: dict[str, list[int]] = {f"w{n}": [] for n in range(4)}
    barrier = threading.Barrier(len(claimed))

    def work(name: str) -> None:
        with Store.open(db_url) as mine:
            barrier.wait()
            while batch := claim(mine, worker=name, limit=4):
                claimed[name].extend(batch)
                send_all(mine, batch)

    threads = [threading.Thread(target=work, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [message_id for ids in claimed.values() for message_id in ids]
    assert len(everything) == len(set(everything)) == 150
    with Store.open(db_url) as check:
        assert check.outbox_counts(now=NOW) == {"pending": 0, "sent": 150, "failed": 0, "held": 0}


def test_a_crashed_senders_lease_runs_out(store: Store) -> None:
    store.upsert_chat(1, kind="private", title=None, now=NOW)
    ids = [queued_alert(store, 1, stored(store, f"a{i}", tag("partner/jp", 0.7))) for i in range(3)]
    first = store.claim_messages(worker="crashed", now=NOW, limit=2, lease_s=30)
    assert [m.id for m in first] == ids[:2]
    assert claim(store, worker="w2", at=NOW + 29 * SECOND) == []  # the chat is busy
    assert claim(store, worker="w2", at=NOW + 30 * SECOND) == ids  # in order again
    store.release(ids)
    assert claim(store, worker="w3", at=NOW + 31 * SECOND) == ids


def test_claim_respects_not_before_limit_and_fairness(store: Store) -> None:
    for chat in (1, 2, 3):
        store.upsert_chat(chat, kind="private", title=None, now=NOW)
    items = [stored(store, f"a{i}", tag("partner/jp", 0.7)) for i in range(3)]
    ones = [queued_alert(store, 1, item) for item in items]
    twos = [queued_alert(store, 2, item) for item in items]
    later = alert(store, 3, items[0], not_before=NOW + HOUR)
    assert claim(store, worker="w2", limit=0) == []
    assert claim(store, limit=4) == [ones[0], ones[1], twos[0], twos[1]]  # two chats, in turn
    assert claim(store, worker="w2", at=NOW + SECOND) == []  # both chats are busy
    assert claim(store, worker="w2", at=NOW + HOUR) == [*ones, *twos, later]


def test_a_message_held_back_holds_back_the_chats_later_ones(store: Store) -> None:
    for chat in (1, 2):
        store.upsert_chat(chat, kind="private", title=None, now=NOW)
    items = [stored(store, f"a{i}", tag("partner/jp", 0.7)) for i in range(2)]
    ones = [queued_alert(store, 1, item) for item in items]
    two = queued_alert(store, 2, items[0])
    first = store.claim_messages(worker="w1", now=NOW, limit=10, lease_s=LEASE_S)
    assert [m.id for m in first] == [ones[0], ones[1], two]
    store.mark_retry(ones[0], error="TimedOut", not_before=NOW + 10 * SECOND)
    store.release([ones[1]])
    store.mark_sent(two, telegram_message_id=77, now=NOW)
    assert claim(store, at=NOW + SECOND) == []  # chat 1's second message waits for its first
    retried = store.claim_messages(worker="w1", now=NOW + 10 * SECOND, limit=10, lease_s=LEASE_S)
    assert [(m.id, m.attempts) for m in retried] == [(ones[0], 1), (ones[1], 0)]


# --- outcomes -------------------------------------------------------------------------


def test_mark_sent_failed_and_counts(store: Store) -> None:
    store.upsert_chat(1, kind="private", title=None, now=NOW)
    a, b, c = (
        queued_alert(store, 1, stored(store, f"a{i}", tag("partner/jp", 0.7))) for i in range(3)
    )
    message = store.claim_messages(worker="w1", now=NOW, limit=1, lease_s=LEASE_S)[0]
    assert (message.chat_id, message.thread_id, message.kind) == (1, None, "alert")
    assert message.text.startswith("<b>") and message.preview_url == "https://baoquocte.vn/a0.html"
    store.mark_sent(a, telegram_message_id=501, now=NOW)
    store.mark_failed(b, error="Bad Request: can't parse entities", now=NOW)
    assert store.sent_messages(1) == [(501, message.text)]
    assert store.outbox_counts(now=NOW) == {"pending": 1, "sent": 1, "failed": 1, "held": 0}
    assert claim(store) == [c]
    with pytest.raises(StoreError, match="424242"):
        store.mark_sent(424242, telegram_message_id=1, now=NOW)


def test_hold_chat_holds_only_that_chat(store: Store) -> None:
    for chat in (1, 2):
        store.upsert_chat(chat, kind="private", title=None, now=NOW)
    item = stored(store, "a", tag("partner/jp", 0.7))
    one, two = queued_alert(store, 1, item), queued_alert(store, 2, item)
    assert claim(store) == [one, two]
    store.hold_chat(1, until=NOW + 30 * SECOND)  # Telegram: retry after 30 s
    store.release([two])
    assert store.outbox_counts(now=NOW) == {"pending": 2, "sent": 0, "failed": 0, "held": 1}
    assert claim(store, at=NOW + SECOND) == [two]
    assert claim(store, worker="w2", at=NOW + 30 * SECOND) == [one]


def test_split_message_keeps_the_place_in_the_queue(store: Store) -> None:
    store.upsert_chat(1, kind="private", title=None, now=NOW)
    store.subscribe(Subscription(1, "partner/jp", "daily"))
    key = digest_key(1, None, "daily", date(2025, 3, 1))
    ids = digest(store, 1, key, ["part 0", "part 1 (too long)", "part 2"])
    item = stored(store, "a", tag("partner/jp", 0.7))
    follow = queued_alert(store, 1, item)
    claimed = store.claim_messages(worker="w1", now=NOW, limit=10, lease_s=LEASE_S)
    assert [m.id for m in claimed] == [*ids, follow]
    store.mark_sent(ids[0], telegram_message_id=1, now=NOW)

    parts = store.split_message(ids[1], ["part 1a", "part 1b"])
    assert claim(store, worker="w2") == []  # the parts keep w1's lease
    store.release([*parts, ids[2], follow])  # w1 shuts down
    again = store.claim_messages(worker="w2", now=NOW, limit=10, lease_s=LEASE_S)
    assert [m.text for m in again] == ["part 1a", "part 1b", "part 2", f"<b>{item.title}</b>"]
    assert [m.kind for m in again] == ["digest", "digest", "digest", "alert"]
    send_all(store, [m.id for m in again], at=NOW + SECOND)
    assert [text for _, text in store.sent_messages(1)] == ["part 0", *[m.text for m in again]]
    assert store.outbox_counts(now=NOW) == {"pending": 0, "sent": 5, "failed": 0, "held": 0}
    with pytest.raises(StoreError, match="not pending"):
        store.split_message(ids[1], ["x"])


def test_a_split_alert_still_blocks_a_second_alert(store: Store) -> None:
    store.upsert_chat(1, kind="private", title=None, now=NOW)
    item = stored(store, "a", tag("partner/jp", 0.7))
    first = queued_alert(store, 1, item)
    claim(store)
    parts = store.split_message(first, ["one", "two"])
    assert len(parts) == 2
    assert alert(store, 1, item) is None
    with pytest.raises(ValueError, match="at least one"):
        store.split_message(parts[0], [])


# --- migrating a group to a supergroup ------------------------------------------------


def test_migrate_chat_moves_everything(store: Store) -> None:
    old, new = -4001, -1004001
    store.upsert_chat(old, kind="group", title="Nhóm", language="vi", now=NOW)
    store.update_chat(
        old, timezone="Asia/Jakarta", digest_time="07:15", quiet_start="22:00", quiet_end="06:00"
    )
    store.subscribe(Subscription(old, "partner/jp"), now=NOW)
    store.subscribe(Subscription(old, "org/asean", "daily"), now=NOW)
    sent_story = stored(store, "sent", tag("partner/jp", 0.7))
    waiting_story = stored(store, "waiting", tag("partner/jp", 0.7))
    digest_story = stored(store, "digest", tag("org/asean", 0.7))
    sent = queued_alert(store, old, sent_story)
    today = digest(store, old, digest_key(old, None, "daily", date(2025, 3, 1)), ["digest"])
    send_all(store, claim(store))
    waiting = alert(store, old, waiting_story)
    collect(store, old, digest_story)

    store.migrate_chat(old, new, now=NOW)

    moved = store.chat(new)
    assert moved == ChatSettings(
        chat_id=new,
        kind="supergroup",
        title="Nhóm",
        language="vi",
        timezone="Asia/Jakarta",
        digest_time="07:15",
        quiet_start="22:00",
        quiet_end="06:00",
    )
    gone = store.chat(old)
    assert gone is not None and not gone.active
    assert store.subscriptions(new) == [
        Subscription(new, "org/asean", "daily"),
        Subscription(new, "partner/jp"),
    ]
    assert store.subscriptions(old) == []
    assert {s.chat_id for s in store.subscriptions_for_topics(["partner/jp"])} == {new}
    pending = store.claim_messages(worker="w", now=NOW, limit=9, lease_s=1)
    assert [(m.id, m.chat_id) for m in pending] == [(waiting, new)]
    assert alert(store, new, sent_story) is None  # already seen in the old group
    assert digest(store, new, digest_key(new, None, "daily", date(2025, 3, 1)), ["again"]) == []
    assert [e.article.id for e in store.due_digest_items(new, None, "daily")] == [digest_story.id]
    assert [message_id for message_id, _ in store.sent_messages(old)] == [
        1000 + message_id for message_id in (sent, *today)
    ]


def test_migrating_into_a_chat_that_already_exists(store: Store) -> None:
    old, new = -4001, -1004001
    store.upsert_chat(old, kind="group", title="Nhóm", now=NOW)
    store.update_chat(old, language="id")
    store.upsert_chat(new, kind="supergroup", title="Nhóm", now=NOW)
    for chat in (old, new):
        store.subscribe(Subscription(chat, "partner/jp"), now=NOW)
    item = stored(store, "a", tag("partner/jp", 0.7))
    for chat in (old, new):
        alert(store, chat, item)
    store.migrate_chat(old, new, now=NOW)
    assert store.subscriptions(new) == [Subscription(new, "partner/jp")]
    assert [m.chat_id for m in store.claim_messages(worker="w", now=NOW, limit=9, lease_s=1)] == [
        new
    ]
    merged = store.chat(new)
    assert merged is not None and merged.language == "id"
    with pytest.raises(StoreError, match="777"):
        store.migrate_chat(777, new)


# --- digests --------------------------------------------------------------------------


def test_digest_items_and_enqueue_digest(store: Store) -> None:
    store.upsert_chat(1, kind="private", title=None, now=NOW)
    japan = stored(store, "jp", tag("partner/jp", 0.7), tag("theme/economy", 0.5))
    copy = stored(
        store,
        "jp-en",
        tag("partner/jp", 0.6),
        story=japan.story_id,
        canonical_url="https://vietnam.vn/en/jp",
        site="Vietnam.vn",
    )
    asean = stored(store, "asean", tag("org/asean", 0.7), at=NOW + HOUR)
    alerted = stored(store, "alerted", tag("partner/jp", 0.7))
    alert(store, 1, alerted)

    assert collect(store, 1, japan) is True
    assert collect(store, 1, copy) is False  # the story is already collected
    assert collect(store, 1, asean) is True
    assert collect(store, 1, alerted) is False  # already alerted to this chat
    due = store.due_digest_items(1, None, "daily")
    assert [e.article.id for e in due] == [japan.id, asean.id]
    assert [t.id for t in due[0].tags] == ["partner/jp", "theme/economy"]
    assert due[0].also_in == ("Vietnam.vn",)
    assert store.due_digest_items(1, None, "weekly") == []
    assert store.due_digest_items(1, 5, "daily") == []

    key = digest_key(1, None, "daily", date(2025, 3, 1))
    assert key == "digest:1:0:daily:2025-03-01"
    ids = digest(store, 1, key, ["a", "b"], item_ids=[japan.id])
    assert len(ids) == 2
    assert [e.article.id for e in store.due_digest_items(1, None, "daily")] == [asean.id]
    assert digest(store, 1, key, ["a", "b"]) == []  # already queued: nothing changes
    assert [e.article.id for e in store.due_digest_items(1, None, "daily")] == [asean.id]
    assert digest(store, 1, digest_key(1, None, "daily", date(2025, 3, 2)), []) == []
    assert len(digest(store, 1, digest_key(1, None, "daily", date(2025, 3, 2)), ["c"])) == 1
    assert store.due_digest_items(1, None, "daily") == []
    messages = store.claim_messages(worker="w", now=NOW, limit=10, lease_s=1)
    assert [(m.kind, m.text) for m in messages][:1] == [("alert", f"<b>{alerted.title}</b>")]
    assert [m.text for m in messages if m.kind == "digest"] == ["a", "b", "c"]


def test_digest_entries_one_per_story_with_topics(store: Store) -> None:
    original = stored(store, "goc", tag("partner/jp", 0.7), relevance=0.7, at=NOW)
    best = stored(
        store,
        "ban-dich",
        tag("partner/jp", 0.6),
        tag("theme/economy", 0.5),
        story=original.story_id,
        relevance=0.9,
        at=NOW + HOUR,
        canonical_url="https://vietnam.vn/id/jp",
        site="Vietnam.vn",
    )
    stored(
        store,
        "mirror",
        story=original.story_id,
        relevance=0.2,
        at=NOW + HOUR,
        canonical_url="https://mirror.example/jp",
        site="Mirror",
    )
    asean = stored(store, "asean", tag("org/asean", 0.7), at=NOW + 2 * HOUR)
    stored(store, "football", tag("partner/jp", 0.3), relevance=0.1, at=NOW + 3 * HOUR)
    stored(store, "old", tag("partner/jp", 0.7), at=NOW - 2 * DAY)

    everything = store.digest_entries(since=NOW - HOUR, topics=None)
    assert [e.article.id for e in everything] == [asean.id, best.id]  # newest first
    assert everything[1].also_in == ("Báo Quốc tế", "Mirror")
    assert [t.id for t in everything[1].tags] == ["partner/jp", "theme/economy"]

    japan = store.digest_entries(since=NOW - HOUR, topics=["partner/jp", "partner/us"])
    assert [e.article.id for e in japan] == [best.id]
    assert (
        store.digest_entries(since=NOW - HOUR, topics=["partner/jp"], min_score=0.65)[0].article.id
        == original.id
    )
    assert store.digest_entries(since=NOW - HOUR, topics=[]) == []
    assert [e.article.id for e in store.digest_entries(since=NOW - HOUR, topics=None, limit=1)] == [
        asean.id
    ]
    assert len(store.digest_entries(since=NOW - 3 * DAY, topics=["partner/jp"])) == 2


def test_digest_queries_are_fast_with_100000_articles(store: Store, db_url: str) -> None:
    _bulk_articles(db_url, 100_000)
    store.upsert_chat(1, kind="private", title=None, now=NOW)
    for article_id in range(1, 100_001, 200):
        story_id = (article_id + 1) // 2
        store.add_digest_item(
            chat_id=1,
            thread_id=None,
            mode="daily",
            story_id=story_id,
            article_id=article_id,
            now=NOW,
        )
    started = time.perf_counter()
    entries = store.digest_entries(since=NOW - 30 * DAY, topics=["partner/jp", "org/asean"])
    everything = store.digest_entries(since=NOW - 30 * DAY, topics=None)
    due = store.due_digest_items(1, None, "daily")
    elapsed = time.perf_counter() - started
    assert len(entries) == len(everything) == 200 and len(due) == 500
    assert len({e.article.story_id for e in everything}) == 200  # one per story
    assert all(len(e.also_in) == 1 and e.also_in[0] != e.article.site for e in entries)
    assert all({t.id for t in e.tags} & {"partner/jp", "org/asean"} for e in entries)
    assert elapsed < 3.0, f"digest queries took {elapsed:.2f}s"


def _bulk_articles(db_url: str, count: int) -> None:
    """`count` tagged articles, two per story, written directly for speed."""
    engine = make_engine(database_url(db_url))
    topics = ("partner/jp", "org/asean", "theme/economy", "partner/fr")
    with engine.begin() as conn:
        conn.execute(
            insert(stories), [{"id": i, "created_at": NOW} for i in range(1, count // 2 + 1)]
        )
        rows = []
        for i in range(1, count + 1):
            rows.append(
                {
                    "id": i,
                    "story_id": (i + 1) // 2,
                    "source": "s",
                    "url": f"https://a.example/{i}",
                    "canonical_url": f"https://a.example/{i}",
                    "title": f"T{i}",
                    "text": "x" * 300,
                    "fetched_at": NOW - timedelta(minutes=i % 40_000),
                    "fingerprint": i,
                    "site": "Báo Quốc tế" if i % 2 else "Mirror",
                    "relevant": i % 3 != 0,
                    "relevance": (i % 10) / 10,
                }
            )
        conn.execute(insert(articles), rows)
        conn.execute(
            insert(article_tags),
            [
                {
                    "article_id": i,
                    "tag_id": topics[(i + k) % 4],
                    "facet": "x",
                    "label": "x",
                    "score": 0.6,
                    "evidence": ("x",),
                }
                for i in range(1, count + 1)
                for k in range(2)
            ],
        )
    engine.dispose()
