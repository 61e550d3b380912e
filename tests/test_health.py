"""The health endpoint, the metrics it serves, and `duta health`, over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.cli import main
from bot.health import HealthChecks, serve_health
from bot.metrics import Metrics, measure_loop_lag
from bot.models import PollOutcome, SourceReport
from bot.pipeline import CycleReport
from bot.store import Store
from tests.httpserver import LocalSite, Route


@dataclass
class Service:
    """The service state the checks read, changed by each test."""

    store: Store
    alive: bool = True
    last_cycle: datetime | None = field(default_factory=lambda: datetime.now(UTC))
    database_calls: int = 0

    def scheduler_alive(self) -> bool:
        return self.alive

    def database_ok(self) -> bool:
        self.database_calls += 1
        self.store.outbox_counts()  # one real query through the store
        return True

    def last_cycle_at(self) -> datetime | None:
        return self.last_cycle


@dataclass
class Endpoint:
    url: str
    port: int
    service: Service
    metrics: Metrics
    checks: HealthChecks


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path}/data/duta.db") as s:
        yield s


@contextlib.asynccontextmanager
async def running(checks: HealthChecks, metrics: Metrics) -> AsyncIterator[str]:
    server = await serve_health("127.0.0.1", 0, checks, metrics)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def endpoint(store: Store) -> AsyncIterator[Endpoint]:
    service = Service(store)
    metrics = Metrics()
    checks = HealthChecks(
        scheduler_alive=service.scheduler_alive,
        database_ok=service.database_ok,
        last_cycle_at=service.last_cycle_at,
        max_cycle_age_s=900.0,
        database_timeout_s=0.5,
    )
    async with running(checks, metrics) as url:
        yield Endpoint(url, int(url.rsplit(":", 1)[1]), service, metrics, checks)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as c:
        yield c


async def test_healthy_service_answers_200_with_its_checks(
    endpoint: Endpoint, client: httpx.AsyncClient
) -> None:
    endpoint.service.last_cycle = datetime.now(UTC) - timedelta(seconds=42)
    response = await client.get(endpoint.url + "/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["status"] == "ok"
    assert document["scheduler"] is True
    assert document["database"] is True
    assert 42 <= document["last_cycle_age_s"] < 50
    assert document["failing"] == {}
    assert endpoint.service.database_calls == 1


async def test_query_string_is_ignored(endpoint: Endpoint, client: httpx.AsyncClient) -> None:
    response = await client.get(endpoint.url + "/healthz?verbose=1")
    assert response.status_code == 200


async def test_unreachable_database_is_503_naming_it(
    endpoint: Endpoint, client: httpx.AsyncClient, store: Store, tmp_path: Path
) -> None:
    store.close()
    shutil.rmtree(tmp_path / "data")  # the file and its directory are gone
    response = await client.get(endpoint.url + "/healthz")
    assert response.status_code == 503
    document = response.json()
    assert document["status"] == "unhealthy"
    assert document["database"] is False
    assert document["scheduler"] is True
    assert list(document["failing"]) == ["database"]
    assert "StoreError" in document["failing"]["database"]


async def test_database_check_returning_false_is_503(
    store: Store, client: httpx.AsyncClient
) -> None:
    checks = HealthChecks(
        scheduler_alive=lambda: True,
        database_ok=lambda: False,
        last_cycle_at=lambda: datetime.now(UTC),
        max_cycle_age_s=60.0,
    )
    async with running(checks, Metrics()) as url:
        response = await client.get(url + "/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == {"database": "check failed"}


async def test_slow_database_times_out_and_a_hung_check_is_not_started_twice(
    client: httpx.AsyncClient,
) -> None:
    release = threading.Event()
    calls: list[float] = []

    def slow_database() -> bool:
        calls.append(time.monotonic())
        return release.wait(timeout=10.0)

    checks = HealthChecks(
        scheduler_alive=lambda: True,
        database_ok=slow_database,
        last_cycle_at=lambda: datetime.now(UTC),
        max_cycle_age_s=60.0,
        database_timeout_s=0.3,
    )
    async with running(checks, Metrics()) as url:
        started = time.monotonic()
        first = await client.get(url + "/healthz")
        assert time.monotonic() - started < 2.0
        second = await client.get(url + "/healthz")
        release.set()
        await asyncio.sleep(0.05)
        third = await client.get(url + "/healthz")
    for response in (first, second):
        assert response.status_code == 503
        assert response.json()["database"] is False
        assert response.json()["failing"]["database"] == "no answer within 0.3 s"
    assert third.status_code == 200
    assert len(calls) == 2  # the hung check was awaited again, not run beside itself


async def test_stale_cycle_is_503(endpoint: Endpoint, client: httpx.AsyncClient) -> None:
    endpoint.service.last_cycle = datetime.now(UTC) - timedelta(minutes=16)
    response = await client.get(endpoint.url + "/healthz")
    assert response.status_code == 503
    document = response.json()
    assert list(document["failing"]) == ["last_cycle"]
    assert document["scheduler"] is True and document["database"] is True
    assert document["last_cycle_age_s"] >= 960


async def test_naive_utc_cycle_time_counts_as_utc(
    endpoint: Endpoint, client: httpx.AsyncClient
) -> None:
    endpoint.service.last_cycle = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=5)
    response = await client.get(endpoint.url + "/healthz")
    assert response.status_code == 200
    assert 5 <= response.json()["last_cycle_age_s"] < 15


async def test_no_cycle_yet_is_healthy_until_the_bound_passes(
    store: Store, client: httpx.AsyncClient
) -> None:
    service = Service(store, last_cycle=None)
    checks = HealthChecks(
        service.scheduler_alive, service.database_ok, service.last_cycle_at, max_cycle_age_s=0.3
    )
    async with running(checks, Metrics()) as url:
        fresh = await client.get(url + "/healthz")
        await asyncio.sleep(0.4)
        late = await client.get(url + "/healthz")
    assert fresh.status_code == 200
    assert fresh.json()["last_cycle_age_s"] is None
    assert late.status_code == 503
    assert list(late.json()["failing"]) == ["last_cycle"]


async def test_dead_or_broken_scheduler_is_503(
    endpoint: Endpoint, client: httpx.AsyncClient
) -> None:
    endpoint.service.alive = False
    dead = await client.get(endpoint.url + "/healthz")

    def broken() -> bool:
        raise RuntimeError("scheduler state unreadable")

    endpoint.checks.scheduler_alive = broken
    raising = await client.get(endpoint.url + "/healthz")
    for response in (dead, raising):
        assert response.status_code == 503
        assert response.json()["scheduler"] is False
        assert list(response.json()["failing"]) == ["scheduler"]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, parsed by prometheus_client."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _cycle() -> CycleReport:
    return CycleReport(
        reports=(
            SourceReport("vnexpress", PollOutcome.NEW, new=3, elapsed_s=1.0),
            SourceReport("baoquocte", PollOutcome.NEW, new=1, elapsed_s=2.0),
            SourceReport("mofa", PollOutcome.UNCHANGED, elapsed_s=0.2),
            SourceReport("tuoitre", PollOutcome.ERROR, reason="503", elapsed_s=0.1),
        ),
        elapsed_s=7.5,
    )


async def test_metrics_show_what_was_observed(
    endpoint: Endpoint, client: httpx.AsyncClient
) -> None:
    metrics = endpoint.metrics
    metrics.observe_cycle(_cycle())
    metrics.observe_cycle(CycleReport(reports=(), elapsed_s=0.2))
    for seconds in (0.08, 0.3, 4.0):
        metrics.observe_fetch(seconds)
    metrics.observe_extract(0.02)
    metrics.observe_telegram_429()
    metrics.observe_telegram_429()
    metrics.set_outbox({"pending": 7, "sent": 120, "failed": 2, "held": 3})
    metrics.set_sources(failing=2, total=40)
    metrics.observe_loop_lag(0.004)

    response = await client.get(endpoint.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)

    assert samples[("duta_sources_polled_total", (("outcome", "new"),))] == 2
    assert samples[("duta_sources_polled_total", (("outcome", "unchanged"),))] == 1
    assert samples[("duta_sources_polled_total", (("outcome", "error"),))] == 1
    assert samples[("duta_sources_polled_total", (("outcome", "rejected"),))] == 0
    assert samples[("duta_articles_stored_total", ())] == 4
    assert samples[("duta_cycles_total", ())] == 2
    assert samples[("duta_cycle_seconds_count", ())] == 2
    assert samples[("duta_cycle_seconds_sum", ())] == pytest.approx(7.7)
    assert samples[("duta_fetch_seconds_count", ())] == 3
    assert samples[("duta_fetch_seconds_bucket", (("le", "0.1"),))] == 1
    assert samples[("duta_fetch_seconds_bucket", (("le", "5.0"),))] == 3
    assert samples[("duta_extract_seconds_sum", ())] == pytest.approx(0.02)
    assert samples[("duta_telegram_429_total", ())] == 2
    assert samples[("duta_deliveries_total", (("outcome", "sent"),))] == 120
    assert samples[("duta_deliveries_total", (("outcome", "failed"),))] == 2
    assert samples[("duta_deliveries_pending", ())] == 7
    assert samples[("duta_deliveries_held", ())] == 3
    assert samples[("duta_sources_failing", ())] == 2
    assert samples[("duta_sources", ())] == 40
    assert samples[("duta_event_loop_lag_seconds_count", ())] == 1
    assert samples[("duta_event_loop_lag_last_seconds", ())] == 0.004
    assert samples[("duta_last_cycle_timestamp_seconds", ())] == pytest.approx(time.time(), abs=60)


async def test_deliveries_appear_only_once_the_outbox_was_read(
    endpoint: Endpoint, client: httpx.AsyncClient
) -> None:
    before = _samples((await client.get(endpoint.url + "/metrics")).text)
    endpoint.metrics.set_outbox(endpoint.service.store.outbox_counts())
    after = _samples((await client.get(endpoint.url + "/metrics")).text)
    assert not any(name.startswith("duta_deliveries") for name, _ in before)
    assert after[("duta_deliveries_total", (("outcome", "sent"),))] == 0
    assert after[("duta_deliveries_pending", ())] == 0


def test_each_metrics_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.observe_telegram_429()
    assert b"duta_telegram_429_total 1.0" in first.render()
    assert b"duta_telegram_429_total 0.0" in second.render()
    assert not any(name.startswith("duta_") for name in REGISTRY._names_to_collectors)


@pytest.mark.parametrize(
    ("samples_ms", "expected_ms"),
    [
        (range(1, 101), {"p50": 50, "p95": 95, "p99": 99, "max": 100}),
        ([7], {"p50": 7, "p95": 7, "p99": 7, "max": 7}),
        ([1, 1, 1, 1, 1, 1, 1, 1, 1, 500], {"p50": 1, "p95": 500, "p99": 500, "max": 500}),
        ([], {"p50": 0, "p95": 0, "p99": 0, "max": 0}),
    ],
)
def test_loop_lag_percentiles(samples_ms: list[int], expected_ms: dict[str, int]) -> None:
    metrics = Metrics()
    for ms in samples_ms:
        metrics.observe_loop_lag(ms / 1000)
    found = metrics.loop_lag_percentiles()
    assert {k: found[k] for k in expected_ms} == {
        k: pytest.approx(v / 1000) for k, v in expected_ms.items()
    }
    assert found["samples"] == len(list(samples_ms))


def _spin(seconds: float) -> None:
    """Keep the CPU busy on the calling thread."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


