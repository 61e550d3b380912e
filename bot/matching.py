"""Matching stage (pure): a tagged article and the subscriptions → who gets it, and when.

In: an article's tags and relevance, subscriptions, a chat's settings and the time.
Out: the subscriptions to deliver to (one per chat and thread), the end of a chat's
quiet hours, the next digest time as UTC, and the period of `/digest 3d`.
Local times are the chat's IANA zone, so daylight-saving changes are followed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.models import ChatSettings, DeliveryMode, Subscription, Tag

# A tag from one passing mention in the body scores about 0.29 (see bot.tagging); a
# subscriber wants articles that are about the topic, not ones that name it once.
MIN_SCORE = 0.4
MAX_PERIOD = timedelta(days=31)
# Instant beats a daily digest, which beats a weekly one, for the same chat and thread.
_MODE_RANK: dict[str, int] = {"instant": 0, "daily": 1, "weekly": 2}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_PERIOD = re.compile(r"^(\d{1,4})\s*([hdw])$", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def matching_subscriptions(
    tags: Sequence[Tag],
    relevant: bool,
    subscriptions: Sequence[Subscription],
    *,
    min_score: float = MIN_SCORE,
) -> list[Subscription]:
    """The subscriptions a relevant article goes to: at most one per chat and thread.

    A subscription matches when its topic is a tag scoring at least `min_score`; of a
    chat's and thread's matches, the most immediate mode wins, then the topic the article
    is most about. The result keeps the order of `subscriptions`.
    """
    if not relevant:
        return []
    scores = {tag.id: tag.score for tag in tags if tag.score >= min_score}
    best: dict[tuple[int, int | None], tuple[int, Subscription]] = {}
    for position, sub in enumerate(subscriptions):
        if sub.topic not in scores:
            continue
        place = (sub.chat_id, sub.thread_id)
        held = best.get(place)
        if held is None or _better(sub, held[1], scores):
            best[place] = (held[0] if held else position, sub)
    return [sub for _, sub in sorted(best.values(), key=lambda item: item[0])]


def _better(sub: Subscription, held: Subscription, scores: dict[str, float]) -> bool:
    mine, theirs = _MODE_RANK[sub.mode], _MODE_RANK[held.mode]
    return mine < theirs or (mine == theirs and scores[sub.topic] > scores[held.topic])


def parse_clock(text: str) -> time:
    """'HH:MM' (24-hour) → time; ValueError with a readable message."""
    found = _CLOCK.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. 07:30 or 22:00")
    return time(int(found.group(1)), int(found.group(2)))


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA time zone name (e.g. 'Asia/Ho_Chi_Minh') → ZoneInfo; ValueError if unknown."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        message = f"{name!r} is not a time zone: use a name such as Asia/Ho_Chi_Minh"
        raise ValueError(message) from exc


def parse_period(text: str) -> timedelta:
    """'24h', '3d', '1w' → timedelta; ValueError with a readable message."""
    found = _PERIOD.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a period: use hours, days or weeks, e.g. 24h, 3d, 1w")
    period = int(found.group(1)) * _UNITS[found.group(2).lower()]
    if not timedelta(0) < period <= MAX_PERIOD:
        raise ValueError(f"{text!r}: a period is between 1h and {MAX_PERIOD.days}d")
    return period


def quiet_until(chat: ChatSettings, now: datetime) -> datetime | None:
    """The end of the chat's current quiet hours as UTC, or None when it is not quiet now.

    Quiet hours run from quiet_start (included) to quiet_end (excluded), local time, and
    may cross midnight (22:00–07:00). Equal or missing ends mean no quiet hours.
    """
    if chat.quiet_start is None or chat.quiet_end is None:
        return None
    start, end = parse_clock(chat.quiet_start), parse_clock(chat.quiet_end)
    if start == end:
        return None
    zone = parse_timezone(chat.timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        quiet, ends_on = start <= clock < end, local.date()
    elif clock >= start:
        quiet, ends_on = True, local.date() + timedelta(days=1)
    else:
        quiet, ends_on = clock < end, local.date()
    if not quiet:
        return None
    first = _utc(ends_on, end, zone)
    if first > now:
        return first
    # The end is a repeated wall time (clocks going back) already passed once.
    return _utc(ends_on, end, zone, fold=1)


def next_digest_at(chat: ChatSettings, mode: DeliveryMode, after: datetime) -> datetime:
    """The first local digest_time strictly after `after` (weekly: on digest_weekday), as UTC.

    A digest time skipped when clocks go forward is taken as far past the gap as it was
    into it (02:30 → 03:30); one that happens twice when they go back counts once, the
    first time.
    """
    if mode == "instant":
        raise ValueError("instant subscriptions have no digest time")
    zone = parse_timezone(chat.timezone)
    at = parse_clock(chat.digest_time)
    day = after.astimezone(zone).date()
    if mode == "weekly":
        day += timedelta(days=(chat.digest_weekday - day.weekday()) % 7)
    step = timedelta(days=7 if mode == "weekly" else 1)
    while (candidate := _utc(day, at, zone)) <= after:
        day += step
    return candidate


def _utc(day: date, at: time, zone: ZoneInfo, *, fold: int = 0) -> datetime:
    """A local wall time as UTC; compared in UTC, since comparisons across zones treat
    times in a gap or fold specially."""
    return datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC)
