"""`duta poll --once [--source NAME]…`: one poll cycle, then a line per source and a total."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from bot.app import build, utcnow
from bot.errors import ConfigError
from bot.models import PollOutcome, Source, SourceReport
from bot.pipeline import CycleReport
from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `poll` subcommand."""
    parser = sub.add_parser("poll", help="run one poll cycle over due sources")
    parser.add_argument("--once", action="store_true", help="one cycle, then exit (the default)")
    parser.add_argument(
        "--source", action="append", default=[], metavar="NAME", help="poll only this source"
    )
    parser.add_argument("--all", action="store_true", help="poll every enabled source, due or not")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Poll once and print the per-source summary."""
    report = asyncio.run(_poll(settings, args.source, force=args.all))
    print(format_cycle(report))
    return 0


async def _poll(settings: Settings, names: list[str], *, force: bool) -> CycleReport:
    async with build(settings) as runtime:
        sources = _chosen(runtime.sources, names) if names else None
        if sources is None:
            enabled = [s for s in runtime.sources if s.enabled]
            sources = enabled if force else runtime.due_sources(utcnow())
        progress = Progress(len(sources), sys.stderr)
        report = await runtime.pipeline.poll(sources, progress=progress.advance)
        progress.done()
        return report


def _chosen(sources: tuple[Source, ...], names: list[str]) -> list[Source]:
    by_name = {s.name: s for s in sources}
    missing = [n for n in names if n not in by_name]
    if missing:
        known = ", ".join(sorted(by_name))
        raise ConfigError(
            f"no source named {', '.join(missing)} (known: {known})", field="--source"
        )
    return [by_name[n] for n in names]


class Progress:
    """A one-line progress counter on a terminal; silent when output is redirected."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.count = 0
        self.enabled = stream.isatty() and total > 1

    def advance(self, report: SourceReport) -> None:
        self.count += 1
        if self.enabled:
            self.stream.write(f"\r\x1b[K[{self.count}/{self.total}] {report.source}")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def format_report(report: SourceReport, width: int) -> str:
    """One aligned line for one source."""
    counts = f"new={report.new} seen={report.seen} rejected={report.rejected}"
    if report.errors and report.outcome is not PollOutcome.ERROR:
        counts += f" failed={report.errors}"
    line = f"{report.source:<{width}}  {report.outcome.value:<9}  {counts}"
    if report.reason:
        line += f"  ({report.reason})"
    return f"{line}  {report.elapsed_s:.1f}s"


def format_cycle(cycle: CycleReport) -> str:
    """Every source's line, then the total."""
    if not cycle.reports:
        return "no sources are due (use --all to poll them anyway)"
    width = max(len(r.source) for r in cycle.reports)
    lines = [format_report(r, width) for r in sorted(cycle.reports, key=lambda r: r.source)]
    outcomes = {o: sum(r.outcome is o for r in cycle.reports) for o in PollOutcome}
    summary = ", ".join(f"{n} {o.value}" for o, n in outcomes.items() if n)
    total = (
        f"total: {len(cycle.reports)} sources ({summary}); "
        f"{cycle.new} new articles, {sum(r.rejected for r in cycle.reports)} rejected pages "
        f"in {cycle.elapsed_s:.1f}s"
    )
    return "\n".join([*lines, total])
