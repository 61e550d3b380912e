"""Every string the bot says, one catalogue per language: `MESSAGES` in en, id and vi.

Keys are plain dotted names ("subscribe.done"). Values are `str.format` templates;
most are Telegram HTML (the values put into them must be escaped), while `button.*`,
`cmd.*`, `toggle.*` and `lang.*` are plain text for buttons, the command menu and
callback answers. English is complete; the others fall back to it key by key.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.telegram.locales import en, vi
from bot.telegram.locales import id as indonesian

CATALOGS: Mapping[str, Mapping[str, str]] = {
    "en": en.MESSAGES,
    "id": indonesian.MESSAGES,
    "vi": vi.MESSAGES,
}
FALLBACK = "en"
PLAIN_PREFIXES = ("button.", "cmd.", "toggle.", "lang.")


def is_plain(key: str) -> bool:
    """Whether the string under `key` is plain text rather than Telegram HTML."""
    return key.startswith(PLAIN_PREFIXES)
