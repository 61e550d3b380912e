"""Tagging stage: a document's title, lead and text → `Tagging` (tags with evidence).

Pure and fast: one Aho-Corasick automaton holds every alias of the taxonomy in its
folded form (case and diacritics removed), so one pass over each part of the
document finds every candidate. Each candidate is then checked against what its
alias demands: the diacritics or the capital letters as written, word boundaries,
and the words next to it (so "Anh" the pronoun is not the United Kingdom).
Matches in the title count more than in the lead, and those more than in the
body; a tag's score grows with that weight. The relevance decision weighs words
of foreign relations and of Vietnam against words of sports results, weather,
crime and markets.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import ahocorasick

from bot.language import detect_language
from bot.models import Tag, Tagging
from bot.taxonomy import (
    FACETS,
    FOLD_TABLE,
    Alias,
    Taxonomy,
    TaxonomyNode,
    clean,
    exact,
    fold,
)

SECTION_WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0}
MIN_EVIDENCE = {"partner": 1.0, "place": 1.0, "org": 1.0, "event": 1.0, "theme": 1.0}
# A document is about few themes: the strongest, and those close to it; a long one
# may cover one more per WORDS_PER_EXTRA_THEME words, up to MAX_THEMES_LONG.
MAX_THEMES = 3
MAX_THEMES_LONG = 5
WORDS_PER_EXTRA_THEME = 800
THEME_SHARE = 0.35  # of the strongest theme's evidence weight
HALF_SCORE_EVIDENCE = 2.0  # evidence weight at which a tag's score reaches 0.5
MAX_EVIDENCE_PHRASES = 5
HOME, CUES, OFF_TOPIC = "relevance.home", "relevance.cues", "relevance.off_topic"
# The relevance decision: foreign-relations words (cues, themes, events, organisations)
# must reach this weight and outweigh the off-topic words by this factor.
MIN_RELATIONS = 2.0
OFF_TOPIC_FACTOR = 1.5
RELEVANT_SCORE = 0.5
_BARRIER = re.compile(r"[.!?;:|\n()\[\]\"“”]")
_WORD = re.compile(r"\w+|[$€£¥₫]")  # currency signs count: "US$" is money, not a partner
_CONTEXT_CHARS = 80


@dataclass(frozen=True, slots=True)
class Match:
    """One accepted alias occurrence: whom it names and the words as written."""

    owner: str  # a node id, or one of HOME, CUES, OFF_TOPIC
    start: int  # offsets into clean(text)
    end: int
    phrase: str


@dataclass(frozen=True, slots=True)
class _Context:
    words: tuple[str, ...]
    loose: bool  # written without diacritics: compare folded words


@dataclass(frozen=True, slots=True)
class _Pattern:
    owner: str  # node id or relevance group
    group: str  # facet or relevance group: a match inside a longer one of its group is dropped
    alias: Alias
    exact: str
    requires: tuple[_Context, ...]
    forbids: tuple[_Context, ...]


@dataclass(frozen=True, slots=True)
class _Hit:
    pattern: _Pattern
    start: int
    end: int
    phrase: str
    weight: float


def _contexts(phrases: tuple[str, ...]) -> tuple[_Context, ...]:
    found = []
    for phrase in phrases:
        words = tuple(_WORD.findall(exact(phrase)))
        found.append(_Context(words=words, loose=fold(phrase) == exact(phrase)))
    return tuple(found)


def _patterns(taxonomy: Taxonomy) -> list[_Pattern]:
    owned: list[tuple[str, str, Alias]] = [
        (node.id, node.facet, alias) for node in taxonomy.nodes for alias in node.aliases
    ]
    relevance = taxonomy.relevance
    groups = ((HOME, relevance.home), (CUES, relevance.cues), (OFF_TOPIC, relevance.off_topic))
    for group, aliases in groups:
        owned.extend((group, group, alias) for alias in aliases)
    return [
        _Pattern(
            owner=owner,
            group=group,
            alias=alias,
            exact=exact(alias.text),
            requires=_contexts(alias.requires_context),
            forbids=_contexts(alias.forbids_context),
        )
        for owner, group, alias in owned
    ]


def _folded_with_origin(text: str) -> tuple[str, list[int] | None]:
    """The folded text, and where each folded character came from when lengths differ."""
    key = text.translate(FOLD_TABLE)
    if len(key) == len(text):
        return key, None
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = FOLD_TABLE[ord(char)]
        chars.append(folded)
        origin.extend([index] * len(folded))
    return "".join(chars), origin


def _bounded(key: str, start: int, end: int) -> bool:
    before = key[start - 1] if start > 0 else " "
    after = key[end] if end < len(key) else " "
    return not before.isalnum() and not after.isalnum()


class Tagger:
    """Tags documents against one taxonomy; build once, call `tag` many times."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._nodes: dict[str, TaxonomyNode] = {node.id: node for node in taxonomy.nodes}
        self._patterns = _patterns(taxonomy)
        by_key: dict[str, list[int]] = defaultdict(list)
        for index, pattern in enumerate(self._patterns):
            by_key[fold(pattern.alias.text)].append(index)
        self._automaton = ahocorasick.Automaton()
        for key, indices in by_key.items():
            self._automaton.add_word(key, (len(key), tuple(indices)))
        self._automaton.make_automaton()

    def tag(self, *, title: str, lead: str | None, text: str) -> Tagging:
        """Detect the language, find the tags with their evidence, decide relevance."""
        sections = {"title": clean(title), "lead": clean(lead or ""), "body": clean(text)}
        language = detect_language("\n".join(s for s in sections.values() if s))
        hits: list[_Hit] = []
        for name, section in sections.items():
            hits.extend(self._scan(section, SECTION_WEIGHTS[name], language))
        totals, evidence = _weigh(hits)
        words = len(sections["body"].split())
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
        hits = self._scan(cleaned, 1.0, language or detect_language(cleaned))
        ordered = sorted(hits, key=lambda h: (h.start, h.end, h.pattern.owner))
        return tuple(Match(h.pattern.owner, h.start, h.end, h.phrase) for h in ordered)

    def _scan(self, text: str, weight: float, language: str) -> list[_Hit]:
        if not text:
            return []
        key, origin = _folded_with_origin(text)
        hits: list[_Hit] = []
        for last, (length, indices) in self._automaton.iter(key):
            start, end = last - length + 1, last + 1
            if not _bounded(key, start, end):
                continue
            if origin is not None:
                start, end = origin[start], origin[last] + 1
            phrase = text[start:end]
            for index in indices:
                pattern = self._patterns[index]
                if _accepts(pattern, text, start, end, phrase, language):
                    hits.append(_Hit(pattern, start, end, phrase, weight * pattern.alias.weight))
        return _outermost(hits)

    def _tags(
        self,
        totals: dict[str, float],
        evidence: dict[str, list[str]],
        language: str,
        theme_limit: int,
    ) -> tuple[Tag, ...]:
        kept = [
            (self._nodes[owner], total)
            for owner, total in totals.items()
            if owner in self._nodes and total >= MIN_EVIDENCE[self._nodes[owner].facet]
        ]
        kept.sort(key=lambda item: (FACETS.index(item[0].facet), -item[1], item[0].id))
        tags = [
            Tag(
                id=node.id,
                facet=node.facet,
                label=node.label.get(language),
                score=round(1.0 - 0.5 ** (total / HALF_SCORE_EVIDENCE), 3),
                evidence=tuple(evidence[node.id][:MAX_EVIDENCE_PHRASES]),
            )
            for node, total in _main_themes(kept, theme_limit)
        ]
        return tuple(tags)

    def _relevance(self, totals: dict[str, float]) -> float:
        """A score in [0, 1]: how surely the document is about Vietnam's foreign relations."""
        signals = self.taxonomy.relevance.signals
        relations = totals.get(CUES, 0.0)
        foreign = 0.0
        has_org = False
        for owner, total in totals.items():
            node = self._nodes.get(owner)
            if node is None or total < MIN_EVIDENCE[node.facet]:
                continue
            if node.id in signals or node.facet in signals:
                relations += total
            foreign += total if node.facet == "partner" else 0.0
            has_org = has_org or node.facet == "org"
        off_topic = totals.get(OFF_TOPIC, 0.0)
        if relations < MIN_RELATIONS or relations < OFF_TOPIC_FACTOR * off_topic:
            # too little: a score below the bar that still tells near misses apart
            return round(0.4 * relations / (relations + off_topic + MIN_RELATIONS), 3)
        home = totals.get(HOME, 0.0)
        certainty = 1.0 - math.exp(-(relations + foreign + home) / 4.0)
        if home == 0.0 and not has_org:
            certainty *= 0.6  # foreign relations, but maybe not Vietnam's
        return round(certainty, 3)


