"""Fault injection, secrets: the bot token and the database password never show.

Not in the logs of `duta run` (DUTA_LOG_FORMAT=text and json, at DEBUG), not in its
error messages (a handler that fails, a Bot API that cannot be reached or answers 401,
a database that refuses the password — at start and in the middle of a run), not on
/metrics or /healthz, not in /status. The database is a real PostgreSQL server with
password authentication, as a role of its own whose password has characters that must
be escaped in a URL, so every spelling of it is looked for.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import psycopg
import pytest

from bot.errors import StoreError
from bot.logs import NOISY, secrets_of, setup_logging
from bot.settings import Settings
from bot.store import Store
from bot.taxonomy import load_taxonomy
from bot.telegram.app import build_application
from bot.telegram.i18n import t
from bot.telegram.services import Services
from tests.emulator import Chat, Emulator, User
from tests.sites import SeedSites
from tests.test_cli_poll import write_sources

START_S = 60.0  # a generous bound for `duta run` to start and finish its first cycle
TAXONOMY_PATH = Path(__file__).resolve().parents[2] / "seeds" / "taxonomy.yaml"
ADMIN = User(7_310_001, "Ops")
ANNA = User(7_310_002, "Anna")
FORMATS = ("text", "json")


# --- the secrets, and looking for them --------------------------------------------------


@dataclass(frozen=True)
class Secrets:
    """A token and database passwords, and every spelling of them worth looking for."""

    token: str | None
    passwords: tuple[str, ...]

    def spellings(self) -> list[str]:
        """The token and its secret half; each password raw and URL-escaped both ways."""
        found = [self.token, self.token.split(":", 1)[1]] if self.token else []
        for password in self.passwords:
            found += [password, quote(password, safe=""), quote_plus(password)]
        return found


def assert_hidden(text: str, found: Secrets, where: str) -> None:
    """No spelling of any secret occurs in `text`."""
    assert found.spellings()
    for secret in found.spellings():
        at = text.find(secret)
        assert at < 0, f"a secret shows in {where}: …{text[max(0, at - 80) : at + 20]!r}"


def new_password() -> str:
    """A password with characters a URL must escape (':', '@', '/', '%', '#', ' ')."""
    return f"Pw:{secrets.token_hex(6)}@du/ta%#se cret"


# --- a PostgreSQL role of our own --------------------------------------------------------


@dataclass
class Role:
    """A login role with a password, and a database it owns."""

    admin_url: str
    name: str
    password: str

    def url(self, password: str | None = None) -> str:
        """The DUTA_DATABASE_URL of this role's database, with `password` (its own by default)."""
        parts = urlsplit(self.admin_url)
        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{self.name}:{secret}@{parts.hostname}:{parts.port}/{self.name}"

    def change_password(self) -> None:
        """Give the role another password and end its sessions: the next connection fails."""
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            other = new_password().replace("'", "")
            admin.execute(f"ALTER ROLE {self.name} PASSWORD '{other}'")
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (self.name,),
            )


@pytest.fixture
def role(postgres_admin_url: str) -> Iterator[Role]:
    """A fresh role and database on the session's PostgreSQL server; dropped afterwards."""
    made = Role(postgres_admin_url, f"duta_secret_{secrets.token_hex(4)}", new_password())
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {made.name} LOGIN PASSWORD '{made.password}'")
        admin.execute(f"CREATE DATABASE {made.name} OWNER {made.name}")
    try:
        yield made
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {made.name} WITH (FORCE)")
            admin.execute(f"DROP ROLE IF EXISTS {made.name}")


# --- `duta run` as a process -------------------------------------------------------------


class Duta:
    """One `duta run` process; its output goes to files (a full pipe would block it)."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = workdir / "stdout.txt", workdir / "stderr.txt"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], env=env, stdout=out, stderr=err
            )

    @property
    def output(self) -> str:
        """Everything it printed so far: stdout, then stderr (the logs)."""
        return self.out + self.err

    @property
    def out(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    @property
    def err(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def until(self, condition: Callable[[], bool], what: str) -> None:
        """Wait for `condition`, failing early if the process dies."""
        deadline = time.monotonic() + START_S
        while not condition():
            assert self.process.poll() is None, f"duta run died: {self.err[-3000:]}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.err[-3000:]}"
            time.sleep(0.05)

    def exit_code(self, timeout_s: float = 30.0) -> int:
        """Wait for the process to end on its own."""
        return self.process.wait(timeout_s)

    def stop(self) -> int:
        """SIGTERM, then wait for the exit."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def processes() -> Iterator[list[Duta]]:
    """Started `duta run` processes, killed at the end whatever happened."""
    started: list[Duta] = []
    yield started
    for process in started:
        process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_env(tmp_path: Path, database_url: str, fmt: str, **extra: str) -> dict[str, str]:
    """`duta run` at DEBUG in `fmt`, with no sources unless `extra` names some."""
    sources = tmp_path / "empty-sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    return {
        **os.environ,
        "DUTA_SOURCES": str(sources),
        "DUTA_DATABASE_URL": database_url,
        "DUTA_LOG_FORMAT": fmt,
        "DUTA_LOG_LEVEL": "DEBUG",
        "DUTA_EXTRACT_WORKERS": "0",
        "DUTA_TICK_S": "0.2",
        **extra,
    }


