"""Settings from the environment (12-factor), as one frozen value passed to whoever needs it.

Nothing reads the environment except `Settings.from_env()`; no module keeps a
global settings object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot import __version__
from bot.errors import ConfigError

DEFAULT_USER_AGENT = (
    f"Duta/{__version__} (news monitor for Vietnam's foreign relations; "
    "+https://github.com/duta-news/duta)"
)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How Duta talks to websites."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    total_timeout_s: float = 60.0  # wall-clock cap on one response, trickling servers included
    max_bytes: int = 5 * 1024 * 1024  # cap on one decoded body
    max_redirects: int = 5
    host_concurrency: int = 2  # requests in flight to one host
    host_delay_s: float = 0.5  # minimum gap between request starts to one host
    total_concurrency: int = 64  # requests in flight overall
    robots_ttl_s: float = 3600.0
    respect_robots: bool = True
    allow_private_networks: bool = False  # loopback/private targets: only for local testing


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with the defaults of a single-process install."""

    database_url: str = "sqlite:///data/duta.db"
    sources_path: Path = Path("sources.yaml")
    taxonomy_path: Path = Path("seeds/taxonomy.yaml")
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    admin_chat_ids: tuple[int, ...] = ()
    http_port: int | None = None
    log_format: str = "text"
    log_level: str = "INFO"
    extract_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    source_concurrency: int = 64  # sources polled at once in one cycle (a batch in `duta run`)
    min_text_chars: int = 280  # shorter extracted text is recorded as rejected
    failing_after_s: float = 24 * 3600.0  # consecutive errors this long mark a source failing
    fetch: FetchSettings = field(default_factory=FetchSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read `DUTA_*` and `TELEGRAM_*` variables; missing ones keep their defaults."""
        env = os.environ if env is None else env
        base = cls()
        fetch = replace(
            base.fetch,
            user_agent=env.get("DUTA_USER_AGENT", base.fetch.user_agent),
            max_bytes=_int(env, "DUTA_MAX_BYTES", base.fetch.max_bytes),
            connect_timeout_s=_float(env, "DUTA_CONNECT_TIMEOUT_S", base.fetch.connect_timeout_s),
            read_timeout_s=_float(env, "DUTA_READ_TIMEOUT_S", base.fetch.read_timeout_s),
            total_timeout_s=_float(env, "DUTA_TOTAL_TIMEOUT_S", base.fetch.total_timeout_s),
            host_concurrency=_int(env, "DUTA_HOST_CONCURRENCY", base.fetch.host_concurrency),
            host_delay_s=_float(env, "DUTA_HOST_DELAY_S", base.fetch.host_delay_s),
            respect_robots=_bool(env, "DUTA_RESPECT_ROBOTS", base.fetch.respect_robots),
            allow_private_networks=_bool(
                env, "DUTA_ALLOW_PRIVATE_NETWORKS", base.fetch.allow_private_networks
            ),
        )
        port = env.get("DUTA_HTTP_PORT")
        return replace(
            base,
            database_url=env.get("DUTA_DATABASE_URL", base.database_url),
            sources_path=Path(env.get("DUTA_SOURCES", str(base.sources_path))),
            taxonomy_path=Path(env.get("DUTA_TAXONOMY", str(base.taxonomy_path))),
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_url=env.get("TELEGRAM_API_URL", base.telegram_api_url).rstrip("/"),
            admin_chat_ids=_ids(env, "DUTA_ADMIN_CHAT_IDS"),
            http_port=_int(env, "DUTA_HTTP_PORT", 0) if port else None,
            log_format=_choice(env, "DUTA_LOG_FORMAT", base.log_format, ("text", "json")),
            log_level=env.get("DUTA_LOG_LEVEL", base.log_level).upper(),
            extract_workers=_int(env, "DUTA_EXTRACT_WORKERS", base.extract_workers),
            fetch=fetch,
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"expected an integer, got {raw!r}", field=name) from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"expected a number, got {raw!r}", field=name) from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected true or false, got {raw!r}", field=name)


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, default).strip().lower()
    if raw not in allowed:
        raise ConfigError(f"expected one of {', '.join(allowed)}, got {raw!r}", field=name)
    return raw


def _ids(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    raw = env.get(name, "")
    try:
        return tuple(int(part) for part in raw.replace(";", ",").split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"expected comma-separated chat ids, got {raw!r}", field=name) from None
