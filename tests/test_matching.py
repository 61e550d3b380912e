"""Matching: who gets an article, quiet hours, digest times and /digest periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.matching import (
    MIN_SCORE,
    matching_subscriptions,
    next_digest_at,
    parse_clock,
    parse_period,
    parse_timezone,
    quiet_until,
)
from bot.models import ChatSettings, DeliveryMode, Subscription, Tag


def utc(text: str) -> datetime:
    """'2025-03-01 16:30' as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def tag(tag_id: str, score: float) -> Tag:
    """A tag as the tagger gives it."""
    return Tag(id=tag_id, facet=tag_id.split("/")[0], label=tag_id, score=score, evidence=())


# An article about Japan (title), with one passing mention of France in the body.
TAGS = (tag("partner/jp", 0.65), tag("theme/economy", 0.5), tag("partner/fr", 0.29))


def sub(
    chat: int, topic: str, mode: DeliveryMode = "instant", thread: int | None = None
) -> Subscription:
    """A subscription as the store returns it."""
    return Subscription(chat_id=chat, topic=topic, mode=mode, thread_id=thread)


# --- matching_subscriptions -----------------------------------------------------------


@pytest.mark.parametrize(
    ("subscriptions", "expected"),
    [
        pytest.param([sub(1, "partner/jp")], [sub(1, "partner/jp")], id="topic-among-tags"),
        pytest.param([sub(1, "partner/us")], [], id="topic-not-tagged"),
        pytest.param([sub(1, "partner/fr")], [], id="passing-mention-below-min-score"),
        pytest.param(
            [sub(1, "theme/economy", "daily"), sub(1, "partner/jp", "instant")],
            [sub(1, "partner/jp", "instant")],
            id="instant-wins-over-daily",
        ),
        pytest.param(
            [sub(1, "partner/jp", "weekly"), sub(1, "theme/economy", "daily")],
            [sub(1, "theme/economy", "daily")],
            id="daily-wins-over-weekly",
        ),
        pytest.param(
            [sub(1, "theme/economy"), sub(1, "partner/jp")],
            [sub(1, "partner/jp")],
            id="same-mode-strongest-topic",
        ),
        pytest.param(
            [
                sub(1, "partner/jp", thread=7),
                sub(1, "partner/jp"),
                sub(1, "theme/economy", thread=9),
            ],
            [
                sub(1, "partner/jp", thread=7),
                sub(1, "partner/jp"),
                sub(1, "theme/economy", thread=9),
            ],
            id="one-per-thread",
        ),
        pytest.param(
            [sub(3, "partner/jp", "daily"), sub(2, "theme/economy"), sub(3, "theme/economy")],
            [sub(3, "theme/economy"), sub(2, "theme/economy")],
            id="chats-in-first-seen-order",
        ),
        pytest.param([], [], id="no-subscriptions"),
    ],
)
def test_matching_rules(subscriptions: list[Subscription], expected: list[Subscription]) -> None:
    assert matching_subscriptions(TAGS, True, subscriptions) == expected


def test_irrelevant_articles_match_nobody() -> None:
    assert matching_subscriptions(TAGS, False, [sub(1, "partner/jp")]) == []


def test_min_score_can_be_lowered() -> None:
    subs = [sub(1, "partner/fr")]
    assert matching_subscriptions(TAGS, True, subs) == []
    assert matching_subscriptions(TAGS, True, subs, min_score=0.2) == subs
    assert 0.29 < MIN_SCORE <= 0.5  # one passing mention: no; a mention in the lead: yes


