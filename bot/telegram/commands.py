"""Telegram edge: command arguments → typed requests (pure, no telegram import).

In: the words after a command (`context.args`) or a button's callback data. Out:
values the handlers pass to the store, or `ArgumentError` naming the usage text to
show. Everything a user types is bounded here (count and length of words, ASCII
digits only in times, invisible characters dropped), so no handler ever stores or
echoes a bogus value.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Literal
from urllib.parse import urlsplit

from bot.matching import parse_period
from bot.models import UI_LANGUAGES, DeliveryMode, UiLanguage

MAX_WORDS = 20  # topic words taken from one command; the rest are ignored
MAX_WORD_CHARS = 64  # longer "words" are not topics; never looked up
MAX_ECHO_CHARS = 40  # user text quoted back in a reply is cut to this
MAX_DIGEST_PERIOD = timedelta(days=30)
DEFAULT_DIGEST_PERIOD = timedelta(hours=24)
CALLBACK_MAX_BYTES = 64  # Telegram's limit on callback_data

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
_PERIODISH = re.compile(r"[0-9]+\s*[a-z]*", re.ASCII | re.IGNORECASE)

_MODES: dict[str, DeliveryMode] = {
    "instant": "instant",
    "daily": "daily",
    "weekly": "weekly",
    # Indonesian and Vietnamese words for the same modes
    "langsung": "instant",
    "instan": "instant",
    "harian": "daily",
    "mingguan": "weekly",
    "ngay": "instant",
    "hangngay": "daily",
    "hang-ngay": "daily",
    "hangtuan": "weekly",
    "hang-tuan": "weekly",
}
_WEEKDAYS: tuple[tuple[str, ...], ...] = (
    ("mon", "monday", "sen", "senin", "t2", "thu2"),
    ("tue", "tuesday", "sel", "selasa", "t3", "thu3"),
    ("wed", "wednesday", "rab", "rabu", "t4", "thu4"),
    ("thu", "thursday", "kam", "kamis", "t5", "thu5"),
    ("fri", "friday", "jum", "jumat", "t6", "thu6"),
    ("sat", "saturday", "sab", "sabtu", "t7", "thu7"),
    ("sun", "sunday", "min", "minggu", "cn", "chunhat"),
)
WEEKDAY_NAMES = tuple(names[0] for names in _WEEKDAYS)


class ArgumentError(ValueError):
    """The arguments do not fit the command; `usage` names the help text to show."""

    def __init__(self, usage: str, detail: str = "") -> None:
        self.usage = usage
        self.detail = detail
        super().__init__(f"{usage}: {detail}" if detail else usage)


def fold_word(word: str) -> str:
    """Lower case, no diacritics, NFC: the key for matching keyword arguments."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.replace("đ", "d")


def visible(text: str) -> str:
    """`text` without control, format (zero-width, bidi overrides), private-use, surrogate
    and unassigned characters: only what a reader can see counts as typed."""
    return "".join(c for c in text if unicodedata.category(c)[0] != "C" or c == " ")


def visible_words(args: Sequence[str]) -> list[str]:
    """A command's words with invisible characters removed; words left empty are dropped."""
    return [word for word in (visible(arg).strip() for arg in args) if word]


