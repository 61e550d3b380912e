"""`duta run`: the long-running service — polling, digests, the sender and the bot.

In: `Settings` and `RunOptions` (the role, tick, leases, shutdown bound, webhook). Out:
sources polled under leases, articles stored and routed, digests queued, the outbox
sent, Telegram answered — until SIGTERM or SIGINT.

The schedule lives in the database (`next_check_at` per source, digest times per
chat), so a restart resumes without a burst and without a gap; the in-process
APScheduler only ticks and asks the store what is due. Sources are claimed under a
lease, so several workers on one PostgreSQL database never poll a source at once, and
a batch left unfinished (a worker killed, or stopped past its bound) is claimed again
by any worker, which also tags and routes what the batch had stored. Roles: `worker`
polls, routes, queues digests and sends; `bot` answers Telegram (long polling, or a
webhook); `all` does both. Without TELEGRAM_BOT_TOKEN new relevant articles are
printed to the console instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Runtime, build, utcnow
from bot.delivery import queue_due_digests, route_article
from bot.errors import ConfigError, StoreError
from bot.health import HealthChecks, serve_health
from bot.metrics import Metrics, measure_loop_lag
from bot.models import StoredArticle
from bot.pipeline import CycleReport, tag_article
from bot.settings import Settings
from bot.store import Store
from bot.store.lock import single_process
from bot.store.sources import SourceClaim, is_failing
from bot.tagging import Tagger

log = logging.getLogger(__name__)

Role = Literal["all", "worker", "bot"]
ROLES: tuple[Role, ...] = ("all", "worker", "bot")
TICK_S = 5.0  # how often the scheduler asks the store which sources are due
DIGEST_TICK_S = 60.0  # how often chats' digest times are checked
STATS_S = 15.0  # how often outbox counts and source health are read for /metrics
SOURCE_LEASE_S = 600.0  # longer than one batch's poll: fetch timeouts plus extraction
OUTBOX_LEASE_S = 120.0
SHUTDOWN_S = 8.0  # under Docker's default 10 s between SIGTERM and SIGKILL
WEBHOOK_PORT = 8443
WEBHOOK_LISTEN = "0.0.0.0"  # every interface: the container's port mapping decides
HTTP_HOST = "0.0.0.0"  # /metrics is scraped from outside the container
SENDER_SHUTDOWN_S = 10.0
RECOVERY_MARGIN = timedelta(minutes=1)  # clock skew between workers
RECOVERY_LIMIT = 5000  # articles looked at when taking over an unfinished batch
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts

CONNECT_HINT = (
    "Telegram is not connected: set TELEGRAM_BOT_TOKEN to deliver alerts to chats. "
    "Until then new articles are printed here."
)


def worker_name() -> str:
    """This process's name in leases: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class PollOptions:
    """How a worker claims and polls sources."""

    tick_s: float = TICK_S
    lease_s: float = SOURCE_LEASE_S
    batch: int = 0  # sources claimed at once; 0: the pipeline's source concurrency
    worker: str = field(default_factory=worker_name)


