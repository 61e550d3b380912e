"""Benchmark 6: memory and start-up of a Duta process polling many sources over a full store.

In: the running `FeedServer` and the SQLite store of the storage benchmark (100,000
articles; built here when that benchmark did not run). Out: rows for the peak resident
memory of a child process doing `duta poll`-like cycles — its own and its extraction
workers', summed — for the time from starting that process to the first request the
sites see, and for the per-host limits as the sites measured them.

The child reads sources.yaml and DUTA_* variables as `duta poll` does; each of the
sources has one new entry, and its article page is fetched, extracted, tagged and
stored, then a second cycle finds every feed unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench import Config, seeding
from bench.corpus import ROOT
from bench.feedserver import FeedServer
from bench.report import Row, seconds
from bot.settings import FetchSettings
from bot.store import Store

PEAK_TARGET_MB = 250
STARTUP_TARGET_S = 3.0


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


def _child(config: Config, database: Path, sources: Path) -> tuple[dict[str, Any], float]:
    """Run the child; (its JSON report, the monotonic time it was started)."""
    env = os.environ | {
        "DUTA_DATABASE_URL": f"sqlite:///{database}",
        "DUTA_SOURCES": str(sources),
        "DUTA_TAXONOMY": str(ROOT / "seeds" / "taxonomy.yaml"),
        "DUTA_ALLOW_PRIVATE_NETWORKS": "true",
        "DUTA_EXTRACT_WORKERS": str(config.extract_workers),
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bench.footprint_child", "2"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"footprint child failed: {done.stderr.strip()[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report, started


def run(config: Config, server: FeedServer, databases: list[Path]) -> tuple[list[Row], list[str]]:
    """Benchmark 6."""
    database = _database(config, databases)
    bases = [url.removesuffix("/feed.rss") for url in server.feed_urls()]
    now = datetime.now(UTC)
    seeding.preload_entries(f"sqlite:///{database}", bases, server.version, config.items, now)
    sources = _sources_file(config, server)
    server.advance()
    server.reset()
    report, started = _child(config, database, sources)
    seen = server.stats()
    peaks = report["peak_kib"]
    peak_mb = sum(peaks.values()) / 1024
    main_mb = peaks[min(peaks, key=int)] / 1024
    pss_mb = sum(report["pss_kib"].values()) / 1024
    startup = float(seen["first_request_at"]) - started
    first, second = report["cycles"]
    limits = FetchSettings()
    gap = seen["min_gap_per_host_s"]
    rows = [
        Row(
            f"peak RSS, {config.sources} sources, {config.articles:,} articles",
            f"{peak_mb:.0f} MB",
            f"{main_mb:.0f} MB main process + {len(peaks) - 1} helper processes",  # summed
            target=f"≤ {PEAK_TARGET_MB} MB",
            met=peak_mb <= PEAK_TARGET_MB,
        ),
        Row(
            "resident memory after the cycles, shared pages counted once (PSS)",
            f"{pss_mb:.0f} MB",
            _by_role(report, "pss_kib"),
        ),
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
    note = (
        "Footprint: peak RSS is the sum of VmHWM over the child and every process below it "
        "(forkserver and extraction workers), an upper bound since their peaks need not "
        "coincide; start-up is from spawning the child (`python -m bench.footprint_child`) "
        "to the first request the sites receive. The per-host rows are measured by the "
        "sites during that child's cycles (feed, robots.txt and article on each host)."
    )
    return rows, [note, f"Footprint peaks (VmHWM) per process: {_by_role(report, 'peak_kib')}."]


def _by_role(report: dict[str, Any], key: str) -> str:
    """'main 206 MB, forkserver 14 MB, …' for one per-process measure."""
    values: dict[str, int] = report[key]
    return ", ".join(f"{report['roles'][pid]} {kib / 1024:.0f} MB" for pid, kib in values.items())