def get(url: str) -> str:
    """The body of one GET, whatever its status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode())


def metric(text: str, name: str) -> float:
    """An unlabelled sample of a Prometheus exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def check_log_format(err: str, fmt: str) -> None:
    """Every line of the log is one record in `fmt`: a JSON object, or `ts LEVEL name: …`."""
    lines = [line for line in err.splitlines() if line and not line.startswith("duta: error")]
    assert lines
    for line in lines:
        if fmt == "json":
            assert isinstance(json.loads(line), dict), line
        else:
            assert line[:4].isdigit() and line[24:25] == " ", line


# --- the runs ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_run_never_shows_the_token_or_the_password(
    fmt: str,
    tmp_path: Path,
    emulator: Emulator,
    role: Role,
    seed_sites: SeedSites,
    processes: list[Duta],
) -> None:
    found = Secrets(emulator.token, (role.password,))
    port = free_port()
    env = run_env(
        tmp_path,
        role.url(),
        fmt,
        TELEGRAM_BOT_TOKEN=emulator.token,
        TELEGRAM_API_URL=emulator.api_url,
        DUTA_HTTP_PORT=str(port),
        DUTA_ADMIN_CHAT_IDS=str(ADMIN.id),
        DUTA_SOURCES=str(write_sources(tmp_path / "sources.yaml", seed_sites.sources())),
        DUTA_ALLOW_PRIVATE_NETWORKS="true",
        DUTA_HOST_DELAY_S="0",
    )
    duta = Duta(env, tmp_path / "run")
    processes.append(duta)
    duta.until(lambda: "duta run: role" in duta.err, "the service to start")
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    duta.until(lambda: metric(get(metrics_url), "duta_cycles_total") >= 1, "a poll cycle")
    admin, anna = Chat.private(ADMIN), Chat.private(ANNA)

    answered = await _say(emulator, anna, ANNA, "/subscribe japan")
    status = await _say(emulator, admin, ADMIN, "/status")
    emulator.block(anna)  # the next reply to Anna fails: the handler raises
    emulator.send_command(anna, ANNA, "/list")
    duta.until(lambda: "update failed" in duta.err, "the failed update to be logged")
    scraped = get(metrics_url) + get(f"http://127.0.0.1:{port}/healthz")
    assert duta.stop() == 0

    assert "Japan" in answered and status.startswith("Duta status")
    assert "duta_sources_polled_total" in scraped and '"database": true' in scraped
    assert "Forbidden" in duta.err and f"chat={anna.id}" in duta.err
    check_log_format(duta.err, fmt)
    for text, where in ((status, "/status"), (scraped, "/metrics"), (duta.output, "the logs")):
        assert_hidden(text, found, where)