@dataclass(frozen=True, slots=True)
class Webhook:
    """Telegram pushes updates to `url`; the bot listens on listen:port at its path."""

    url: str
    secret: str
    port: int = WEBHOOK_PORT
    listen: str = WEBHOOK_LISTEN

    @property
    def path(self) -> str:
        """The URL's path, which the bot serves (without the leading slash)."""
        return urlsplit(self.url).path.lstrip("/")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What `duta run` does beyond `Settings`."""

    role: Role = "all"
    poll: PollOptions = field(default_factory=PollOptions)
    outbox_lease_s: float = OUTBOX_LEASE_S
    shutdown_s: float = SHUTDOWN_S
    http_host: str = HTTP_HOST
    webhook: Webhook | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], role: Role = "all") -> RunOptions:
        """Read DUTA_TICK_S, DUTA_SOURCE_LEASE_S, DUTA_SOURCE_BATCH, DUTA_OUTBOX_LEASE_S,
        DUTA_SHUTDOWN_S, DUTA_HTTP_HOST and DUTA_WEBHOOK_* (URL, SECRET, PORT, LISTEN)."""
        base = cls()
        poll = PollOptions(
            tick_s=_number(env, "DUTA_TICK_S", TICK_S),
            lease_s=_number(env, "DUTA_SOURCE_LEASE_S", SOURCE_LEASE_S),
            batch=int(_number(env, "DUTA_SOURCE_BATCH", 0, minimum=0)),
        )
        return replace(
            base,
            role=role,
            poll=poll,
            outbox_lease_s=_number(env, "DUTA_OUTBOX_LEASE_S", OUTBOX_LEASE_S),
            shutdown_s=_number(env, "DUTA_SHUTDOWN_S", SHUTDOWN_S, minimum=0),
            http_host=env.get("DUTA_HTTP_HOST") or base.http_host,
            webhook=_webhook(env),
        )


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 1e-3) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"expected a number, got {raw!r}", field=name) from None
    if value < minimum:
        raise ConfigError(f"expected at least {minimum:g}, got {raw!r}", field=name)
    return value


def _webhook(env: Mapping[str, str]) -> Webhook | None:
    url = env.get("DUTA_WEBHOOK_URL", "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"expected an https:// URL, got {url!r}", field="DUTA_WEBHOOK_URL")
    secret = env.get("DUTA_WEBHOOK_SECRET", "")
    if not SECRET_TOKEN.fullmatch(secret):
        raise ConfigError(
            "webhook mode needs a secret token of 1-256 letters, digits, _ or -, which "
            "Telegram sends with every update",
            field="DUTA_WEBHOOK_SECRET",
        )
    port = int(_number(env, "DUTA_WEBHOOK_PORT", WEBHOOK_PORT, minimum=1))
    listen = env.get("DUTA_WEBHOOK_LISTEN") or WEBHOOK_LISTEN
    return Webhook(url=url, secret=secret, port=port, listen=listen)


class Service:
    """Claims and polls due sources, queues digests and refreshes metrics, on a tick."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_cycle: Callable[[CycleReport], None] | None = None,
        options: PollOptions | None = None,
        metrics: Metrics | None = None,
        polling: bool = True,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.options = options or PollOptions()
        self.metrics = metrics
        self.polling = polling
        self.listeners: list[Callable[[CycleReport], None]] = [on_cycle] if on_cycle else []
        self.stopping = asyncio.Event() if stopping is None else stopping
        self.cycles = 0
        self.last_cycle_at: datetime | None = None  # end of the last tick (stats: bot role)
        self.scheduler: AsyncIOScheduler | None = None
        self._busy = asyncio.Lock()
        self._jobs: set[asyncio.Task[None]] = set()
        self._in_flight: set[str] = set()  # sources leased to us and not yet released

    @property
    def batch(self) -> int:
        """How many sources one claim takes."""
        return self.options.batch or max(1, self.runtime.settings.source_concurrency)

    def scheduler_alive(self) -> bool:
        """True while the scheduler runs (for /healthz)."""
        return self.scheduler is not None and bool(self.scheduler.running)

    async def tick(self) -> None:
        """Claim and poll due sources, batch after batch; skipped while one is running."""
        if self._busy.locked() or self.stopping.is_set():
            return
        async with self._busy:
            try:
                while not self.stopping.is_set():
                    claims = await self._claim()
                    if claims:
                        await self._poll_claimed(claims)
                    if len(claims) < self.batch:
                        break
            except StoreError as exc:
                log.warning("polling paused until the next tick: %s", exc)
                return
            self.cycles += 1
            self.last_cycle_at = self.clock()

    async def _claim(self) -> list[SourceClaim]:
        """Lease a batch; if cancelled meanwhile, the lease is still taken: give it up."""
        claim = asyncio.ensure_future(
            asyncio.to_thread(
                self.runtime.store.claim_sources,
                worker=self.options.worker,
                now=self.clock(),
                limit=self.batch,
                lease_s=self.options.lease_s,
            )
        )
        try:
            return await asyncio.shield(claim)
        except asyncio.CancelledError:
            claim.add_done_callback(self._abandon_late_claim)
            raise

    def _abandon_late_claim(self, claim: asyncio.Future[list[SourceClaim]]) -> None:
        if not claim.cancelled() and claim.exception() is None:
            self._in_flight.update(c.name for c in claim.result())
            self.abandon_in_flight()

    async def _poll_claimed(self, claims: Sequence[SourceClaim]) -> None:
        """Poll one leased batch, route it, then release it; left unfinished, give it up."""
        names = [claim.name for claim in claims]
        self._in_flight.update(names)
        try:
            await self._recover([c for c in claims if c.orphaned_at is not None])
            report = await self.runtime.pipeline.poll(self.runtime.sources_named(names))
        except BaseException:
            # Cancelled, or routing failed: what was stored may be unrouted. Giving the
            # batch up (rather than releasing it) makes the next claim recover it.
            self.abandon_in_flight()
            raise
        await asyncio.to_thread(
            self.runtime.store.release_sources, names, worker=self.options.worker
        )
        self._in_flight.difference_update(names)
        for listener in self.listeners:
            listener(report)

    async def _recover(self, orphaned: Sequence[SourceClaim]) -> None:
        """Tag and route what another worker stored for `orphaned` and may not have routed."""
        runtime = self.runtime
        tagger = runtime.pipeline.tagger
        left = [c.orphaned_at for c in orphaned if c.orphaned_at is not None]
        if not left or tagger is None:
            return
        since = min(left) - timedelta(seconds=self.options.lease_s) - RECOVERY_MARGIN
        names = [c.name for c in orphaned]
        log.info("taking over unfinished sources %s (left since %s)", ", ".join(names), since)
        routed = await asyncio.to_thread(
            recover_articles,
            runtime.store,
            tagger,
            names,
            since=since,
            now=self.clock(),
            on_article=runtime.pipeline.on_article,
        )
        if routed:
            log.info("routed %d relevant articles of unfinished sources again", routed)

    def abandon_in_flight(self) -> None:
        """Give up the leased sources at once (stopping): any worker takes them over."""
        names = sorted(self._in_flight)
        if not names:
            return
        try:
            self.runtime.store.abandon_sources(names, now=self.clock(), worker=self.options.worker)
        except StoreError as exc:  # the leases run out on their own
            log.warning("sources %s not given up: %s", ", ".join(names), exc)
        else:
            self._in_flight.difference_update(names)

    async def digest_tick(self) -> None:
        """Queue the daily and weekly digests whose local time has come."""
        if self.stopping.is_set():
            return
        runtime = self.runtime
        taxonomy = runtime.pipeline.tagger.taxonomy if runtime.pipeline.tagger else None
        if taxonomy is None:
            return
        try:
            await asyncio.to_thread(queue_due_digests, runtime.store, taxonomy, self.clock())
        except StoreError as exc:
            log.warning("digests not queued this time: %s", exc)

    async def refresh_stats(self) -> None:
        """Publish the outbox counts and source health (shared by every worker) as metrics."""
        if self.metrics is not None:
            try:
                await asyncio.to_thread(self._read_stats, self.metrics)
            except StoreError as exc:
                log.warning("metrics not refreshed: %s", exc)
                return
        if not self.polling:  # a bot has no cycles: this job is its heartbeat
            self.last_cycle_at = self.clock()

    def _read_stats(self, metrics: Metrics) -> None:
        runtime = self.runtime
        now = self.clock()
        metrics.set_outbox(runtime.store.outbox_counts(now=now))
        states = runtime.store.source_states()
        failing_after = timedelta(seconds=runtime.settings.failing_after_s)
        enabled = [s.name for s in runtime.sources if s.enabled]
        failing = sum(
            1 for name in enabled if name in states and is_failing(states[name], now, failing_after)
        )
        metrics.set_sources(failing, len(enabled))

    async def run(self) -> None:
        """Tick until `stopping` is set; then let the jobs in flight finish.

        Cancelled (the shutdown bound passed), the jobs are cancelled too and their
        leased sources given up.
        """
        scheduler = AsyncIOScheduler(timezone="UTC")
        if self.polling:
            self._every(scheduler, self.tick, self.options.tick_s, "poll")
            self._every(scheduler, self.digest_tick, DIGEST_TICK_S, "digests")
        if self.metrics is not None or not self.polling:
            self._every(scheduler, self.refresh_stats, STATS_S, "stats")
        self.scheduler = scheduler
        scheduler.start()
        try:
            await self.stopping.wait()
            scheduler.pause()  # no new runs; shutting down would cancel the running ones
            await self._settle()
        finally:
            scheduler.shutdown(wait=False)

    def _every(
        self,
        scheduler: AsyncIOScheduler,
        job: Callable[[], Awaitable[None]],
        seconds: float,
        name: str,
    ) -> None:
        running: set[asyncio.Task[None]] = set()

        async def tracked() -> None:
            task = asyncio.current_task()
            if task is None or running:  # the last run is still going: this tick is moot
                return
            running.add(task)
            self._jobs.add(task)
            try:
                await job()
            except asyncio.CancelledError:  # stopped past the bound: nothing to report
                log.info("%s: stopped before it finished", name)
            finally:
                running.discard(task)
                self._jobs.discard(task)

        scheduler.add_job(
            tracked,
            "interval",
            seconds=seconds,
            next_run_time=self.clock(),
            # a second instance returns at once (above): APScheduler would log each skip
            max_instances=2,
            coalesce=True,
            misfire_grace_time=None,  # a late tick still runs: the loop was only busy
            id=name,
        )

    async def _settle(self) -> None:
        """Wait for the jobs in flight; if cancelled meanwhile, cancel them and wait again."""
        jobs = set(self._jobs)
        if not jobs:
            return
        try:
            await asyncio.wait(jobs)
        except asyncio.CancelledError:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            raise


