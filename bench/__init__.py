"""Duta's benchmark suite: what users feel, each measured against a baseline in the same run.

`python -m bench [--quick]` runs every benchmark on local servers only, prints one table
(metric, value, baseline, ratio, target, met?) and writes it to bench/results.md with
the machine's core count and the date. See bench/README.md for what each row means.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Config:
    """The sizes one run works with."""

    quick: bool
    workdir: Path  # scratch space, removed after the run
    sources: int  # feeds in a poll cycle, one per host
    articles: int  # stored articles for the storage and footprint benchmarks
    pages: int  # article pages through extraction
    items: int = 20  # entries per feed (baoquocte.vn's feed carries 25)
    latency_s: float = 0.05  # server latency per response
    extract_workers: int = 2  # the extraction pool on a 2-core machine
    reader_workers: int = 64  # reader's update threads: Duta's default source concurrency
    chats: int = 1000  # private chats in the delivery benchmark, one alert each
    mix_groups: int = 150  # the group-heavy delivery mix: groups …
    mix_private: int = 50  # … and private chats …
    mix_messages: int = 4  # … with this many alerts each
    ceiling_chats: int = 200  # private chats of the delivery run paced at the 30/s ceiling
    latency_articles: int = 20  # articles (one per feed) in the latency benchmark
    # the sources' poll interval there: 60 s is the least sources.yaml allows; a shorter one
    # (--quick) is set on the Source objects the service polls, never in sources.yaml
    poll_interval_s: int = 60

    @classmethod
    def make(cls, *, quick: bool, workdir: Path) -> Config:
        """The full sizes, or the `--quick` ones."""
        if quick:
            return cls(
                quick=True,
                workdir=workdir,
                sources=100,
                articles=10_000,
                pages=60,
                chats=200,
                mix_groups=75,
                mix_private=25,
                mix_messages=3,
                ceiling_chats=100,
                latency_articles=5,
                poll_interval_s=20,
            )
        return cls(quick=False, workdir=workdir, sources=500, articles=100_000, pages=200)
