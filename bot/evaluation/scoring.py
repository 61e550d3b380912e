"""Evaluation scoring: labelled documents + a tagging function → precision and recall.

Relevance is scored over all documents, "relevant" being the positive class. Partners
and themes are micro-averaged over the documents labelled relevant, whatever the tagger
decided about them: with G the gold ids and P the returned ids of that facet, summed over
those documents, precision = Σ|P ∩ G| / Σ|P| and recall = Σ|P ∩ G| / Σ|G|. A ratio with
a zero denominator counts as 1.0 (nothing claimed, nothing wrong). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.models import Tagging

FACETS = ("partner", "theme")


@dataclass(frozen=True, slots=True)
class EvalDoc:
    """One labelled document of the evaluation set."""

    id: str
    language: str
    title: str
    lead: str | None
    text: str
    relevant: bool
    partners: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    path: str = ""
    line: int = 0

    def gold(self, facet: str) -> frozenset[str]:
        """The expected ids of one facet ("partner" or "theme")."""
        return frozenset(self.partners if facet == "partner" else self.themes)


@dataclass(frozen=True, slots=True)
class Counts:
    """True positives, false positives and false negatives of one decision."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was predicted."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when nothing was expected."""
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True, slots=True)
class Scores:
    """The counts of one slice of the set (all documents, or one language)."""

    documents: int = 0
    relevance: Counts = field(default_factory=Counts)
    partner: Counts = field(default_factory=Counts)
    theme: Counts = field(default_factory=Counts)

    def __add__(self, other: Scores) -> Scores:
        return Scores(
            self.documents + other.documents,
            self.relevance + other.relevance,
            self.partner + other.partner,
            self.theme + other.theme,
        )


@dataclass(frozen=True, slots=True)
class Miss:
    """A document where the tagger's answer differs from the label."""

    doc_id: str
    language: str
    facet: str  # "relevance", "partner" or "theme"
    expected: tuple[str, ...]
    got: tuple[str, ...]
    detail: str = ""  # relevance score, or the evidence behind unexpected tags


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The scores overall and per language, and the misses behind them."""

    overall: Scores
    by_language: dict[str, Scores]
    misses: tuple[Miss, ...]


@dataclass(frozen=True, slots=True)
class Target:
    """A minimum one overall score must reach."""

    name: str
    minimum: float
    value: Callable[[Scores], float]


TARGETS = (
    Target("relevance precision", 0.95, lambda s: s.relevance.precision),
    Target("relevance recall", 0.90, lambda s: s.relevance.recall),
    Target("partner precision", 0.95, lambda s: s.partner.precision),
    Target("partner recall", 0.90, lambda s: s.partner.recall),
    Target("theme F1", 0.80, lambda s: s.theme.f1),
)

Tagger = Callable[[EvalDoc], Tagging]


def evaluate(docs: Iterable[EvalDoc], tag: Tagger) -> EvalReport:
    """Tag every document and compare the answers with the labels."""
    by_language: dict[str, Scores] = {}
    misses: list[Miss] = []
    for doc in docs:
        scores, doc_misses = _score(doc, tag(doc))
        by_language[doc.language] = by_language.get(doc.language, Scores()) + scores
        misses.extend(doc_misses)
    overall = sum(by_language.values(), Scores())
    return EvalReport(overall, dict(sorted(by_language.items())), tuple(misses))


def missed_targets(report: EvalReport) -> tuple[str, ...]:
    """A line for each target the overall scores miss; empty when all are met."""
    return tuple(
        f"{t.name} {t.value(report.overall):.3f} < {t.minimum:.2f}"
        for t in TARGETS
        if t.value(report.overall) < t.minimum
    )


def _score(doc: EvalDoc, tagging: Tagging) -> tuple[Scores, list[Miss]]:
    predicted = tagging.relevant
    relevance = Counts(
        tp=int(doc.relevant and predicted),
        fp=int(predicted and not doc.relevant),
        fn=int(doc.relevant and not predicted),
    )
    misses: list[Miss] = []
    if predicted != doc.relevant:
        misses.append(
            Miss(
                doc.id,
                doc.language,
                "relevance",
                (_relevance_word(doc.relevant),),
                (_relevance_word(predicted),),
                f"score {tagging.relevance:.2f}",
            )
        )
    facets = {name: Counts() for name in FACETS}
    if doc.relevant:
        for facet in FACETS:
            facets[facet], miss = _score_facet(doc, tagging, facet)
            if miss is not None:
                misses.append(miss)
    return Scores(1, relevance, facets["partner"], facets["theme"]), misses


def _score_facet(doc: EvalDoc, tagging: Tagging, facet: str) -> tuple[Counts, Miss | None]:
    gold = doc.gold(facet)
    tags = {tag.id: tag for tag in tagging.tags if tag.facet == facet}
    got = frozenset(tags)
    counts = Counts(tp=len(got & gold), fp=len(got - gold), fn=len(gold - got))
    if got == gold:
        return counts, None
    evidence = "; ".join(
        f"{tag_id} ← {', '.join(repr(e) for e in tags[tag_id].evidence)}"
        for tag_id in sorted(got - gold)
    )
    return counts, Miss(
        doc.id, doc.language, facet, tuple(sorted(gold)), tuple(sorted(got)), evidence
    )


def _relevance_word(relevant: bool) -> str:
    return "relevant" if relevant else "not relevant"


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0
