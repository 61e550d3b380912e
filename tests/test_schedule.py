"""next_check_at(): backoff grows and resets, server hints win, jitter stays bounded."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import SourceState
from bot.schedule import MAX_BACKOFF_S, backoff_s, is_due, is_failing, next_check_at

NOW = datetime(2025, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval_s", "errors", "expected_s"),
    [
        (900, 0, 900),
        (900, 1, 1800),
        (900, 2, 3600),
        (900, 3, 7200),
        (900, 4, 14400),
        (900, 5, MAX_BACKOFF_S),  # capped
        (900, 500, MAX_BACKOFF_S),  # no overflow on a source broken for months
        (86400, 3, 86400),  # the cap never shortens a long interval
        (60, 1, 120),
    ],
)
def test_backoff_doubles_per_error_and_is_capped(
    interval_s: int, errors: int, expected_s: float
) -> None:
    assert backoff_s(interval_s, errors) == expected_s


def test_success_resets_backoff_to_the_interval() -> None:
    after_errors = next_check_at(NOW, 900, consecutive_errors=4, jitter=0)
    after_success = next_check_at(NOW, 900, consecutive_errors=0, jitter=0)
    assert after_errors - NOW == timedelta(seconds=14400)
    assert after_success - NOW == timedelta(seconds=900)


@pytest.mark.parametrize(
    ("hint_s", "expected_s"),
    [
        (None, 900),
        (60, 900),  # a short max-age does not make us poll more often
        (3600, 3600),  # Retry-After / max-age beyond the interval is respected
        (10 * 86400, 86400),  # but capped at a day
    ],
)
def test_server_hint_is_the_earliest_next_poll(hint_s: float | None, expected_s: float) -> None:
    assert next_check_at(NOW, 900, not_before_s=hint_s, jitter=0) - NOW == timedelta(
        seconds=expected_s
    )


def test_jitter_stays_within_ten_percent_and_spreads_sources() -> None:
    rng = random.Random(7)
    delays = {(next_check_at(NOW, 900, rng=rng) - NOW).total_seconds() for _ in range(200)}
    assert min(delays) >= 810 and max(delays) <= 990
    assert len(delays) > 150


def test_due_and_failing() -> None:
    never = SourceState(name="a")
    later = SourceState(name="a", next_check_at=NOW + timedelta(seconds=1))
    assert is_due(never, NOW) and is_due(later, NOW + timedelta(seconds=1))
    assert not is_due(later, NOW)
    broken = SourceState(name="a", consecutive_errors=9, failing_since=NOW - timedelta(days=2))
    fresh = SourceState(name="a", consecutive_errors=1, failing_since=NOW - timedelta(minutes=5))
    assert is_failing(broken, NOW, 86400)
    assert not is_failing(fresh, NOW, 86400)
    assert not is_failing(never, NOW, 86400)
