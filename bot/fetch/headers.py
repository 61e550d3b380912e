"""Fetch stage, response headers: decoding, status classification and server timing hints.

In: raw header pairs, status codes and header values. Out: a header dict, FetchErrors
and seconds. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus

from bot.errors import FetchError

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Worth retrying later: the server or the path to it may recover.
TRANSIENT_STATUSES = frozenset({408, 425, 429})
_PHRASES = {s.value: s.phrase for s in HTTPStatus}


def decode_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header values by lower-cased name; a repeated header's values joined with ', '."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = _text(value)
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def max_age_s(cache_control: str | None) -> float | None:
    """Seconds from `Cache-Control: max-age=N`, or None when absent or malformed."""
    for directive in (cache_control or "").split(","):
        name, _, value = directive.partition("=")
        if name.strip().lower() != "max-age":
            continue
        try:
            seconds = int(value.strip().strip('"'))
        except ValueError:
            return None
        return float(seconds) if seconds >= 0 else None
    return None


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay seconds or HTTP-date), or None."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_transient_status(status: int) -> bool:
    """True for statuses that may succeed on a later try (408, 425, 429, 5xx)."""
    return status >= 500 or status in TRANSIENT_STATUSES


def status_reason(status: int, phrase: str = "") -> str:
    """'HTTP 404 Not Found', with the standard phrase when the status is known."""
    return f"HTTP {status} {_PHRASES.get(status, phrase)}".rstrip()


def status_error(url: str, status: int, phrase: str, retry_after: str | None) -> FetchError:
    """The FetchError for an unsuccessful status, with any Retry-After hint."""
    transient = is_transient_status(status)
    return FetchError(
        url,
        status_reason(status, phrase),
        transient=transient,
        status=status,
        retry_after_s=retry_after_s(retry_after) if transient else None,
    )


def _text(value: bytes) -> str:
    """A header value as text: UTF-8 when it is, else Latin-1 (which never fails)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")
