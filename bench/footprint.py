"""Benchmark 6: memory and start-up of a Duta process polling many sources over a full store.

In: the running `FeedServer` and the SQLite store of the storage benchmark (100,000
articles; built here when that benchmark did not run). Out: rows for the peak memory of
a child process doing `duta poll`-like cycles together with its extraction workers —
sampled as PSS, so pages the processes share count once, and as the sum of each
process's own peak RSS, an upper bound — for the time from starting that process to
the first request the sites see, and for the per-host limits as the sites measured them.

The child reads sources.yaml and DUTA_* variables as `duta poll` does; each of the
sources has one new entry, and its article page is fetched, extracted, tagged and
stored, then a second cycle finds every feed unchanged. While it runs, a thread here
sums the Pss of /proc/<pid>/smaps_rollup over the child and every process below it
every 100 ms and keeps the largest sum.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from bench import Config, seeding
from bench.corpus import ROOT
from bench.feedserver import FeedServer
from bench.footprint_child import below, parent, pids, role, rollup_kib
from bench.report import Row, seconds
from bot.settings import FetchSettings
from bot.store import Store

PEAK_TARGET_MB = 250
STARTUP_TARGET_S = 3.0
SAMPLE_EVERY_S = 0.1  # PSS sampling period; a spike shorter than this can fall between samples
CHILD_TIMEOUT_S = 480


@dataclass
class PssPeak:
    """The largest summed PSS of a process tree seen while sampling, and its make-up."""

    total_kib: int = 0
    file_kib: int = 0  # the file-backed part: interpreter, libraries, mapped files
    by_pid: dict[int, int] = field(default_factory=dict)  # each process's PSS at that moment
    at_s: float = 0.0  # seconds after sampling started
    samples: int = 0
    elapsed_s: float = 0.0  # how long sampling ran
    cpu_s: float = 0.0  # CPU time the samples took in this process
    roles: dict[int, str] = field(default_factory=dict)  # every process seen, by pid


class PssSampler:
    """A thread summing the PSS of `pid` and every process below it every `every_s`."""

    def __init__(self, pid: int, every_s: float = SAMPLE_EVERY_S) -> None:
        self.pid = pid
        self.every_s = every_s
        self.peak = PssPeak()
        self._stop = threading.Event()
        self._parents: dict[int, int | None] = {}  # read once per process: parents stay put
        self._thread = threading.Thread(target=self._loop, name="pss-sampler", daemon=True)
        self._began = time.monotonic()

    def __enter__(self) -> PssSampler:
        self._began = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak.elapsed_s = time.monotonic() - self._began

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every_s)

    def sample(self) -> None:
        """Read the tree's PSS once; keep it when it is the largest sum so far."""
        cpu = time.thread_time()
        tree = self._tree()
        for pid in tree:
            # named while alive; again while unnamed, as a helper seen between its fork and
            # its exec still shows the parent's command line
            if self.peak.roles.get(pid, "other") in ("other", "gone"):
                self.peak.roles[pid] = role(pid, self.pid)
        rollups = {pid: rollup_kib(pid) for pid in tree}
        by_pid = {pid: fields.get("Pss", 0) for pid, fields in rollups.items() if fields}
        self.peak.samples += 1
        self._keep(by_pid, sum(fields.get("Pss_File", 0) for fields in rollups.values()))
        self.peak.cpu_s += time.thread_time() - cpu

    def _tree(self) -> list[int]:
        """The watched process and every process below it."""
        alive = pids()
        self._parents = {pid: up for pid, up in self._parents.items() if pid in alive}
        for pid in alive - self._parents.keys():
            self._parents[pid] = parent(pid)
        return [self.pid, *below(self.pid, self._parents)]

    def _keep(self, by_pid: dict[int, int], file_kib: int) -> None:
        total = sum(by_pid.values())
        if total > self.peak.total_kib:
            self.peak.total_kib = total
            self.peak.file_kib = file_kib
            self.peak.by_pid = by_pid
            self.peak.at_s = time.monotonic() - self._began


@dataclass(frozen=True, slots=True)
class ChildRun:
    """What the footprint child reported, when it started, and its sampled PSS peak."""

    report: dict[str, Any]
    started: float  # time.monotonic() just before it was spawned
    pss: PssPeak


def _database(config: Config, databases: list[Path]) -> Path:
    if databases:
        return databases[0]
    path = config.workdir / "footprint.db"
    Store.open(f"sqlite:///{path}").close()
    seeding.fill(f"sqlite:///{path}", config.articles, datetime.now(UTC))
    return path


def _sources_file(config: Config, server: FeedServer) -> Path:
    entries = [
        {"name": f"site-{i:03d}", "url": url, "kind": "rss", "language": "vi"}
        for i, url in enumerate(server.feed_urls())
    ]
    path = config.workdir / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": entries}), encoding="utf-8")
    return path