async def _say(emulator: Emulator, chat: Chat, user: User, text: str) -> str:
    """Send a command and return the text of the bot's one reply."""
    before = len(emulator.bot_messages(chat.id))
    await asyncio.to_thread(emulator.send_command, chat, user, text)
    messages = await emulator.wait_for_bot_messages(chat.id, before + 1, timeout_s=20)
    return str(messages[before]["text"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unreachable_bot_api_is_reported_without_the_token(
    fmt: str, tmp_path: Path, emulator: Emulator, role: Role, processes: list[Duta]
) -> None:
    api = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = run_env(
        tmp_path, role.url(), fmt, TELEGRAM_BOT_TOKEN=emulator.token, TELEGRAM_API_URL=api
    )
    duta = Duta(env, tmp_path / "run")
    processes.append(duta)

    code = duta.exit_code()

    assert code != 0
    assert f"duta: error: Telegram Bot API at {api}" in duta.err
    check_log_format(duta.err, fmt)
    assert_hidden(duta.output, Secrets(emulator.token, (role.password,)), "the error")


class _Unauthorized(BaseHTTPRequestHandler):
    """A Bot API server that refuses every token, as Telegram does for a revoked one."""

    protocol_version = "HTTP/1.1"
    paths: list[str]

    def do_POST(self) -> None:
        self.paths.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def do_GET(self) -> None:
        self.do_POST()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def unauthorized() -> Iterator[tuple[str, list[str]]]:
    """The URL of a local Bot API that answers 401, and the paths it was asked for."""
    paths: list[str] = []
    handler = type("Handler", (_Unauthorized,), {"paths": paths})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_401_from_the_bot_api_is_reported_without_the_token(
    fmt: str,
    tmp_path: Path,
    emulator: Emulator,
    role: Role,
    unauthorized: tuple[str, list[str]],
    processes: list[Duta],
) -> None:
    api, asked = unauthorized
    env = run_env(
        tmp_path, role.url(), fmt, TELEGRAM_BOT_TOKEN=emulator.token, TELEGRAM_API_URL=api
    )
    duta = Duta(env, tmp_path / "run")
    processes.append(duta)

    code = duta.exit_code()

    assert code != 0 and "duta: error: Telegram refused the bot token" in duta.err
    assert asked and all(emulator.token in path for path in asked)  # the token was sent
    check_log_format(duta.err, fmt)
    assert_hidden(duta.output, Secrets(emulator.token, (role.password,)), "the error")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_database_password_is_reported_without_either_password(
    fmt: str, tmp_path: Path, emulator: Emulator, role: Role, processes: list[Duta]
) -> None:
    wrong = new_password()
    env = run_env(tmp_path, role.url(wrong), fmt, TELEGRAM_BOT_TOKEN=emulator.token)
    duta = Duta(env, tmp_path / "run")
    processes.append(duta)

    code = duta.exit_code()

    assert code != 0 and "password authentication failed" in duta.err
    assert f"{role.name}:***@" in duta.err  # the database is named, its password not
    assert_hidden(duta.output, Secrets(emulator.token, (wrong, role.password)), "the error")


def test_a_refused_password_is_not_in_the_store_error_or_its_causes(role: Role) -> None:
    wrong = new_password()

    with pytest.raises(StoreError) as raised:
        Store.open(role.url(wrong))

    whole = "".join(traceback.format_exception(raised.value))
    assert "password authentication failed" in whole
    assert_hidden(whole, Secrets(None, (wrong, role.password)), "the exception chain")


# --- a database that stops taking the password in the middle of a run ----------------------


@dataclass
class Logged:
    """The bot polling the emulator, its log in `fmt`, and its settings."""

    emulator: Emulator
    settings: Settings
    fmt: str
    log: io.StringIO


@pytest.fixture(params=FORMATS)
async def logged(
    request: pytest.FixtureRequest, emulator: Emulator, role: Role
) -> AsyncIterator[tuple[Logged, Role]]:
    """The real Application on the role's database, logging through `setup_logging`."""
    settings = Settings(
        database_url=role.url(),
        telegram_token=emulator.token,
        telegram_api_url=emulator.api_url,
        admin_chat_ids=(ADMIN.id,),
    )
    log = io.StringIO()
    root = logging.getLogger()
    level, kept = root.level, list(root.handlers)
    noisy = {name: logging.getLogger(name).level for name in NOISY}
    setup_logging("DEBUG", request.param, secrets=secrets_of(settings), stream=log)
    store = Store.open(settings.database_url)
    services = Services(settings, store, load_taxonomy(TAXONOMY_PATH), lambda: datetime.now(UTC))
    application = build_application(services)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield Logged(emulator, settings, request.param, log), role
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        store.close()
        for handler in [h for h in root.handlers if h not in kept]:
            root.removeHandler(handler)
        root.setLevel(level)
        for name, was in noisy.items():
            logging.getLogger(name).setLevel(was)


async def test_a_database_lost_mid_run_fails_the_handler_without_the_password(
    logged: tuple[Logged, Role],
) -> None:
    bot, role = logged
    admin, anna = Chat.private(ADMIN), Chat.private(ANNA)
    followed = await _say(bot.emulator, anna, ANNA, "/subscribe japan")
    role.change_password()

    apology = await _say(bot.emulator, anna, ANNA, "/list")
    status = await _say(bot.emulator, admin, ADMIN, "/status")

    found = Secrets(bot.emulator.token, (role.password,))
    log = bot.log.getvalue()
    assert "Japan" in followed
    assert apology == status == t("en", "error.internal")
    assert log.count("update failed") == 2 and "password authentication failed" in log
    check_log_format(log, bot.fmt)
    assert_hidden(log, found, "the log")
