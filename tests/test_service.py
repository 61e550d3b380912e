"""`duta run` as an operator starts it: real processes, signals, the health endpoint,
a restart, and the bot taking updates on a webhook."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import Store
from tests.emulator import Chat, Emulator, User
from tests.sites import SeedSites
from tests.test_cli_poll import write_sources

START_S = 60.0  # a generous bound for a process to start and do its first work


class Duta:
    """One `duta run` process, its output in files (a full pipe would block it)."""

    def __init__(self, env: dict[str, str], workdir: Path, *args: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = workdir / "stdout.txt", workdir / "stderr.txt"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", *args], env=env, stdout=out, stderr=err
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def out(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    @property
    def err(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def started(self) -> bool:
        """True once the service has said which role it runs."""
        return "duta run: role" in self.err

    def until(self, condition: Callable[[], bool], what: str, timeout_s: float = START_S) -> None:
        """Wait for `condition`, failing early if the process dies."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert self.process.poll() is None, f"duta run died: {self.err[-3000:]}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.err[-3000:]}"
            time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 30.0) -> float:
        """Send `sig`, wait for the exit; the seconds it took."""
        started = time.monotonic()
        self.process.send_signal(sig)
        self.process.wait(timeout_s)
        return time.monotonic() - started

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


def service_env(
    tmp_path: Path, seed_sites: SeedSites, database_url: str, **extra: str
) -> dict[str, str]:
    """The environment of `duta run` over the seed sites, in console mode, ticking fast."""
    return {
        **os.environ,
        "DUTA_SOURCES": str(write_sources(tmp_path / "sources.yaml", seed_sites.sources())),
        "DUTA_DATABASE_URL": database_url,
        "DUTA_ALLOW_PRIVATE_NETWORKS": "true",
        "DUTA_HOST_DELAY_S": "0",
        "DUTA_EXTRACT_WORKERS": "0",
        "DUTA_TICK_S": "0.2",
        "TELEGRAM_BOT_TOKEN": "",
        **extra,
    }


def free_ports(count: int) -> list[int]:
    """Distinct free ports (held open together, so none is handed out twice)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def free_port() -> int:
    return free_ports(1)[0]


def get(url: str, *, timeout_s: float = 5.0) -> tuple[int, str]:
    """(status, body) of one GET; (0, reason) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return 0, str(exc)


