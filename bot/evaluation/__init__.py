"""Evaluation: scores the tagger against the labelled set in tests/data/eval/.

In: the YAML files of labelled documents (`load_eval_set`) and a function that tags one
document. Out: an `EvalReport` with relevance, partner and theme precision and recall,
overall and per language, plus every miss (`evaluate`), and its renderings
(`format_report`, `format_misses`, `report_to_dict`). Apart from reading the files it is
pure; `duta eval` wires it to the real tagger.
"""

from bot.evaluation.dataset import load_eval_set
from bot.evaluation.report import format_misses, format_report, report_to_dict
from bot.evaluation.scoring import (
    TARGETS,
    Counts,
    EvalDoc,
    EvalReport,
    Miss,
    Scores,
    Target,
    evaluate,
    missed_targets,
)

__all__ = [
    "TARGETS",
    "Counts",
    "EvalDoc",
    "EvalReport",
    "Miss",
    "Scores",
    "Target",
    "evaluate",
    "format_misses",
    "format_report",
    "load_eval_set",
    "missed_targets",
    "report_to_dict",
]
