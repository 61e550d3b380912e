"""Scheduling maths (pure): when a source is due, and when to look again.

In: the configured interval, the server's hints (Cache-Control max-age,
Retry-After), the source's error streak, a clock and a random generator.
Out: the next check time. A failing source is backed off exponentially up to a
cap and flagged as failing after a while, but never abandoned.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from bot.models import SourceState

MAX_BACKOFF_S = 6 * 3600.0  # a broken source is still tried four times a day
MAX_HINT_S = 24 * 3600.0  # a server cannot push us away for longer than a day
JITTER = 0.1  # ±10 %, so sources with equal intervals drift apart


def backoff_s(interval_s: float, consecutive_errors: int, *, cap_s: float = MAX_BACKOFF_S) -> float:
    """The delay after `consecutive_errors` failures in a row: doubles each time, capped."""
    if consecutive_errors <= 0:
        return interval_s
    cap_s = max(cap_s, interval_s)
    exponent = min(consecutive_errors, 32)  # 2**32 × any interval is past every cap
    return min(interval_s * 2.0**exponent, cap_s)


def next_check_at(
    now: datetime,
    interval_s: float,
    *,
    consecutive_errors: int = 0,
    not_before_s: float | None = None,
    rng: random.Random | None = None,
    jitter: float = JITTER,
    max_backoff_s: float = MAX_BACKOFF_S,
) -> datetime:
    """When to poll a source next.

    The interval (or the backoff after errors) with jitter, but never earlier than
    the server asked (`not_before_s` from max-age or Retry-After, capped at a day).
    """
    delay = backoff_s(interval_s, consecutive_errors, cap_s=max_backoff_s)
    if jitter:
        delay *= 1.0 + (rng or random).uniform(-jitter, jitter)
    if not_before_s is not None and not_before_s > 0:
        delay = max(delay, min(not_before_s, MAX_HINT_S))
    return now + timedelta(seconds=delay)


def is_due(state: SourceState, now: datetime) -> bool:
    """True when the source has never been checked or its next check time has come."""
    return state.next_check_at is None or state.next_check_at <= now


def is_failing(state: SourceState, now: datetime, failing_after_s: float) -> bool:
    """True when the source has been failing without a break for `failing_after_s`."""
    if state.failing_since is None or state.consecutive_errors == 0:
        return False
    return now - state.failing_since >= timedelta(seconds=failing_after_s)