def _weigh(hits: list[_Hit]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Evidence weight and phrases per owner; each repeat of one phrase counts less.

    The k-th occurrence of the same phrase adds 1/√k of its weight, strongest first, so a
    theme named by one common word many times does not drown one named in several ways.
    """
    by_phrase: dict[tuple[str, str], list[float]] = defaultdict(list)
    evidence: dict[str, list[str]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for hit in sorted(hits, key=lambda h: (h.weight < SECTION_WEIGHTS["title"], h.start)):
        owner = hit.pattern.owner
        by_phrase[owner, hit.phrase.translate(FOLD_TABLE)].append(hit.weight)
        if (owner, hit.phrase.casefold()) not in seen:
            seen.add((owner, hit.phrase.casefold()))
            evidence[owner].append(hit.phrase)
    totals: dict[str, float] = defaultdict(float)
    for (owner, _), weights in by_phrase.items():
        weights.sort(reverse=True)
        totals[owner] += sum(w / math.sqrt(k) for k, w in enumerate(weights, start=1))
    return totals, evidence


def _main_themes(
    kept: list[tuple[TaxonomyNode, float]], limit: int
) -> list[tuple[TaxonomyNode, float]]:
    """Keep every non-theme tag, and only the strongest themes (input sorted by weight)."""
    themes = [total for node, total in kept if node.facet == "theme"]
    floor = THEME_SHARE * themes[0] if themes else 0.0
    chosen: list[tuple[TaxonomyNode, float]] = []
    count = 0
    for node, total in kept:
        if node.facet == "theme":
            if count >= limit or total < floor:
                continue
            count += 1
        chosen.append((node, total))
    return chosen


def _accepts(pattern: _Pattern, text: str, start: int, end: int, phrase: str, lang: str) -> bool:
    alias = pattern.alias
    if alias.language_only and alias.language != lang:
        return False
    if alias.case_sensitive and phrase != alias.text:
        return False
    if not alias.fold and phrase.casefold() != pattern.exact:
        return False
    if not (pattern.requires or pattern.forbids):
        return True
    before, after = _neighbours(text, start, end)
    window = alias.context_window
    if pattern.forbids and _near(pattern.forbids, before, after, window):
        return False
    return not pattern.requires or _near(pattern.requires, before, after, window)


def _neighbours(text: str, start: int, end: int) -> tuple[list[str], list[str]]:
    """The words on each side of a match, up to the nearest sentence or caption break."""
    left = _BARRIER.split(text[max(0, start - _CONTEXT_CHARS) : start])[-1]
    right = _BARRIER.split(text[end : end + _CONTEXT_CHARS])[0]
    return _WORD.findall(left.casefold()), _WORD.findall(right.casefold())


def _near(contexts: tuple[_Context, ...], before: list[str], after: list[str], window: int) -> bool:
    """Whether a context phrase ends within `window` words before or starts within after."""
    folded_before = [w.translate(FOLD_TABLE) for w in before]
    folded_after = [w.translate(FOLD_TABLE) for w in after]
    for context in contexts:
        left = folded_before if context.loose else before
        right = folded_after if context.loose else after
        size = len(context.words)
        for gap in range(window):
            stop = len(left) - gap
            if stop - size >= 0 and tuple(left[stop - size : stop]) == context.words:
                return True
            if tuple(right[gap : gap + size]) == context.words:
                return True
    return False


def _outermost(hits: list[_Hit]) -> list[_Hit]:
    """Drop matches that lie inside a longer match of the same group, and repeats."""
    hits.sort(key=lambda h: (h.pattern.group, h.start, -h.end))
    kept: list[_Hit] = []
    cover: dict[str, _Hit] = {}
    seen: set[tuple[str, int, int]] = set()
    for hit in hits:
        group = hit.pattern.group
        span = (hit.pattern.owner, hit.start, hit.end)
        outer = cover.get(group)
        if span in seen:
            continue
        inside = outer is not None and hit.end <= outer.end
        if inside and outer is not None and (hit.start, hit.end) != (outer.start, outer.end):
            continue
        seen.add(span)
        kept.append(hit)
        if outer is None or hit.end > outer.end:
            cover[group] = hit
    return kept


def split_plain_text(document: str) -> tuple[str, str]:
    """A plain-text document's title (its first line with a letter in it) and the rest."""
    lines = document.strip().splitlines()
    for index, line in enumerate(lines):
        if any(char.isalpha() for char in line):
            return line.strip(), "\n".join(lines[index + 1 :]).strip()
    return "", "\n".join(lines).strip()
