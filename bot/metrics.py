"""Operations: the service's Prometheus metrics, one registry per process.

In: what the service observes — cycle reports, fetch and extraction times, Telegram
429s, outbox and source counts, the event loop's lag. Out: the Prometheus text
exposition served on `/metrics`, and recent loop-lag percentiles for reports.
Nothing registers in prometheus_client's global default registry, so several
`Metrics` (tests, several services in one process) never collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.models import PollOutcome

if TYPE_CHECKING:  # the pipeline's imports (extraction, storage) are not needed here
    from bot.pipeline import CycleReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what `render()` produces

FETCH_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
EXTRACT_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CYCLE_BUCKETS_S = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
LAG_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LAG_SAMPLES = 1200  # recent loop-lag samples kept for percentiles: 10 min at 0.5 s


class _OutboxCollector(Collector):
    """Delivery totals read from the outbox, which every worker shares.

    The outbox's sent and failed rows only grow, so they are exposed as counters;
    nothing is exposed before the first `set_outbox`, so a restart does not look
    like a burst of deliveries from zero.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] | None = None

    def collect(self) -> Iterator[Metric]:
        if self.counts is None:
            return
        done = CounterMetricFamily(
            "duta_deliveries",
            "Outbox messages that reached a chat (sent) or were given up (failed).",
            labels=["outcome"],
        )
        for outcome in ("sent", "failed"):
            done.add_metric([outcome], self.counts.get(outcome, 0))
        yield done
        yield GaugeMetricFamily(
            "duta_deliveries_pending",
            "Outbox messages waiting to be sent, held ones included.",
            value=self.counts.get("pending", 0),
        )
        yield GaugeMetricFamily(
            "duta_deliveries_held",
            "Pending outbox messages held until later (flood control, retry backoff).",
            value=self.counts.get("held", 0),
        )


class Metrics:
    """Every instrument of one Duta process, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.sources_polled = Counter(
            "duta_sources_polled", "Source polls, by outcome.", ["outcome"], registry=reg
        )
        for outcome in PollOutcome:
            self.sources_polled.labels(outcome=outcome.value)
        self.sources_failing = Gauge(
            "duta_sources_failing", "Sources failing for longer than the bound.", registry=reg
        )
        self.sources_total = Gauge("duta_sources", "Sources configured.", registry=reg)
        self.articles_stored = Counter("duta_articles_stored", "New articles stored.", registry=reg)
        self.cycles = Counter("duta_cycles", "Poll cycles finished.", registry=reg)
        self.last_cycle = Gauge(
            "duta_last_cycle_timestamp_seconds", "When the last poll cycle ended.", registry=reg
        )
        self.cycle_seconds = Histogram(
            "duta_cycle_seconds", "Poll cycle duration.", buckets=CYCLE_BUCKETS_S, registry=reg
        )
        self.fetch_seconds = Histogram(
            "duta_fetch_seconds", "HTTP fetch latency.", buckets=FETCH_BUCKETS_S, registry=reg
        )
        self.extract_seconds = Histogram(
            "duta_extract_seconds",
            "Article extraction time in the process pool.",
            buckets=EXTRACT_BUCKETS_S,
            registry=reg,
        )
        self.telegram_429 = Counter(
            "duta_telegram_429", "Telegram flood-control answers (429).", registry=reg
        )
        self.loop_lag_seconds = Histogram(
            "duta_event_loop_lag_seconds",
            "How late the event loop woke a timer.",
            buckets=LAG_BUCKETS_S,
            registry=reg,
        )
        self.loop_lag_last = Gauge(
            "duta_event_loop_lag_last_seconds", "The latest event-loop lag sample.", registry=reg
        )
        self._outbox = _OutboxCollector()
        reg.register(self._outbox)
        self._lag_samples: deque[float] = deque(maxlen=LAG_SAMPLES)

    def observe_cycle(self, report: CycleReport) -> None:
        """Count one finished poll cycle: each source's outcome, new articles, duration."""
        for source in report.reports:
            self.sources_polled.labels(outcome=source.outcome.value).inc()
        self.articles_stored.inc(report.new)
        self.cycles.inc()
        self.cycle_seconds.observe(report.elapsed_s)
        self.last_cycle.set(time.time())

    def observe_fetch(self, seconds: float) -> None:
        """Record one fetch's latency."""
        self.fetch_seconds.observe(seconds)

    def observe_extract(self, seconds: float) -> None:
        """Record one page's extraction time."""
        self.extract_seconds.observe(seconds)

    def observe_telegram_429(self) -> None:
        """Count one 429 (flood control) from Telegram."""
        self.telegram_429.inc()

    def set_outbox(self, counts: Mapping[str, int]) -> None:
        """Publish the outbox's counts per status (`Store.outbox_counts()`)."""
        self._outbox.counts = dict(counts)

    def set_sources(self, failing: int, total: int) -> None:
        """Publish how many sources are failing out of how many."""
        self.sources_failing.set(failing)
        self.sources_total.set(total)

    def observe_loop_lag(self, seconds: float) -> None:
        """Record one event-loop lag sample."""
        seconds = max(0.0, seconds)
        self.loop_lag_seconds.observe(seconds)
        self.loop_lag_last.set(seconds)
        self._lag_samples.append(seconds)

    def loop_lag_percentiles(self) -> dict[str, float]:
        """p50, p95, p99 and max of the recent lag samples, in seconds (zeros before any)."""
        ordered = sorted(self._lag_samples)
        if not ordered:
            return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "samples": 0.0}
        return {
            "p50": _nearest_rank(ordered, 0.50),
            "p95": _nearest_rank(ordered, 0.95),
            "p99": _nearest_rank(ordered, 0.99),
            "max": ordered[-1],
            "samples": float(len(ordered)),
        }

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


def _nearest_rank(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted samples by the nearest-rank method."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def measure_loop_lag(
    metrics: Metrics, stopping: asyncio.Event, interval_s: float = 0.5
) -> None:
    """Until `stopping` is set, sample how late the loop wakes a timer due every `interval_s`."""
    loop = asyncio.get_running_loop()
    while not stopping.is_set():
        due = loop.time() + interval_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=interval_s)
        if stopping.is_set():
            return
        metrics.observe_loop_lag(loop.time() - due)