async def test_loop_lag_sees_a_blocked_loop_and_stops_promptly() -> None:
    metrics = Metrics()
    stopping = asyncio.Event()
    sampler = asyncio.create_task(measure_loop_lag(metrics, stopping, interval_s=0.02))
    await asyncio.sleep(0.1)
    _spin(0.3)  # the event loop is blocked, as by CPU work done on it by mistake
    await asyncio.sleep(0.1)
    stopping.set()
    started = time.monotonic()
    await asyncio.wait_for(sampler, timeout=1.0)
    assert time.monotonic() - started < 0.1
    found = metrics.loop_lag_percentiles()
    assert found["max"] >= 0.25
    assert found["p50"] < 0.05
    assert found["samples"] >= 5


async def test_unknown_path_is_404_and_other_methods_405(
    endpoint: Endpoint, client: httpx.AsyncClient
) -> None:
    missing = await client.get(endpoint.url + "/")
    posted = await client.post(endpoint.url + "/healthz", content=b"{}")
    assert missing.status_code == 404
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET, HEAD"


async def test_head_answers_headers_without_body(
    endpoint: Endpoint, client: httpx.AsyncClient
) -> None:
    health = await client.head(endpoint.url + "/healthz")
    metrics = await client.head(endpoint.url + "/metrics")
    assert health.status_code == 200
    assert metrics.status_code == 200
    assert health.content == b"" and metrics.content == b""
    assert int(metrics.headers["content-length"]) > 1000
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")