def metric(text: str, name: str) -> float | None:
    """The value of an unlabelled sample in a Prometheus exposition."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def stored(database_url: str) -> int:
    with Store.open(database_url) as store:
        return store.count_articles()


def leased(database_url: str) -> dict[str, str]:
    """Sources whose lease is still running, and who holds it."""
    now = datetime.now(UTC)
    with Store.open(database_url) as store:
        leases = store.source_leases()
    return {
        name: holder or "?"
        for name, (holder, until) in leases.items()
        if until is not None and until > now
    }


def slow_down(seed_sites: SeedSites, seconds: float) -> None:
    """Every request to the seed sites answers `seconds` late."""
    for site in seed_sites.sites.values():
        site.latency_s = seconds


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'duta.db'}"


def test_run_polls_prints_alerts_serves_health_and_stops_cleanly_on_sigterm(
    tmp_path: Path, seed_sites: SeedSites, processes: list[Duta]
) -> None:
    database = sqlite_url(tmp_path)
    port = free_port()
    env = service_env(tmp_path, seed_sites, database, DUTA_HTTP_PORT=str(port))
    expected = [a for a in seed_sites.expected_articles() if a.source is not None]
    duta = Duta(env, tmp_path / "run")
    processes.append(duta)
    duta.until(lambda: (tmp_path / "data" / "duta.db").exists(), "the database")
    duta.until(lambda: stored(database) == len(expected), "every article")

    status, body = get(f"http://127.0.0.1:{port}/healthz")
    assert status == 200, body
    assert json.loads(body)["status"] == "ok"
    duta.until(
        lambda: (
            metric(get(f"http://127.0.0.1:{port}/metrics")[1], "duta_articles_stored_total")
            == len(expected)
        ),
        "the metrics of the cycle",
    )
    duta.until(  # the shutdown log reports the lag once there is a sample (every 0.5 s)
        lambda: (
            (
                (
                    metric(
                        get(f"http://127.0.0.1:{port}/metrics")[1],
                        "duta_event_loop_lag_seconds_count",
                    )
                )
                or 0
            )
            >= 1
        ),
        "an event-loop lag sample",
    )
    assert duta.stop() < 10
    assert duta.process.returncode == 0, duta.err
    assert "set TELEGRAM_BOT_TOKEN" in duta.err
    for article in expected:  # console alerts: relevant articles only
        assert (article.url in duta.out) is article.relevant, article.url
    assert "event loop lag: p50" in duta.err


def test_sigterm_mid_cycle_exits_0_within_the_bound_and_a_restart_finishes_the_batch(
    tmp_path: Path, seed_sites: SeedSites, processes: list[Duta]
) -> None:
    database = sqlite_url(tmp_path)
    env = service_env(tmp_path, seed_sites, database, DUTA_SHUTDOWN_S="1")
    expected = [a for a in seed_sites.expected_articles() if a.source is not None]
    slow_down(seed_sites, 1.0)  # one cycle now takes far longer than the bound
    first = Duta(env, tmp_path / "first")
    processes.append(first)
    first.until(lambda: (tmp_path / "data" / "duta.db").exists(), "the database")
    first.until(lambda: bool(leased(database)), "a cycle in flight")

    assert first.stop() < 1 + 3  # the bound, plus giving the batch up and exiting
    assert first.process.returncode == 0, first.err
    assert "did not finish in 1 s" in first.err
    assert leased(database) == {}  # given up, not left to run out
    assert stored(database) < len(expected)

    slow_down(seed_sites, 0.0)
    second = Duta(env, tmp_path / "second")
    processes.append(second)
    second.until(lambda: stored(database) == len(expected), "the rest of the batch")
    assert "taking over unfinished sources" in second.err
    assert second.stop() < 10
    assert second.process.returncode == 0, second.err


def test_a_second_signal_exits_at_once(
    tmp_path: Path, seed_sites: SeedSites, processes: list[Duta]
) -> None:
    database = sqlite_url(tmp_path)
    env = service_env(tmp_path, seed_sites, database, DUTA_SHUTDOWN_S="60")
    slow_down(seed_sites, 1.0)
    duta = Duta(env, tmp_path / "run")
    processes.append(duta)
    duta.until(lambda: (tmp_path / "data" / "duta.db").exists(), "the database")
    duta.until(lambda: bool(leased(database)), "a cycle in flight")

    duta.process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert duta.process.poll() is None  # still finishing its cycle, as it may for 60 s
    assert duta.stop(signal.SIGINT, timeout_s=10) < 2.5
    assert duta.process.returncode == 130
    assert "second signal" in duta.err


def test_a_restart_does_not_poll_sources_that_are_not_due(
    tmp_path: Path, seed_sites: SeedSites, processes: list[Duta]
) -> None:
    database = sqlite_url(tmp_path)
    port = free_port()
    env = service_env(tmp_path, seed_sites, database, DUTA_HTTP_PORT=str(port))
    expected = [a for a in seed_sites.expected_articles() if a.source is not None]
    first = Duta(env, tmp_path / "first")
    processes.append(first)
    first.until(lambda: (tmp_path / "data" / "duta.db").exists(), "the database")
    first.until(lambda: stored(database) == len(expected), "every article")
    assert first.stop() < 10
    assert first.process.returncode == 0, first.err
    with Store.open(database) as store:
        states = store.source_states()
    assert all(state.last_success_at is not None for state in states.values())
    for site in seed_sites.sites.values():
        site.clear_requests()

    second = Duta(env, tmp_path / "second")
    processes.append(second)

    def last_tick_age() -> float | None:
        status, body = get(f"http://127.0.0.1:{port}/healthz")
        age = json.loads(body)["last_cycle_age_s"] if status == 200 else None
        return float(age) if age is not None else None

    second.until(lambda: last_tick_age() is not None, "the first tick")
    time.sleep(1.5)  # several more ticks at 0.2 s
    age = last_tick_age()
    assert age is not None and age < 1.0  # the scheduler keeps ticking
    assert second.stop() < 10
    assert second.process.returncode == 0, second.err
    requested = {name: site.requests for name, site in seed_sites.sites.items() if site.requests}
    assert requested == {}  # every source's next check is a minute away
    with Store.open(database) as store:
        assert store.source_states() == states


def test_the_bot_takes_updates_on_a_webhook_with_its_secret(
    tmp_path: Path, seed_sites: SeedSites, emulator: Emulator, processes: list[Duta]
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/updates"
    env = service_env(
        tmp_path,
        seed_sites,
        sqlite_url(tmp_path),
        TELEGRAM_BOT_TOKEN=emulator.token,
        TELEGRAM_API_URL=emulator.api_url,
        DUTA_WEBHOOK_URL=hook,
        DUTA_WEBHOOK_SECRET="s3cret-Token_1",
        DUTA_WEBHOOK_PORT=str(port),
        DUTA_WEBHOOK_LISTEN="127.0.0.1",
    )
    user = User(4201, "Lan", language_code="en")
    chat = Chat.private(user)
    emulator.add_chat(chat)
    duta = Duta(env, tmp_path / "bot", "--role", "bot")
    processes.append(duta)
    duta.until(lambda: "takes updates on" in duta.err, "the webhook")

    assert post_update(hook, start_update(1, chat, user), secret="wrong") == 403
    assert post_update(hook, start_update(2, chat, user), secret="s3cret-Token_1") == 200
    duta.until(lambda: bool(emulator.bot_messages(chat.id)), "the bot's answer")
    replies = emulator.bot_messages(chat.id)
    assert len(replies) == 1 and "Duta" in replies[0]["text"]  # the forged update got nothing
    assert "s3cret-Token_1" not in duta.err
    assert duta.stop() < 10
    assert duta.process.returncode == 0, duta.err


def start_update(update_id: int, chat: Chat, user: User) -> dict[str, object]:
    """The update Telegram sends when `user` types /start."""
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": chat.api(),
        "from": user.api(),
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": update_id, "message": message}


def post_update(url: str, update: dict[str, object], *, secret: str) -> int:
    """POST an update as Telegram does; the HTTP status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (("--role", "bot"), {}, "--role bot needs a bot token [TELEGRAM_BOT_TOKEN]"),
        (
            (),
            {"DUTA_WEBHOOK_URL": "https://duta.example.org/hook", "TELEGRAM_BOT_TOKEN": "1:x"},
            "[DUTA_WEBHOOK_SECRET]",
        ),
        ((), {"DUTA_SOURCE_LEASE_S": "soon"}, "[DUTA_SOURCE_LEASE_S]"),
    ],
)
def test_misconfiguration_is_refused_before_anything_starts(
    tmp_path: Path,
    seed_sites: SeedSites,
    args: tuple[str, ...],
    extra: dict[str, str],
    message: str,
) -> None:
    env = service_env(tmp_path, seed_sites, sqlite_url(tmp_path), **extra)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "data" / "duta.db").exists()
