"""`duta eval`: score the tagger against the labelled evaluation set and check the targets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.evaluation import (
    EvalDoc,
    evaluate,
    format_misses,
    format_report,
    load_eval_set,
    missed_targets,
    report_to_dict,
)
from bot.models import Tagging
from bot.settings import Settings
from bot.tagging import Tagger
from bot.taxonomy import load_taxonomy

DEFAULT_DATA = Path("tests/data/eval")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `eval` subcommand."""
    parser = sub.add_parser(
        "eval",
        help="score the tagger against the labelled evaluation set",
        description="Tag every labelled document, print precision and recall per facet and "
        "language and the misses; exit 1 when a target is missed.",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        metavar="DIR",
        help=f"directory of labelled *.yaml files (default: {DEFAULT_DATA})",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate the configured taxonomy's tagger; 0 when every target is met, else 1."""
    docs = load_eval_set(args.data)
    tagger = Tagger(load_taxonomy(settings.taxonomy_path))

    def tag(doc: EvalDoc) -> Tagging:
        return tagger.tag(title=doc.title, lead=doc.lead, text=doc.text)

    report = evaluate(docs, tag)
    if args.json:
        print(json.dumps(report_to_dict(report), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
        print()
        print(format_misses(report))
    return 1 if missed_targets(report) else 0