def recover_articles(
    store: Store,
    tagger: Tagger,
    names: Sequence[str],
    *,
    since: datetime,
    now: datetime,
    on_article: Callable[[StoredArticle], None] | None = None,
) -> int:
    """Tag and route the articles of `names` fetched since `since`; how many were relevant.

    Routing twice is harmless (an alert per chat and story, a digest item once), so
    every article of the window is routed again; untagged ones are tagged first.
    """
    wanted = set(names)
    routed = 0
    for article in store.articles_since(since, limit=RECOVERY_LIMIT):
        if article.source not in wanted:
            continue
        tagging, summary = tag_article(tagger, article)
        if article.relevant is None:  # stored, never tagged: never shown either
            store.set_tagging(article.id, tagging, summary, now=now)
            if on_article is not None:
                on_article(replace(article, relevant=tagging.relevant, summary=summary))
        if tagging.relevant:
            route_article(store, tagger.taxonomy, article, tagging, now)
            routed += 1
    return routed


def console_alert(article: StoredArticle) -> None:
    """Print one stored, relevant article as a console alert."""
    if article.relevant is False:
        return
    date = f"{article.published_at:%Y-%m-%d %H:%M}" if article.published_at else "undated"
    summary = f"\n    {article.summary}" if article.summary else ""
    print(f"[{article.source}] {date}  {article.title}{summary}\n    {article.url}", flush=True)


