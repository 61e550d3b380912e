"""`duta tag [--json] FILE|-`: tag one document and explain each tag.

In: a plain-text file (its first line is the title) or an HTML page (extracted the
way the pipeline extracts articles), from a path or standard input. Out: the title,
detected language, relevance, summary and tags with the phrases that triggered
them — as one JSON object with `--json`, otherwise as readable lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.extract import extract
from bot.models import Tagging
from bot.settings import Settings
from bot.summary import summarize
from bot.tagging import Tagger, split_plain_text
from bot.taxonomy import load_taxonomy

_HTML = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<article|<div|<p[\s>])", re.I)
_HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `tag` subcommand."""
    parser = sub.add_parser(
        "tag",
        help="tag one document and explain each tag",
        description="Extract (if HTML) and tag one document: language, relevance, summary, "
        "and every tag with the phrases that triggered it.",
    )
    parser.add_argument("file", metavar="FILE", help="a text or HTML file, or - for stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_tag)


def run_tag(args: argparse.Namespace, settings: Settings) -> int:
    """Tag the document named on the command line and print the result."""
    raw, url, html_name = _read(args.file)
    if html_name or _HTML.match(raw[:512].lstrip(b"\xef\xbb\xbf")):
        page = extract(raw, url, min_text_chars=0)
        title, lead, text = page.title, page.lead, page.text
    else:
        title, text = split_plain_text(raw.decode("utf-8", errors="replace"))
        lead = None
    tagging = Tagger(load_taxonomy(settings.taxonomy_path)).tag(title=title, lead=lead, text=text)
    summary = summarize(title=title, lead=lead, text=text, language=tagging.language)
    result = to_contract(title, summary, tagging)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(explain(result, tagging.relevance))
    return 0


def _read(name: str) -> tuple[bytes, str, bool]:
    """The document's bytes, a URL naming it, and whether its name says it is HTML."""
    if name == "-":
        return sys.stdin.buffer.read(), "stdin:", False
    path = Path(name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=name) from exc
    return raw, path.resolve().as_uri(), path.suffix.lower() in _HTML_SUFFIXES


def to_contract(title: str, summary: str, tagging: Tagging) -> dict[str, Any]:
    """The `duta tag --json` object of PRODUCT.md."""
    return {
        "title": title,
        "language": tagging.language,
        "relevant": tagging.relevant,
        "relevance": tagging.relevance,
        "summary": summary,
        "tags": [
            {
                "id": tag.id,
                "facet": tag.facet,
                "label": tag.label,
                "score": tag.score,
                "evidence": list(tag.evidence),
            }
            for tag in tagging.tags
        ],
    }


def explain(result: dict[str, Any], relevance: float) -> str:
    """The result as lines a person reads: each tag with the words behind it."""
    verdict = "relevant" if result["relevant"] else "not relevant"
    lines = [
        result["title"] or "(no title)",
        f"language: {result['language']}   {verdict} to Vietnam's foreign relations "
        f"(score {relevance:.2f})",
    ]
    if result["summary"]:
        lines += ["", result["summary"]]
    lines.append("")
    if not result["tags"]:
        lines.append("no tags: no alias of the taxonomy occurs in this document")
    width = max((len(tag["id"]) for tag in result["tags"]), default=0)
    for tag in result["tags"]:
        because = ", ".join(f"“{phrase}”" for phrase in tag["evidence"])
        lines.append(f"{tag['id']:<{width}}  {tag['score']:.2f}  {tag['label']}  ← {because}")
    return "\n".join(lines)
