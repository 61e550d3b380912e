"""The process the footprint benchmark watches: Duta built from the environment, polling.

In: DUTA_* variables (database, sources.yaml, taxonomy) as `duta poll` reads them.
Out: one JSON line on stdout with each cycle's outcome and the peak resident memory
(VmHWM) of this process and of every process below it (the extraction pool).
Run as `python -m bench.footprint_child`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
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


def pss_kib(pid: int) -> int:
    """Proportional set size of one process in KiB: shared pages split among their users."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


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
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return "forkserver" if int(stat[1]) == main else "extraction worker"
    return "other"


def descendants(pid: int) -> list[int]:
    """Every process below `pid`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
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
        result["pss_kib"] = {str(pid): pss_kib(pid) for pid in pids}
        result["roles"] = {str(pid): role(pid, os.getpid()) for pid in pids}
    return result


def main() -> int:
    """Run the cycles and print the JSON line."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    print(json.dumps(asyncio.run(cycles(count))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
