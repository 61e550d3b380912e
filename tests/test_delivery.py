"""Matching and digests: tagged articles → outbox rows and digest messages, on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery import queue_due_digests, route_article
from bot.models import NewArticle, StoredArticle, Subscription, Tag, Tagging
from bot.store import Store
from bot.taxonomy import Taxonomy, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
TAXONOMY = load_taxonomy(ROOT / "seeds" / "taxonomy.yaml")
# 06:00 in Hanoi (UTC+7) is 23:00 UTC the day before
MORNING = datetime(2025, 12, 4, 23, 0, tzinfo=UTC) - timedelta(days=1)
JAPAN = Tag("partner/jp", "partner", "Japan", 2.5, ("Nhật Bản",))
LOCAL = Tag("theme/local-cooperation", "theme", "Local cooperation", 1.6, ("hợp tác địa phương",))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url) as opened:
        yield opened


@pytest.fixture
def taxonomy() -> Taxonomy:
    return TAXONOMY


def stored(store: Store, n: int, *, story: int | None = None, title: str = "") -> StoredArticle:
    article = store.add_article(
        NewArticle(
            source="nhandan",
            url=f"https://nhandan.vn/hop-tac-viet-nhat-{n}-post9{n:05}.html",
            canonical_url=f"https://nhandan.vn/hop-tac-viet-nhat-{n}-post9{n:05}.html",
            title=title or f"Hợp tác địa phương Việt Nam - Nhật Bản <{n}> & more",
            text="Tỉnh Quảng Ninh và tỉnh Kumamoto ký kết hợp tác nông nghiệp công nghệ cao. " * 5,
            lead="Hai địa phương mở rộng hợp tác.",
            published_at=MORNING - timedelta(hours=n),
            author=None,
            site="Nhân Dân",
            language="vi",
            image=None,
            fingerprint=n * 7919,
            credit_url=None,
        ),
        story_id=story,
        now=MORNING,
    )
    assert article is not None
    tagging = Tagging("vi", True, 0.9, (JAPAN, LOCAL))
    store.set_tagging(article.id, tagging, "Hai địa phương mở rộng hợp tác.", now=MORNING)
    return article


def tagging(relevant: bool = True) -> Tagging:
    return Tagging("vi", relevant, 0.9 if relevant else 0.1, (JAPAN, LOCAL))


def test_an_instant_subscription_gets_one_alert_per_story(store: Store, taxonomy: Taxonomy) -> None:
    store.upsert_chat(501, kind="private", title=None, language="en")
    store.subscribe(Subscription(501, "partner/jp", "instant"))
    first = stored(store, 1)
    copy = stored(store, 2, story=first.story_id)

    assert route_article(store, taxonomy, first, tagging(), MORNING) == 1
    assert route_article(store, taxonomy, copy, tagging(), MORNING) == 0  # same story
    assert route_article(store, taxonomy, stored(store, 3), tagging(relevant=False), MORNING) == 0

    [message] = store.claim_messages(worker="t", now=MORNING, limit=10, lease_s=60)
    assert message.chat_id == 501 and message.kind == "alert"
    assert "&lt;1&gt; &amp; more" in message.text  # every dynamic string escaped
    assert "Japan" in message.text and message.preview_url == first.url


def test_quiet_hours_hold_an_alert_until_they_end(store: Store, taxonomy: Taxonomy) -> None:
    store.upsert_chat(502, kind="private", title=None)
    store.update_chat(502, timezone="Asia/Ho_Chi_Minh", quiet_start="22:00", quiet_end="07:00")
    store.subscribe(Subscription(502, "partner/jp", "instant"))
    route_article(store, taxonomy, stored(store, 4), tagging(), MORNING)  # 06:00 local

    assert store.claim_messages(worker="t", now=MORNING, limit=10, lease_s=60) == []
    at_seven = MORNING + timedelta(hours=1)
    assert len(store.claim_messages(worker="t", now=at_seven, limit=10, lease_s=60)) == 1


def test_daily_digest_is_queued_at_the_chats_local_time_once(
    store: Store, taxonomy: Taxonomy
) -> None:
    store.upsert_chat(503, kind="group", title="Hội hữu nghị", language="vi")
    store.update_chat(503, timezone="Asia/Ho_Chi_Minh", digest_time="08:00")
    store.subscribe(Subscription(503, "partner/jp", "daily", thread_id=77))
    for n in range(5, 9):
        route_article(store, taxonomy, stored(store, n), tagging(), MORNING)

    assert queue_due_digests(store, taxonomy, MORNING) == 0  # 06:00 local: not yet
    eight = MORNING + timedelta(hours=2)
    assert queue_due_digests(store, taxonomy, eight) >= 1
    assert queue_due_digests(store, taxonomy, eight + timedelta(minutes=5)) == 0  # once a day

    messages = store.claim_messages(worker="t", now=eight, limit=10, lease_s=60)
    assert {(m.chat_id, m.thread_id, m.kind) for m in messages} == {(503, 77, "digest")}
    text = "\n".join(m.text for m in messages)
    for n in range(5, 9):
        assert f"&lt;{n}&gt;" in text
    assert all(len(m.text) <= 4096 for m in messages)
