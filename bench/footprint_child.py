"""The process the footprint benchmark watches: Duta built from the environment, polling.

In: DUTA_* variables (database, sources.yaml, taxonomy) as `duta poll` reads them.
Out: one JSON line on stdout with each cycle's outcome and the peak resident memory
(VmHWM) of this process and of every process below it (the extraction pool).
Run as `python -m bench.footprint_child`. The /proc readers here are also what the
benchmark process uses to sample this process tree's PSS while it runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.app import build
from bot.settings import Settings


def peak_kib(pid: int) -> int:
    """VmHWM of one process in KiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def rollup_kib(pid: int) -> dict[str, int]:
    """The memory totals of /proc/<pid>/smaps_rollup (Rss, Pss, Pss_File, …) in KiB.

    Empty when the process is gone or the kernel has no smaps_rollup.
    """
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {}
    fields: dict[str, int] = {}
    for line in rollup.splitlines():
        name, _, rest = line.partition(":")
        value = rest.split()
        if len(value) == 2 and value[1] == "kB":
            fields[name] = int(value[0])
    return fields


def role(pid: int, main: int) -> str:
    """What a process in Duta's tree is: main, forkserver, extraction worker, …"""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return "gone"
    if pid == main:
        return "main"
    if "resource_tracker" in command:
        return "resource tracker"
    if "forkserver" in command:
        return "forkserver" if parent(pid) == main else "extraction worker"
    return "other"


def parent(pid: int) -> int | None:
    """The parent's pid (None when the process is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1])


def descendants(pid: int) -> list[int]:
    """Every process below `pid`."""
    return below(pid, {alive: parent(alive) for alive in pids()})


def pids() -> set[int]:
    """Every process now running."""
    return {int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()}


def below(pid: int, parent_of: Mapping[int, int | None]) -> list[int]:
    """Every process below `pid`, given each process's parent."""
    children: dict[int, list[int]] = {}
    for child, up in parent_of.items():
        if up is not None:
            children.setdefault(up, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


async def cycles(count: int) -> dict[str, Any]:
    """Build the runtime as `duta poll` does and poll every source `count` times."""
    result: dict[str, Any] = {"cycles": []}
    async with build(Settings.from_env()) as runtime:
        sources = [s for s in runtime.sources if s.enabled]
        for _ in range(count):
            report = await runtime.pipeline.poll(sources)
            result["cycles"].append(
                {"elapsed_s": report.elapsed_s, "new": report.new, "failed": report.failed}
            )
        pids = [os.getpid(), *descendants(os.getpid())]  # before the pool shuts down
        result["peak_kib"] = {str(pid): peak_kib(pid) for pid in pids}
        result["roles"] = {str(pid): role(pid, os.getpid()) for pid in pids}
    return result


def main() -> int:
    """Run the cycles and print the JSON line."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    print(json.dumps(asyncio.run(cycles(count))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