async def _raw(port: int, data: bytes, *, close_write: bool = False) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if close_write:
            writer.write_eof()
        return await asyncio.wait_for(reader.read(), timeout=5.0)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.mark.parametrize(
    ("garbage", "close_write", "answer"),
    [
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", False, b"HTTP/1.1 400 "),
        (b"GET\r\n\r\n", False, b"HTTP/1.1 400 "),
        (b"GET /healthz SPDY/9\r\n\r\n", False, b"HTTP/1.1 400 "),
        (b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n", False, b"HTTP/1.1 400 "),
        (b"GET /healthz HTTP/1.1\r\nHost: x", True, b""),  # hung up mid-request
    ],
)
async def test_garbage_closes_the_connection_and_the_server_goes_on(
    endpoint: Endpoint, client: httpx.AsyncClient, garbage: bytes, close_write: bool, answer: bytes
) -> None:
    reply = await _raw(endpoint.port, garbage, close_write=close_write)
    assert reply.startswith(answer)
    if answer:
        assert b"Connection: close" in reply
    response = await client.get(endpoint.url + "/healthz")
    assert response.status_code == 200


async def test_raw_http_10_request_is_answered(endpoint: Endpoint) -> None:
    reply = await _raw(endpoint.port, b"GET /healthz HTTP/1.0\r\n\r\n")
    head, body = reply.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(body)["status"] == "ok"


# `duta health`


async def _duta(*argv: str) -> int:
    """`duta …` in a thread, so the server on this loop goes on answering."""
    return await asyncio.to_thread(main, list(argv))


async def test_duta_health_exits_0_when_healthy(
    endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint.service.last_cycle = datetime.now(UTC) - timedelta(seconds=30)
    assert await _duta("health", "--url", endpoint.url + "/healthz") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"healthy: {endpoint.url}/healthz")
    assert "last cycle 30 s ago" in out
    assert out.count("\n") == 1


async def test_duta_health_exits_1_naming_what_fails(
    endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint.service.last_cycle = datetime.now(UTC) - timedelta(hours=1)
    assert await _duta("health", "--url", endpoint.url + "/healthz") == 1
    err = capsys.readouterr().err
    assert "answered 503" in err
    assert "last_cycle (older than 900 s)" in err
    assert err.count("\n") == 1


async def test_duta_health_reads_the_port_from_the_environment(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUTA_HTTP_PORT", str(endpoint.port))
    assert await _duta("health") == 0


def test_duta_health_without_a_port_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DUTA_HTTP_PORT", raising=False)
    assert main(["health"]) == 2
    assert "DUTA_HTTP_PORT" in capsys.readouterr().err


def test_duta_health_exits_1_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    with LocalSite("gone") as site:
        url = site.url("/healthz")
    assert main(["health", "--url", url]) == 1
    assert capsys.readouterr().err.startswith(f"unreachable: {url}")


def test_duta_health_gives_up_on_a_server_that_never_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with LocalSite("stuck") as site:
        site.add("/healthz", Route(hang=True))
        started = time.monotonic()
        assert main(["health", "--url", site.url("/healthz"), "--timeout", "0.5"]) == 1
        assert time.monotonic() - started < 3.0
    assert "timed out" in capsys.readouterr().err


async def test_duta_health_as_a_command(endpoint: Endpoint) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "health",
        env={"DUTA_HTTP_PORT": str(endpoint.port), "PATH": ""},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err
    assert out.decode().startswith("healthy: http://127.0.0.1:")