# --- quiet hours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "end", "now", "expected"),
    [
        # Hanoi (UTC+7), 22:00–07:00 crosses midnight
        ("Asia/Ho_Chi_Minh", "22:00", "07:00", "2025-03-01 16:30", "2025-03-02 00:00"),
        ("Asia/Ho_Chi_Minh", "22:00", "07:00", "2025-03-01 23:00", "2025-03-02 00:00"),
        ("Asia/Ho_Chi_Minh", "22:00", "07:00", "2025-03-01 15:00", "2025-03-02 00:00"),
        ("Asia/Ho_Chi_Minh", "22:00", "07:00", "2025-03-01 14:59", None),
        ("Asia/Ho_Chi_Minh", "22:00", "07:00", "2025-03-02 00:00", None),  # end excluded
        ("Asia/Ho_Chi_Minh", "22:00", "07:00", "2025-03-01 05:00", None),
        # within one day
        ("Asia/Ho_Chi_Minh", "12:00", "13:30", "2025-03-01 05:15", "2025-03-01 06:30"),
        ("Asia/Ho_Chi_Minh", "12:00", "13:30", "2025-03-01 06:30", None),
        ("Asia/Ho_Chi_Minh", "12:00", "13:30", "2025-03-01 16:30", None),
        # New York in winter (UTC-5): the local evening is the next UTC day
        ("America/New_York", "23:00", "06:00", "2025-01-15 04:30", "2025-01-15 11:00"),
        ("America/New_York", "23:00", "06:00", "2025-01-15 03:59", None),
        # Kolkata (UTC+5:30)
        ("Asia/Kolkata", "21:30", "06:15", "2025-03-01 16:00", "2025-03-02 00:45"),
        # Paris, clocks forward at 02:00 on 30 March: 01:30 CET → 03:00 CEST
        ("Europe/Paris", "01:00", "03:00", "2025-03-30 00:30", "2025-03-30 01:00"),
        # Paris, clocks back at 03:00 on 26 October: 02:30 happens twice
        ("Europe/Paris", "02:00", "02:45", "2025-10-26 00:30", "2025-10-26 00:45"),
        ("Europe/Paris", "02:00", "02:45", "2025-10-26 01:30", "2025-10-26 01:45"),
        # no quiet hours
        ("Asia/Ho_Chi_Minh", "08:00", "08:00", "2025-03-01 01:00", None),
        ("Asia/Ho_Chi_Minh", None, "07:00", "2025-03-01 23:00", None),
        ("Asia/Ho_Chi_Minh", "22:00", None, "2025-03-01 16:30", None),
    ],
)
def test_quiet_until(
    zone: str, start: str | None, end: str | None, now: str, expected: str | None
) -> None:
    chat = ChatSettings(chat_id=1, timezone=zone, quiet_start=start, quiet_end=end)
    until = quiet_until(chat, utc(now))
    assert until == (None if expected is None else utc(expected))
    assert until is None or (until.tzinfo == UTC and until > utc(now))


def test_quiet_until_accepts_any_aware_now() -> None:
    chat = ChatSettings(chat_id=1, quiet_start="22:00", quiet_end="07:00")
    hanoi_evening = datetime.fromisoformat("2025-03-01T23:30:00+07:00")
    assert quiet_until(chat, hanoi_evening) == utc("2025-03-02 00:00")


