"""Tagging stage, tagger: a document's title, lead and text → `Tagging`.

The `Tagger` compiles a taxonomy once, then for each document detects its language,
scans each part, reads the evidence, keeps the tags that have enough of it (and only
the main themes) and decides relevance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from bot.language import SAMPLE_CHARS, detect_language
from bot.models import Tag, Tagging
from bot.tagging.patterns import (
    CUES,
    HOME,
    OFF_TOPIC,
    Word,
    automaton_words,
    build_automaton,
    compile_patterns,
    mark_nesting,
)
from bot.tagging.places import (
    Place,
    accepted,
    at_once,
    covering,
    folded_with_origin,
    outermost,
)
from bot.tagging.reading import SECTION_WEIGHTS, Reading
from bot.taxonomy import FACETS, SCAN_TABLE, Taxonomy, TaxonomyNode, clean, scan_form

MIN_EVIDENCE = {"partner": 1.0, "place": 1.0, "org": 1.0, "event": 1.0, "theme": 1.0}
# A document is about few themes: the strongest, and those close to it; a long one
# may cover one more per WORDS_PER_EXTRA_THEME words, up to MAX_THEMES_LONG.
MAX_THEMES = 3
MAX_THEMES_LONG = 5
WORDS_PER_EXTRA_THEME = 800
THEME_SHARE = 0.35  # of the strongest theme's evidence weight
HALF_SCORE_EVIDENCE = 2.0  # evidence weight at which a tag's score reaches 0.5
MAX_EVIDENCE_PHRASES = 5
# The relevance decision: foreign-relations words (cues, themes, events, organisations)
# must reach this weight and outweigh the off-topic words by this factor.
MIN_RELATIONS = 2.0
OFF_TOPIC_FACTOR = 1.5
RELEVANT_SCORE = 0.5
_LAST, _WORD_INDEX = itemgetter(0), itemgetter(1)
_THEME = FACETS.index("theme")


@dataclass(frozen=True, slots=True)
class Match:
    """One accepted alias occurrence: whom it names and the words as written."""

    owner: str  # a node id, or one of HOME, CUES, OFF_TOPIC
    start: int  # offsets into clean(text)
    end: int
    phrase: str


class Tagger:
    """Tags documents against one taxonomy; build once, call `tag` many times."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._nodes: dict[str, TaxonomyNode] = {node.id: node for node in taxonomy.nodes}
        self._facets = {node.id: node.facet for node in taxonomy.nodes}
        self._ranks = {node.id: FACETS.index(node.facet) for node in taxonomy.nodes}
        by_form = automaton_words(compile_patterns(taxonomy))
        forms = list(by_form)
        self._words = list(by_form.values())
        self._automaton = build_automaton(forms)
        mark_nesting(forms, self._words, self._automaton)
        self._nested = frozenset(index for index, word in enumerate(self._words) if word.within)

    def tag(self, *, title: str, lead: str | None, text: str) -> Tagging:
        """Detect the language, find the tags with their evidence, decide relevance."""
        sections = {"title": clean(title), "lead": clean(lead or ""), "body": clean(text)}
        # the detector reads no further than SAMPLE_CHARS: no need to copy the whole body
        opening = (sections["title"], sections["lead"], sections["body"][:SAMPLE_CHARS])
        language = detect_language("\n".join(s for s in opening if s))
        reading = Reading()
        for part, (name, section) in enumerate(sections.items()):
            self._read(reading, (part, SECTION_WEIGHTS[name], section), language)
        totals, evidence = reading.totals(), reading.evidence()
        body = sections["body"]
        words = body.count(" ") + body.count("\n") + 1 if body else 0  # clean() left one space
        limit = min(MAX_THEMES_LONG, MAX_THEMES + words // WORDS_PER_EXTRA_THEME)
        tags = self._tags(totals, evidence, language, limit)
        relevance = self._relevance(totals)
        return Tagging(
            language=language,
            relevant=relevance >= RELEVANT_SCORE,
            relevance=relevance,
            tags=tags,
        )

    def matches(self, text: str, language: str | None = None) -> tuple[Match, ...]:
        """Every alias occurrence the tagger accepts in `text`, before any threshold."""
        cleaned = clean(text)
        found = self._scan(cleaned, language or detect_language(cleaned), quick=False)[1]
        every = [
            Match(pattern.owner, start, end, cleaned[start:end])
            for pattern, _, starts, ends in found
            for start, end in zip(starts, ends, strict=True)
        ]
        return tuple(sorted(every, key=lambda m: (m.start, m.end, m.owner)))

    def _read(self, reading: Reading, part: tuple[int, float, str], language: str) -> None:
        """Weigh the matches in one part of the document: (its place, weight, text)."""
        _, _, text = part
        counted, found = self._scan(text, language, quick=True)
        for word, lasts in counted:  # simple words alone: every match counts as found
            key, _, patterns = word.aliases[0]
            reading.add_all(part, patterns, key, word.span, lasts)
        for pattern, key, starts, ends in found:
            reading.add(part, pattern, key, starts, ends)

    def _scan(
        self, text: str, language: str, *, quick: bool
    ) -> tuple[list[tuple[Word, list[int]]], list[Place]]:
        """The accepted matches in one part of the document, by pattern.

        With `quick`, the matches of simple words that neither hold nor are held by another
        word that matched come apart, as they are: (word, where its matches end).
        """
        if not text:
            return [], []
        form = scan_form(text)
        folded: str | None = None
        origin: list[int] | None = None
        if form is None:  # rare characters: fold them one by one and keep track
            folded, origin = folded_with_origin(text)
            form = folded.translate(SCAN_TABLE)
        raw = list(self._automaton.iter(f" {form} "))
        raw.sort(key=_WORD_INDEX)  # stable: each word's matches stay in order
        matched = set(map(_WORD_INDEX, raw))
        words, nested = self._words, self._nested
        counted = []
        places: dict[int, list[Place]] = {}
        pending = []
        for index, hits in groupby(raw, _WORD_INDEX):
            lasts = list(map(_LAST, hits))
            word = words[index]
            if origin is not None or not (word.simple or word.sifted):
                pending.append((index, lasts))
            elif quick and word.simple and word.related.isdisjoint(matched):
                counted.append((word, lasts))
            else:  # no need to look at each match: all count, or all are tested at once
                places[index] = at_once(word, lasts, text, language)
        for index, lasts in pending:
            # no need to check a match that a longer one, which surely counts, will drop
            shadow = covering(places, index, words) if index in nested else {}
            places[index] = accepted(words[index], lasts, text, (folded, origin), language, shadow)
        return counted, outermost(places, words, nested)

    def _tags(
        self,
        totals: dict[str, float],
        evidence: dict[str, list[str]],
        language: str,
        theme_limit: int,
    ) -> tuple[Tag, ...]:
        facets, ranks = self._facets, self._ranks
        kept = [
            (ranks[owner], -total, owner)
            for owner, total in totals.items()
            if owner in facets and total >= MIN_EVIDENCE[facets[owner]]
        ]
        kept.sort()  # by facet, strongest first, then by id
        tags = []
        for _, weight, owner in _main_themes(kept, theme_limit):
            node = self._nodes[owner]
            tag = Tag(
                id=owner,
                facet=facets[owner],
                label=node.label.get(language),
                score=round(1.0 - 0.5 ** (-weight / HALF_SCORE_EVIDENCE), 3),
                evidence=tuple(evidence[owner][:MAX_EVIDENCE_PHRASES]),
            )
            tags.append(tag)
        return tuple(tags)

    def _relevance(self, totals: dict[str, float]) -> float:
        """A score in [0, 1]: how surely the document is about Vietnam's foreign relations."""
        signals = self.taxonomy.relevance.signals
        relations = totals.get(CUES, 0.0)
        foreign = 0.0
        has_org = False
        for owner, total in totals.items():
            facet = self._facets.get(owner)
            if facet is None or total < MIN_EVIDENCE[facet]:
                continue
            if owner in signals or facet in signals:
                relations += total
            foreign += total if facet == "partner" else 0.0
            has_org = has_org or facet == "org"
        off_topic = totals.get(OFF_TOPIC, 0.0)
        if relations < MIN_RELATIONS or relations < OFF_TOPIC_FACTOR * off_topic:
            # too little: a score below the bar that still tells near misses apart
            return round(0.4 * relations / (relations + off_topic + MIN_RELATIONS), 3)
        home = totals.get(HOME, 0.0)
        certainty = 1.0 - math.exp(-(relations + foreign + home) / 4.0)
        if home == 0.0 and not has_org:
            certainty *= 0.6  # foreign relations, but maybe not Vietnam's
        return round(certainty, 3)


def _main_themes(kept: list[tuple[int, float, str]], limit: int) -> list[tuple[int, float, str]]:
    """Keep every non-theme tag, and only the strongest themes.

    `kept` holds (facet rank, minus the weight, id), sorted.
    """
    themes = [-weight for rank, weight, _ in kept if rank == _THEME]
    floor = THEME_SHARE * themes[0] if themes else 0.0
    chosen = []
    count = 0
    for rank, weight, owner in kept:
        if rank == _THEME:
            if count >= limit or -weight < floor:
                continue
            count += 1
        chosen.append((rank, weight, owner))
    return chosen


def split_plain_text(document: str) -> tuple[str, str]:
    """A plain-text document's title (its first line with a letter in it) and the rest."""
    lines = document.strip().splitlines()
    for index, line in enumerate(lines):
        if any(char.isalpha() for char in line):
            return line.strip(), "\n".join(lines[index + 1 :]).strip()
    return "", "\n".join(lines).strip()
