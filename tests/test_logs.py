"""Logging: one line per record in text and JSON, and no secret ever written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.errors import ConfigError, StoreError
from bot.logs import NOISY, secrets_of, setup_logging
from bot.settings import Settings

TOKEN = "7423158806:AAHb3xQk9Vt_c2mZpL0wYrN5sEoD1fGuJ4i"
PASSWORD = "s3cr3t-Pa55w0rd"
DATABASE_URL = f"postgresql://duta:{PASSWORD}@db.internal:5432/duta"
SECRETS = (TOKEN, PASSWORD)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root logger and the quietened loggers back as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in noisy.items():
        logging.getLogger(name).setLevel(old)


def _configure(fmt: str, level: str = "INFO") -> io.StringIO:
    stream = io.StringIO()
    setup_logging(level, fmt, secrets=SECRETS, stream=stream)
    return stream


def _connect() -> None:
    try:
        raise OSError(f"connection refused by {DATABASE_URL}")
    except OSError as exc:
        raise StoreError(f"cannot reach {DATABASE_URL}") from exc


def _log_everything() -> int:
    """Log the secrets every way a careless caller might; the number of records."""
    log = logging.getLogger("bot.telegram.sender")
    log.info("sending via https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.warning(f"token is {TOKEN}")
    log.info("source polled", extra={"source": "vnexpress", "url": DATABASE_URL, "new": 3})
    log.info("settings: %r", {"database_url": DATABASE_URL, "token": TOKEN})
    try:
        _connect()
    except StoreError:
        log.exception("store failed for chat %s", 12345)
    log.info("first line\nsecond line")
    return 6


def test_json_lines_parse_and_carry_the_fields() -> None:
    stream = _configure("json")
    count = _log_everything()
    lines = stream.getvalue().splitlines()
    assert len(lines) == count
    records = [json.loads(line) for line in lines]
    for record in records:
        assert set(record) >= {"ts", "level", "logger", "message"}
        assert record["logger"] == "bot.telegram.sender"
        assert datetime.fromisoformat(record["ts"]).utcoffset() is not None
    polled = records[2]
    assert polled["message"] == "source polled"
    assert polled["source"] == "vnexpress"
    assert polled["new"] == 3
    failure = records[4]
    assert failure["level"] == "ERROR"
    assert failure["message"] == "store failed for chat 12345"
    assert "Traceback" in failure["exc"]
    assert "connection refused by postgresql://duta:[REDACTED]@db.internal" in failure["exc"]
    assert records[5]["message"] == "first line\nsecond line"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_no_secret_is_ever_written(fmt: str) -> None:
    stream = _configure(fmt)
    _log_everything()
    output = stream.getvalue()
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
    assert PASSWORD not in output
    assert output.count("[REDACTED]") >= 7
    assert "https://api.telegram.org/bot[REDACTED]/sendMessage" in output


def test_token_shaped_strings_are_hidden_even_when_not_given() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "text", secrets=(), stream=stream)
    other = "5550001112:AAEotherTokenNotConfiguredAnywhere_xyz"
    log = logging.getLogger("bot.telegram")
    log.warning("GET https://api.telegram.org/bot123456:ABC-def_ghi/getMe")
    log.warning("bare %s", other)
    output = stream.getvalue()
    assert "ABC-def_ghi" not in output
    assert other not in output
    assert "bot123456" not in output


def test_text_is_one_line_per_record() -> None:
    stream = _configure("text")
    count = _log_everything()
    lines = stream.getvalue().splitlines()
    assert len(lines) == count
    assert lines[2].endswith(
        "INFO bot.telegram.sender: source polled source=vnexpress "
        "url=postgresql://duta:[REDACTED]@db.internal:5432/duta new=3"
    )
    assert "Traceback (most recent call last):\\n" in lines[4]
    assert lines[4].split(" ", 1)[1].startswith("ERROR bot.telegram.sender: store failed")
    assert lines[5].endswith("first line\\nsecond line")


def test_setting_up_twice_keeps_one_handler_and_the_last_format() -> None:
    first = _configure("text")
    second = _configure("json")
    logging.getLogger("bot.service").info("started")
    assert first.getvalue() == ""
    assert [json.loads(line)["message"] for line in second.getvalue().splitlines()] == ["started"]


def test_level_filters_and_noisy_libraries_are_quiet() -> None:
    stream = _configure("json", level="info")
    logging.getLogger("bot.pipeline").debug("per-item detail")
    logging.getLogger("httpx").info("HTTP Request: GET https://example.org 200")
    logging.getLogger("apscheduler.scheduler").info("job executed")
    logging.getLogger("telegram.ext.Application").warning("conflict: another poller")
    logging.getLogger("bot.pipeline").info("cycle done")
    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert messages == ["conflict: another poller", "cycle done"]


def test_arguments_that_do_not_fit_still_log() -> None:
    logging.getLogger().handlers.clear()  # pytest's capture handler raises on such calls
    stream = _configure("json")
    logging.getLogger("bot").info("two values %s %s", TOKEN)
    (line,) = stream.getvalue().splitlines()
    message = json.loads(line)["message"]
    assert "arguments did not fit" in message
    assert TOKEN not in message


@pytest.mark.parametrize(
    ("level", "fmt", "field"),
    [("LOUD", "text", "DUTA_LOG_LEVEL"), ("INFO", "xml", "DUTA_LOG_FORMAT")],
)
def test_bad_level_or_format_is_a_config_error(level: str, fmt: str, field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        setup_logging(level, fmt, secrets=())
    assert caught.value.field == field


def test_secrets_of_settings() -> None:
    settings = Settings(
        telegram_token=TOKEN, database_url="postgresql://duta:p%40ss%2Fword@db/duta"
    )
    assert set(secrets_of(settings)) == {TOKEN, "p%40ss%2Fword", "p@ss/word"}
    assert secrets_of(Settings(database_url="sqlite:///data/duta.db")) == ()