# --- digest times ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "at", "weekday", "mode", "after", "expected"),
    [
        # Hanoi, no daylight saving; 08:00 local is 01:00 UTC
        ("Asia/Ho_Chi_Minh", "08:00", 0, "daily", "2025-03-01 00:30", "2025-03-01 01:00"),
        ("Asia/Ho_Chi_Minh", "08:00", 0, "daily", "2025-03-01 01:00", "2025-03-02 01:00"),
        ("Asia/Ho_Chi_Minh", "08:00", 0, "daily", "2025-03-01 18:00", "2025-03-02 01:00"),
        ("Asia/Ho_Chi_Minh", "08:00", 0, "daily", "2025-12-31 23:30", "2026-01-01 01:00"),
        # weekly on Monday; 1 March 2025 is a Saturday
        ("Asia/Ho_Chi_Minh", "08:00", 0, "weekly", "2025-03-01 00:00", "2025-03-03 01:00"),
        ("Asia/Ho_Chi_Minh", "08:00", 0, "weekly", "2025-03-03 00:59", "2025-03-03 01:00"),
        ("Asia/Ho_Chi_Minh", "08:00", 0, "weekly", "2025-03-03 01:00", "2025-03-10 01:00"),
        ("Asia/Ho_Chi_Minh", "08:00", 5, "weekly", "2025-02-28 23:00", "2025-03-01 01:00"),
        # New York, Sunday 20:00 EST is Monday 01:00 UTC
        ("America/New_York", "20:00", 6, "weekly", "2025-01-15 12:00", "2025-01-20 01:00"),
        # Paris, clocks forward on 30 March: 08:00 CET = 07:00 UTC, 08:00 CEST = 06:00 UTC
        ("Europe/Paris", "08:00", 0, "daily", "2025-03-29 07:30", "2025-03-30 06:00"),
        ("Europe/Paris", "08:00", 6, "weekly", "2025-03-28 12:00", "2025-03-30 06:00"),
        # Paris, clocks back on 26 October
        ("Europe/Paris", "08:00", 0, "daily", "2025-10-25 06:00", "2025-10-26 07:00"),
        # 02:30 does not exist on 30 March: taken as 03:30 CEST
        ("Europe/Paris", "02:30", 0, "daily", "2025-03-29 02:00", "2025-03-30 01:30"),
        # 02:30 happens twice on 26 October: once, the first time (CEST)
        ("Europe/Paris", "02:30", 0, "daily", "2025-10-25 23:00", "2025-10-26 00:30"),
        ("Europe/Paris", "02:30", 0, "daily", "2025-10-26 00:30", "2025-10-27 01:30"),
    ],
)
def test_next_digest_at(
    zone: str, at: str, weekday: int, mode: DeliveryMode, after: str, expected: str
) -> None:
    chat = ChatSettings(chat_id=1, timezone=zone, digest_time=at, digest_weekday=weekday)
    found = next_digest_at(chat, mode, utc(after))
    assert found == utc(expected)
    assert found.tzinfo == UTC


def test_instant_has_no_digest_time() -> None:
    with pytest.raises(ValueError, match="instant"):
        next_digest_at(ChatSettings(chat_id=1), "instant", utc("2025-03-01 00:00"))


def test_bad_chat_settings_are_value_errors() -> None:
    now = utc("2025-03-01 00:00")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        next_digest_at(ChatSettings(chat_id=1, timezone="Mars/Olympus"), "daily", now)
    with pytest.raises(ValueError, match="25:00"):
        quiet_until(ChatSettings(chat_id=1, quiet_start="25:00", quiet_end="07:00"), now)


# --- parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("1h", timedelta(hours=1)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        (" 2D ", timedelta(days=2)),
        ("12 h", timedelta(hours=12)),
        ("31d", timedelta(days=31)),
    ],
)
def test_parse_period(text: str, expected: timedelta) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a period"),
        ("abc", "not a period"),
        ("3x", "not a period"),
        ("-1d", "not a period"),
        ("1.5d", "not a period"),
        ("d", "not a period"),
        ("0h", "between 1h and 31d"),
        ("32d", "between 1h and 31d"),
        ("5w", "between 1h and 31d"),
    ],
)
def test_parse_period_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_period(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("07:30", (7, 30)), ("7:30", (7, 30)), ("00:00", (0, 0)), ("23:59", (23, 59))],
)
def test_parse_clock(text: str, expected: tuple[int, int]) -> None:
    found = parse_clock(text)
    assert (found.hour, found.minute) == expected


@pytest.mark.parametrize("text", ["24:00", "7", "07:60", "ab:cd", "7h30", ""])
def test_parse_clock_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock(text)


def test_parse_timezone() -> None:
    assert parse_timezone(" Europe/Paris ").key == "Europe/Paris"
    for bad in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(ValueError, match="not a time zone"):
            parse_timezone(bad)