HARD_EXIT_AFTER_S = 1.5  # after the grace period: within Docker's default 10 s stop timeout


class _Shutdown:
    """The signal handler: the first signal stops within the bound, a second one at once."""

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.on_exit: Callable[[], None] | None = None

    def __call__(self) -> None:
        if self.stopping.is_set():
            self._exit_now()
            return
        log.info("stopping: finishing the work in flight (at most %g s)", self.grace_s)
        self.stopping.set()
        asyncio.get_running_loop().call_later(self.grace_s, self._cancel)
        # The bound holds even if teardown blocks (threads finishing a cancelled batch,
        # pool workers): a watchdog gives the leases up and exits, as a crash would but
        # with nothing left for the leases to time out on.
        watchdog = threading.Timer(self.grace_s + HARD_EXIT_AFTER_S, self._exit_late)
        watchdog.daemon = True
        watchdog.start()

    def _cancel(self) -> None:
        if self.task is not None and not self.task.done():
            log.warning("stopping: the work in flight did not finish in %g s", self.grace_s)
            self.task.cancel()

    def _exit_late(self) -> None:
        log.warning(
            "stopping: teardown overran %g s; exiting now", self.grace_s + HARD_EXIT_AFTER_S
        )
        self._exit(0)

    def _exit_now(self) -> None:
        log.warning("second signal: exiting now")
        self._exit(130)

    def _exit(self, code: int) -> None:
        if self.on_exit is not None:  # give leases up if the database answers at once
            giving_up = threading.Thread(target=self.on_exit, daemon=True)
            giving_up.start()
            giving_up.join(1.0)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