def shorten(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """`text` fit for quoting back: invisible characters dropped, cut to `limit`."""
    shown = " ".join(visible(text).split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def topic_words(args: Sequence[str]) -> list[str]:
    """At most MAX_WORDS words that could name a topic: overlong ones, and those without a
    letter or digit (every topic name has one), are dropped."""
    words = [w for w in args if len(w) <= MAX_WORD_CHARS and any(c.isalnum() for c in w)]
    return words[:MAX_WORDS]


def mode_of(word: str) -> DeliveryMode | None:
    """The delivery mode a word names, in any of the three languages, or None."""
    return _MODES.get(fold_word(word))


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    """/subscribe: the topic words and the delivery mode."""

    words: tuple[str, ...]
    mode: DeliveryMode


def parse_subscribe(args: Sequence[str]) -> SubscribeRequest:
    """`<topic…> [instant|daily|weekly]`: the mode may stand anywhere; instant by default."""
    mode: DeliveryMode = "instant"
    words: list[str] = []
    for word in args:
        named = mode_of(word)
        if named is None:
            words.append(word)
        else:
            mode = named
    kept = topic_words(words)
    if not kept:
        raise ArgumentError("subscribe")
    return SubscribeRequest(tuple(kept), mode)


@dataclass(frozen=True, slots=True)
class DigestRequest:
    """/digest: how far back to look and the topic words (empty: the chat's own)."""

    period: timedelta
    words: tuple[str, ...]


def parse_digest(args: Sequence[str]) -> DigestRequest:
    """`[period] [topic…]`: a leading number is a period (24h by default, at most 30 days)."""
    words = list(args)
    period = DEFAULT_DIGEST_PERIOD
    if words and _PERIODISH.fullmatch(words[0]):
        try:
            period = parse_period(words[0])
        except ValueError as exc:
            raise ArgumentError("digest", str(exc)) from exc
        words = words[1:]
        if period <= timedelta(0) or period > MAX_DIGEST_PERIOD:
            raise ArgumentError("digest", "period")
    return DigestRequest(period, tuple(topic_words(words)))


# --- /settings ----------------------------------------------------------------------


def parse_hhmm(text: str) -> str:
    """'7:30' or '07:30' → '07:30'; anything else is an ArgumentError."""
    value = text.strip()
    if len(value) == 4 and value[1] == ":":
        value = "0" + value
    if not _HHMM.fullmatch(value):
        raise ArgumentError("settings", "time")
    return value


def parse_quiet(text: str) -> tuple[str, str] | None:
    """'22:00-07:00' → ('22:00', '07:00'); 'off' → None. Periods may cross midnight."""
    if fold_word(text.strip()) in ("off", "none", "mati", "tat"):
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise ArgumentError("settings", "quiet")
    first, last = parse_hhmm(start), parse_hhmm(end)
    if first == last:
        raise ArgumentError("settings", "quiet")
    return first, last


def parse_weekday(text: str) -> int:
    """A weekday name in English, Indonesian or Vietnamese → 0 (Monday) … 6."""
    key = fold_word(text.strip()).replace(" ", "")
    for index, names in enumerate(_WEEKDAYS):
        if key in names:
            return index
    raise ArgumentError("settings", "weekday")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_timezone(text: str) -> str:
    """An IANA zone name as the tz database spells it (case-insensitive input)."""
    wanted = text.strip()
    if wanted in _zones():
        return wanted
    by_lower = {zone.lower(): zone for zone in _zones()}
    found = by_lower.get(wanted.lower())
    if found is None:
        raise ArgumentError("settings", "timezone")
    return found


def parse_language(text: str) -> UiLanguage:
    """'id', 'en' or 'vi' (any case)."""
    key = text.strip().lower()
    for language in UI_LANGUAGES:
        if key == language:
            return language
    raise ArgumentError("settings", "language")


SettingName = Literal["lang", "tz", "digest", "weekly", "quiet"]


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """One /settings change: which setting, and the `update_chat` keyword arguments."""

    name: SettingName
    changes: dict[str, object]


def parse_settings(args: Sequence[str]) -> SettingsChange | None:
    """No words → None (show settings); `lang|tz|digest|weekly|quiet VALUE` → a change."""
    if not args:
        return None
    if len(args) != 2:
        raise ArgumentError("settings")
    name, value = fold_word(args[0]), args[1]
    if name in ("lang", "language", "bahasa", "ngonngu"):
        return SettingsChange("lang", {"language": parse_language(value)})
    if name in ("tz", "timezone", "zona", "muigio"):
        return SettingsChange("tz", {"timezone": parse_timezone(value)})
    if name in ("digest", "time", "waktu", "gio"):
        return SettingsChange("digest", {"digest_time": parse_hhmm(value)})
    if name in ("weekly", "weekday", "day", "hari", "thu"):
        return SettingsChange("weekly", {"digest_weekday": parse_weekday(value)})
    if name in ("quiet", "senyap", "yenlang"):
        quiet = parse_quiet(value)
        start, end = quiet if quiet else (None, None)
        return SettingsChange("quiet", {"quiet_start": start, "quiet_end": end})
    raise ArgumentError("settings")


# --- inline buttons -----------------------------------------------------------------

CallbackAction = Literal["home", "facet", "subscribe", "unsubscribe"]
_ACTION_CODES: dict[str, CallbackAction] = {
    "h": "home",
    "f": "facet",
    "s": "subscribe",
    "u": "unsubscribe",
}
_CODES = {action: code for code, action in _ACTION_CODES.items()}
QUICK_VIEW = "q"  # the /start quick-pick keyboard, as opposed to a facet page
_CALLBACK = re.compile(r"([hfsu])(?::([a-z0-9/-]{1,40}))?(?::(q|[0-9]{1,2}))?", re.ASCII)


@dataclass(frozen=True, slots=True)
class Callback:
    """A decoded button press: what to do, on which facet or topic, and the view to redraw."""

    action: CallbackAction
    target: str = ""  # facet for 'facet', topic id for (un)subscribe
    view: str = "0"  # page number within the facet, or QUICK_VIEW


def encode_callback(callback: Callback) -> str:
    """The compact callback_data of a button: 's:partner/jp:0'."""
    parts = [_CODES[callback.action]]
    if callback.action != "home":
        parts += [callback.target, callback.view]
    data = ":".join(parts)
    if len(data.encode()) > CALLBACK_MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def decode_callback(
    data: str | None, *, facets: Sequence[str], topics: Callable[[str], bool]
) -> Callback | None:
    """A Callback when `data` is well formed and names a known facet or topic; else None."""
    match = _CALLBACK.fullmatch(data or "")
    if match is None:
        return None
    action = _ACTION_CODES[match.group(1)]
    target, view = match.group(2) or "", match.group(3) or "0"
    if action == "home":
        return Callback("home") if not target else None
    if action == "facet":
        return Callback(action, target, view) if target in facets and view != QUICK_VIEW else None
    return Callback(action, target, view) if topics(target) else None


def page_of(view: str) -> int:
    """The page number a view names (0 for the quick-pick view)."""
    return int(view) if view.isdigit() else 0


def weekday_name(index: int) -> str:
    """0 → 'mon'."""
    return WEEKDAY_NAMES[index % 7]


MAX_URL_CHARS = 2048


def parse_url(args: Sequence[str]) -> str:
    """/why's one argument: an http(s) address (a bare host/path gets https://)."""
    if len(args) != 1 or len(args[0]) > MAX_URL_CHARS:
        raise ArgumentError("why")
    url = args[0].strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ArgumentError("why") from exc
    if parts.scheme.lower() not in ("http", "https") or "." not in (parts.hostname or ""):
        raise ArgumentError("why")
    return url
