"""Operations: logging for the service — one line per record on stderr, secrets removed.

In: the level, the format (`text` for people, `json` for containers: one object per
line with ts, level, logger, message and the record's extra fields) and the secrets
to hide. Out: the root logger set up once, however often this is called. Every
record passing Duta's handler has the secrets, and anything shaped like a Telegram
bot token, replaced in its message, arguments, extra fields and traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from bot.errors import ConfigError
from bot.settings import Settings

FORMATS = ("text", "json")
NOISY = ("httpx", "httpcore", "apscheduler", "telegram", "hpack")  # chatty at INFO and below
REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 4  # shorter strings would match all over the logs and hide nothing
# the token as it appears in Bot API URLs, and bare: <bot id>:<35 characters>
TOKEN_PATTERNS = (
    re.compile(r"bot\d+:[A-Za-z0-9_-]+"),
    re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"),
)
_RECORD_FIELDS = frozenset(
    {*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "message", "asctime", "taskName"}
)


class Redactor:
    """Replaces the given secrets and token-shaped strings in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        kept = {s for s in secrets if len(s) >= MIN_SECRET_CHARS}
        # longest first, so a secret containing another is removed whole
        self._secrets = sorted(kept, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in TOKEN_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text


class RedactingFilter(logging.Filter):
    """Removes secrets from a record before any formatter of this handler sees it."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(_message(record))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
            elif value is not None and not isinstance(value, int | float):
                setattr(record, key, self.redact(repr(value)))
        return True


def _message(record: logging.LogRecord) -> str:
    """The formatted message; a call whose arguments do not fit still logs something."""
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        return f"{record.msg!r} (arguments did not fit: {record.args!r})"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields passed with `extra=`."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`2025-12-04T08:00:00.000Z INFO bot.pipeline: message key=value`, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = _message(record)
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {message}"
        if extras:
            line = f"{line} {extras}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        for trace in (record.exc_text, record.stack_info):
            if trace:
                line = f"{line} | {trace}"
        return line.replace("\r", "\\r").replace("\n", "\\n")  # a newline would split the record


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        for key, value in _extras(record).items():
            document.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exc"] = record.exc_text
        if record.stack_info:
            document["stack"] = record.stack_info
        return json.dumps(document, ensure_ascii=False, default=str)


class _DutaHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `setup_logging` installs; found again and replaced on a second call."""


def setup_logging(
    level: str, fmt: str, *, secrets: Sequence[str], stream: TextIO | None = None
) -> None:
    """Send every record to stderr (or `stream`) as one `text` or `json` line, secrets removed."""
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ConfigError(f"unknown log level {level!r}", field="DUTA_LOG_LEVEL")
    if fmt not in FORMATS:
        raise ConfigError(
            f"expected one of {', '.join(FORMATS)}, got {fmt!r}", field="DUTA_LOG_FORMAT"
        )
    handler = _DutaHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _DutaHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """What must never be logged: the bot token and the database password, as given and decoded."""
    found: list[str] = []
    if settings.telegram_token:
        found.append(settings.telegram_token)
    try:
        password = urlsplit(settings.database_url).password
    except ValueError:  # a URL that does not parse has no password to find
        password = None
    if password:
        found.extend({password, unquote(password)})
    return tuple(found)
