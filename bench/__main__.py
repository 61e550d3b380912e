"""`python -m bench [--quick] [--only NAME]…`: run the benchmarks, print the table, keep it.

Benchmarks run one after another (never two at once, so each has both cores) and the
whole table is written to bench/results.md under this mode's section.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import Config
from bench.report import Row, section, table, write

Result = tuple[list[Row], list[str]]
NAMES = ("poll", "extraction", "tagging", "storage", "footprint", "delivery", "latency")


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the chosen benchmarks, print and write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under 2 minutes)")
    parser.add_argument(
        "--only", action="append", choices=NAMES, help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only, keep results.md")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="duta-bench-") as scratch:
        config = Config.make(quick=args.quick, workdir=Path(scratch))
        rows, notes = run(config, args.only or list(NAMES))
    elapsed = time.monotonic() - started
    text = section(rows, notes, quick=args.quick, elapsed_s=elapsed)
    print(text)
    if not args.no_write and not args.only:
        write(text, quick=args.quick)
    return 0


def run(config: Config, names: list[str]) -> Result:
    """Run the named benchmarks in a fixed order; the feed server is shared by two of them."""
    from bench import delivery, extraction, footprint, latency, poll, storage, tagging
    from bench.feedserver import FeedServer

    rows: list[Row] = []
    notes: list[str] = []

    def step(name: str, benchmark: Callable[[], Result]) -> None:
        if name not in names:
            return
        began = time.monotonic()
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        found, said = benchmark()
        print(f"[bench] {name} took {time.monotonic() - began:.0f} s", file=sys.stderr)
        print(table(found), file=sys.stderr, flush=True)
        rows.extend(found)
        notes.extend(said)

    step("extraction", lambda: extraction.run(config))
    step("tagging", lambda: tagging.run(config))
    databases: list[Path] = []
    step("storage", lambda: storage.run(config, keep=databases))
    if {"poll", "footprint"} & set(names):
        with FeedServer(config.sources, items=config.items, latency_s=config.latency_s) as server:
            step("poll", lambda: poll.run(config, server))
            step("footprint", lambda: footprint.run(config, server, databases))
    step("delivery", lambda: delivery.run(config))
    step("latency", lambda: latency.run(config))
    return rows, notes


if __name__ == "__main__":
    sys.exit(main())
