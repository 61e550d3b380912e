"""Telegram edge: UI strings by key and language → text ready to send.

`t` looks a key up in the chat's language (English when the language or the key is
missing there) and fills it with `str.format`; `t_html` does the same but escapes
every value first, so user text and titles never become markup. Also: the UI
language for a Telegram `language_code`, the command menu and the /help text.
"""

from __future__ import annotations

import html

from bot.models import UiLanguage
from bot.telegram.locales import CATALOGS, FALLBACK

# The command menu, in the order Telegram shows it; /status is for Duta's admins only.
COMMANDS: tuple[str, ...] = (
    "start",
    "help",
    "topics",
    "subscribe",
    "unsubscribe",
    "list",
    "digest",
    "why",
    "settings",
    "sources",
    "status",
)
ADMIN_COMMANDS: frozenset[str] = frozenset({"status"})
# Commands whose arguments have a usage text (`usage.<name>`) and syntax (`syntax.<name>`).
COMMANDS_WITH_ARGS: tuple[str, ...] = ("subscribe", "unsubscribe", "digest", "why", "settings")


class Html(str):
    """A value that is already Telegram HTML: `t_html` inserts it unescaped."""

    __slots__ = ()


def message(lang: str, key: str) -> str:
    """The raw template for `key` in `lang`, English when that language lacks it."""
    catalog = CATALOGS.get(lang, CATALOGS[FALLBACK])
    template = catalog.get(key)
    if template is None:
        template = CATALOGS[FALLBACK][key]  # a key missing in English is a bug: KeyError
    return template


def t(lang: str, key: str, **values: object) -> str:
    """The string `key` in `lang`, formatted with `values` as given (no escaping)."""
    template = message(lang, key)
    return template.format(**values) if values else template


def t_html(lang: str, key: str, **values: object) -> str:
    """The HTML string `key` in `lang`; every value is escaped unless it is `Html`."""
    safe = {name: _escaped(value) for name, value in values.items()}
    return t(lang, key, **safe)


def _escaped(value: object) -> object:
    if isinstance(value, Html):
        return str(value)
    if isinstance(value, str):
        return html.escape(value, quote=False)
    return value


def language_for(code: str | None) -> UiLanguage:
    """The UI language for a Telegram `language_code` ('id', 'vi-VN' …); English otherwise."""
    base = (code or "").strip().lower().replace("_", "-").split("-", 1)[0]
    if base in ("id", "in"):  # 'in' is the withdrawn ISO code some clients still send
        return "id"
    if base == "vi":
        return "vi"
    return "en"


def command_descriptions(lang: str, *, admin: bool = False) -> list[tuple[str, str]]:
    """(command, description) pairs for `set_my_commands`; /status only for admins."""
    return [
        (name, t(lang, f"cmd.{name}")) for name in COMMANDS if admin or name not in ADMIN_COMMANDS
    ]


def help_text(lang: str, *, admin: bool = False) -> str:
    """The /help reply: every command with its arguments and a one-line description."""
    lines = [t(lang, "help.intro")]
    for name, description in command_descriptions(lang, admin=admin):
        syntax = t(lang, f"syntax.{name}") if name in COMMANDS_WITH_ARGS else f"/{name}"
        lines.append(t_html(lang, "help.line", syntax=syntax, description=description))
    return "\n".join(lines) + "\n\n" + t(lang, "help.topics")