def _child(config: Config, database: Path, sources: Path) -> ChildRun:
    """Run the child while sampling its process tree's PSS."""
    env = os.environ | {
        "DUTA_DATABASE_URL": f"sqlite:///{database}",
        "DUTA_SOURCES": str(sources),
        "DUTA_TAXONOMY": str(ROOT / "seeds" / "taxonomy.yaml"),
        "DUTA_ALLOW_PRIVATE_NETWORKS": "true",
        "DUTA_EXTRACT_WORKERS": str(config.extract_workers),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "bench.footprint_child", "2"]
    started = time.monotonic()
    with (
        subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as child,
        PssSampler(child.pid) as sampler,
    ):
        try:
            out, err = child.communicate(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise
    if child.returncode != 0:
        raise RuntimeError(f"footprint child failed: {err.strip()[-2000:]}")
    if sampler.peak.total_kib == 0:  # never report a memory figure that was not measured
        raise RuntimeError("footprint: no PSS read (needs /proc/<pid>/smaps_rollup, Linux 4.14+)")
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return ChildRun(report, started, sampler.peak)


def run(config: Config, server: FeedServer, databases: list[Path]) -> tuple[list[Row], list[str]]:
    """Benchmark 6."""
    database = _database(config, databases)
    bases = [url.removesuffix("/feed.rss") for url in server.feed_urls()]
    now = datetime.now(UTC)
    seeding.preload_entries(f"sqlite:///{database}", bases, server.version, config.items, now)
    sources = _sources_file(config, server)
    server.advance()
    server.reset()
    child = _child(config, database, sources)
    seen = server.stats()
    startup = float(seen["first_request_at"]) - child.started
    first, second = child.report["cycles"]
    rows = [
        *_memory_rows(config, child),
        Row(
            "start-up to first request",
            seconds(startup),
            target=f"≤ {STARTUP_TARGET_S:g} s",
            met=startup <= STARTUP_TARGET_S,
        ),
        Row(
            "footprint cycle: new articles fetched and extracted",
            f"{first['new']} in {seconds(first['elapsed_s'])}",
            f"unchanged cycle {seconds(second['elapsed_s'])}",
        ),
        *_host_rows(seen),
    ]
    return rows, _notes(child)


def _memory_rows(config: Config, child: ChildRun) -> list[Row]:
    """The target row (peak PSS of the tree) and the upper bound (summed VmHWM)."""
    pss_mb = child.pss.total_kib / 1024
    peaks = _by_pid(child.report["peak_kib"])
    roles = _by_pid(child.report["roles"])
    main_mb = sum(kib for pid, kib in peaks.items() if roles[pid] == "main") / 1024
    hwm_mb = sum(peaks.values()) / 1024
    size = f"{config.sources} sources, {config.articles:,} articles"
    return [
        Row(
            f"peak memory of the service, shared pages counted once (PSS), {size}",
            f"{pss_mb:.0f} MB",
            _by_role(child.pss.by_pid, child.pss.roles),
            target=f"≤ {PEAK_TARGET_MB} MB",
            met=pss_mb <= PEAK_TARGET_MB,
        ),
        Row(
            "upper bound: sum of each process's peak RSS (VmHWM)",
            f"{hwm_mb:.0f} MB",
            f"{main_mb:.0f} MB main process + {len(peaks) - 1} helper processes",
        ),
    ]


def _host_rows(seen: dict[str, Any]) -> list[Row]:
    """Per-host concurrency and spacing as the sites measured them."""
    limits = FetchSettings()
    gap = seen["min_gap_per_host_s"]
    return [
        Row(
            "per host: most requests in flight",
            str(seen["max_in_flight_per_host"]),
            target=f"≤ {limits.host_concurrency}",
            met=seen["max_in_flight_per_host"] <= limits.host_concurrency,
        ),
        Row(
            "per host: shortest gap between request starts",
            "—" if gap is None else seconds(gap),
            target=f"≥ {limits.host_delay_s:g} s",
            met=gap is not None and gap >= limits.host_delay_s - 0.005,
        ),
    ]


def _notes(child: ChildRun) -> list[str]:
    pss = child.pss
    roles = _by_pid(child.report["roles"])
    return [
        "Footprint: peak memory is the largest sum of Pss (/proc/<pid>/smaps_rollup) over "
        "the child and every process below it (forkserver, resource tracker, extraction "
        f"workers), sampled every {SAMPLE_EVERY_S * 1000:.0f} ms from the benchmark process "
        f"({pss.samples} samples in {seconds(pss.elapsed_s)}, "
        f"{pss.cpu_s / max(pss.samples, 1) * 1000:.1f} ms of CPU each); it was reached "
        f"{seconds(pss.at_s)} after the child started, {pss.file_kib / 1024:.0f} MB of it "
        "file-backed (interpreter, libraries). "
        "PSS charges a process its private pages and an equal share of each page it "
        "shares, so pages shared by the forked workers count once in the sum; file pages "
        "shared with the benchmark's own Python processes are partly charged to those. The "
        "upper bound adds every process's own peak RSS (VmHWM): shared pages count once per "
        "process and peaks that never coincided are added. Start-up is from spawning the "
        "child (`python -m bench.footprint_child`) to the first request the sites receive. "
        "The per-host rows are measured by the sites during that child's cycles (feed, "
        "robots.txt and article on each host).",
        "Footprint peaks (VmHWM) per process: "
        f"{_by_role(_by_pid(child.report['peak_kib']), roles)}.",
    ]


def _by_pid(values: dict[str, Any]) -> dict[int, Any]:
    """A JSON object keyed by pid, keyed by int."""
    return {int(pid): value for pid, value in values.items()}


def _by_role(kib_by_pid: dict[int, int], roles: dict[int, str]) -> str:
    """'main 206 MB, forkserver 14 MB, …' for one per-process measure."""
    return ", ".join(
        f"{roles.get(pid, 'other')} {kib / 1024:.0f} MB" for pid, kib in kib_by_pid.items()
    )
