"""Benchmark results: one `Row` per measured metric, printed as a table and kept in results.md.

In: the rows of every benchmark and the run's mode. Out: a Markdown table (metric,
value, baseline, ratio, target, met?) on stdout and in bench/results.md, where the
full run and the `--quick` run each keep their own section.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
HEADER = ("metric", "value", "baseline", "ratio", "target", "met?")


@dataclass(frozen=True, slots=True)
class Row:
    """One measured metric against its baseline and target."""

    metric: str
    value: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: bool | None = None  # None: no target (context for another row)

    def cells(self) -> tuple[str, ...]:
        verdict = {True: "yes", False: "**MISSED**", None: "—"}[self.met]
        return (self.metric, self.value, self.baseline, self.ratio, self.target, verdict)


def seconds(value: float) -> str:
    """A duration for the table: ms below one second."""
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def times(value: float) -> str:
    """A ratio for the table."""
    return f"{value:.2f}×"


def table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def section(rows: Sequence[Row], notes: Sequence[str], *, quick: bool, elapsed_s: float) -> str:
    """One run's section of results.md: machine, date, table and notes."""
    mode = "quick run (`python -m bench --quick`)" if quick else "full run (`python -m bench`)"
    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, " + (
        f"Python {platform.python_version()}"
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    missed = sum(row.met is False for row in rows)
    parts = [
        f"## {mode[0].upper()}{mode[1:]}",
        "",
        f"Run {when} on {machine}; the suite took {elapsed_s:.0f} s. "
        f"{missed} target{'s' if missed != 1 else ''} missed.",
        "",
        table(rows),
    ]
    if notes:
        parts += ["", *[f"- {note}" for note in notes]]
    return "\n".join(parts) + "\n"


INTRO = (
    "# Benchmark results\n\nWritten by `python -m bench`; bench/README.md says what each row "
    "measures and against which baseline.\n"
)
MODES = ("full", "quick")


def write(text: str, *, quick: bool, path: Path = RESULTS) -> None:
    """Replace this mode's section of results.md, keeping the other mode's."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    blocks = {mode: _block(old, mode) for mode in MODES}
    blocks["quick" if quick else "full"] = text
    parts = [INTRO] + [f"<!-- {m} -->\n{b}<!-- /{m} -->\n" for m, b in blocks.items() if b]
    path.write_text("\n".join(parts), encoding="utf-8")


def _block(text: str, mode: str) -> str | None:
    found = re.search(rf"<!-- {mode} -->\n(.*?)<!-- /{mode} -->", text, re.S)
    return found[1] if found else None
