"""Evaluation reports: EvalReport → an aligned text table, a list of misses, or JSON data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.evaluation.scoring import TARGETS, Counts, EvalReport, Scores, missed_targets

# (column heading, metric name as in TARGETS, value)
COLUMNS: tuple[tuple[str, str, Callable[[Scores], float]], ...] = (
    ("rel P", "relevance precision", lambda s: s.relevance.precision),
    ("rel R", "relevance recall", lambda s: s.relevance.recall),
    ("partner P", "partner precision", lambda s: s.partner.precision),
    ("partner R", "partner recall", lambda s: s.partner.recall),
    ("theme P", "theme precision", lambda s: s.theme.precision),
    ("theme R", "theme recall", lambda s: s.theme.recall),
    ("theme F1", "theme F1", lambda s: s.theme.f1),
)


def format_report(report: EvalReport) -> str:
    """The scores as an aligned table, one row per slice, then the targets' verdict."""
    minimum = {t.name: t.minimum for t in TARGETS}
    rows = [("", "docs", *(heading for heading, _, _ in COLUMNS))]
    rows.append(_row("all", report.overall))
    rows += [_row(language, scores) for language, scores in report.by_language.items()]
    rows.append(
        ("target", "", *(f"≥{minimum[n]:.2f}" if n in minimum else "" for _, n, _ in COLUMNS))
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    missed = missed_targets(report)
    lines.append("")
    lines.append("targets missed: " + "; ".join(missed) if missed else "all targets met")
    return "\n".join(lines)


def _row(name: str, scores: Scores) -> tuple[str, ...]:
    return (name, str(scores.documents), *(f"{value(scores):.3f}" for _, _, value in COLUMNS))


def format_misses(report: EvalReport) -> str:
    """One line per miss: document, facet, expected and returned ids, and why."""
    if not report.misses:
        return "no misses"
    width = max(len(m.doc_id) for m in report.misses)
    lines = []
    for miss in report.misses:
        expected = ", ".join(miss.expected) or "—"
        got = ", ".join(miss.got) or "—"
        detail = f"   ({miss.detail})" if miss.detail else ""
        lines.append(
            f"{miss.doc_id.ljust(width)}  {miss.facet:<9}  expected {expected}  got {got}{detail}"
        )
    return "\n".join(lines)


def report_to_dict(report: EvalReport) -> dict[str, Any]:
    """The report as plain data for `duta eval --json`."""
    return {
        "overall": _scores_dict(report.overall),
        "languages": {lang: _scores_dict(s) for lang, s in report.by_language.items()},
        "targets": [
            {
                "name": t.name,
                "minimum": t.minimum,
                "value": round(t.value(report.overall), 4),
                "met": t.value(report.overall) >= t.minimum,
            }
            for t in TARGETS
        ],
        "misses": [
            {
                "id": m.doc_id,
                "language": m.language,
                "facet": m.facet,
                "expected": list(m.expected),
                "got": list(m.got),
                "detail": m.detail,
            }
            for m in report.misses
        ],
    }


def _scores_dict(s: Scores) -> dict[str, Any]:
    def counts(c: Counts) -> dict[str, Any]:
        return {
            "precision": round(c.precision, 4),
            "recall": round(c.recall, 4),
            "f1": round(c.f1, 4),
            "tp": c.tp,
            "fp": c.fp,
            "fn": c.fn,
        }

    return {
        "documents": s.documents,
        "relevance": counts(s.relevance),
        "partner": counts(s.partner),
        "theme": counts(s.theme),
    }