async def serve(settings: Settings, options: RunOptions | None = None) -> int:
    """Run the service's role until SIGTERM/SIGINT; a second signal stops at once."""
    options = options or RunOptions()
    if options.role == "bot" and not settings.telegram_token:
        raise ConfigError("--role bot needs a bot token", field="TELEGRAM_BOT_TOKEN")
    shutdown = _Shutdown(options.shutdown_s)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shutdown)
    try:
        with single_process(settings.database_url):
            await _serve(settings, options, shutdown)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 0


async def _serve(settings: Settings, options: RunOptions, shutdown: _Shutdown) -> None:
    polling = options.role != "bot"
    console = not settings.telegram_token
    if console:
        log.warning(CONNECT_HINT)
    if not polling:  # a bot extracts nothing: no process pool
        settings = replace(settings, extract_workers=0)
    metrics = Metrics()
    on_article = console_alert if console else None
    async with build(settings, on_article=on_article, metrics=metrics) as runtime:
        service = Service(
            runtime,
            options=options.poll,
            metrics=metrics,
            polling=polling,
            stopping=shutdown.stopping,
        )
        service.listeners.append(metrics.observe_cycle)
        shutdown.on_exit = service.abandon_in_flight
        health = await _start_health(settings, options, service, metrics)
        log.info(
            "duta run: role %s as %s on %s", options.role, options.poll.worker, _where(runtime)
        )
        shutdown.task = asyncio.create_task(_run_roles(service, settings, options, metrics))
        try:
            await asyncio.wait([shutdown.task])
            failure = None if shutdown.task.cancelled() else shutdown.task.exception()
            if failure is not None:
                raise failure
        finally:
            if health is not None:
                health.close()
                await health.wait_closed()
            _log_loop_lag(metrics)


async def _run_roles(
    service: Service, settings: Settings, options: RunOptions, metrics: Metrics
) -> None:
    """The scheduler, the loop-lag sampler and, with a token, the Telegram side."""
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(service.run())
            group.create_task(measure_loop_lag(metrics, service.stopping))
            if settings.telegram_token:
                from bot.telegram.runner import run_telegram

                group.create_task(
                    run_telegram(
                        service,
                        settings,
                        bot=options.role in ("all", "bot"),
                        sender=options.role in ("all", "worker"),
                        webhook=options.webhook,
                        outbox_lease_s=options.outbox_lease_s,
                        shutdown_s=options.shutdown_s / 2,
                        metrics=metrics,
                    )
                )
    except ExceptionGroup as failed:  # report the first cause as itself, not as a group
        raise failed.exceptions[0] from None


async def _start_health(
    settings: Settings, options: RunOptions, service: Service, metrics: Metrics
) -> asyncio.Server | None:
    if settings.http_port is None:
        return None
    lease = options.poll.lease_s + 2 * options.poll.tick_s
    checks = HealthChecks(
        scheduler_alive=service.scheduler_alive,
        database_ok=service.runtime.store.ping,
        last_cycle_at=lambda: service.last_cycle_at,
        # a batch may run for up to its lease; a bot's heartbeat is the stats job
        max_cycle_age_s=(lease if service.polling else 4 * STATS_S) + 60.0,
    )
    try:
        return await serve_health(options.http_host, settings.http_port, checks, metrics)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {options.http_host}:{settings.http_port}: {exc.strerror}",
            field="DUTA_HTTP_PORT",
        ) from exc


def _where(runtime: Runtime) -> str:
    return runtime.store.database_label


def _log_loop_lag(metrics: Metrics) -> None:
    lag = metrics.loop_lag_percentiles()
    if lag["samples"]:
        log.info(
            "event loop lag: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (%d samples)",
            *(lag[key] * 1000 for key in ("p50", "p95", "p99", "max")),
            int(lag["samples"]),
        )
