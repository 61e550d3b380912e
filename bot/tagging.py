"""Tagging stage: a document's title, lead and text → `Tagging` (tags with evidence).

Pure and fast: one Aho-Corasick automaton holds every alias of the taxonomy in its
folded form (case and diacritics removed) between word boundaries, so one pass over
each part of the document finds every candidate, and only whole words. Candidates are
then handled alias by alias rather than one by one: most aliases accept every place
they stand; the others are checked against what they demand, the diacritics or the
capital letters as written, and the words next to them (so "Anh" the pronoun is not
the United Kingdom). A match inside a longer match of its kind does not count.
Matches in the title count more than in the lead, and those more than in the body; a
tag's score grows with that weight. The relevance decision weighs words of foreign
relations and of Vietnam against words of sports results, weather, crime and markets.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate, compress, groupby, repeat
from operator import and_, itemgetter, sub, truediv

import ahocorasick

from bot.language import SAMPLE_CHARS, detect_language
from bot.models import Tag, Tagging
from bot.taxonomy import (
    FACETS,
    FOLD_TABLE,
    PUNCTUATION,
    SCAN_TABLE,
    Alias,
    Taxonomy,
    TaxonomyNode,
    clean,
    exact,
    fold,
    scan_form,
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
TITLE_WEIGHT = SECTION_WEIGHTS["title"]
_BARRIER = re.compile(r"[.!?;:|\n()\[\]\"“”]")
_WORD = re.compile(r"\w+|[$€£¥₫]")  # currency signs count: "US$" is money, not a partner
_CONTEXT_CHARS = 80
_BOUNDARIES = (" ", PUNCTUATION)  # how the scan reads a word boundary
_LAST, _WORD_INDEX = itemgetter(0), itemgetter(1)
_THEME = FACETS.index("theme")


@dataclass(frozen=True, slots=True)
class Match:
    """One accepted alias occurrence: whom it names and the words as written."""

    owner: str  # a node id, or one of HOME, CUES, OFF_TOPIC
    start: int  # offsets into clean(text)
    end: int
    phrase: str


@dataclass(frozen=True, slots=True)
class _Context:
    """Context phrases of one length, as words, and whether to compare them folded."""

    size: int  # words in each phrase
    loose: bool  # written without diacritics: compare folded words
    phrases: frozenset[tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Pattern:
    owner: str  # node id or relevance group
    group: str  # facet or relevance group: a match inside a longer one of its group is dropped
    alias: Alias
    exact: str
    requires: tuple[_Context, ...]
    forbids: tuple[_Context, ...]
    plain: bool  # accepted wherever its words stand: no rule of language, case or context
    reach: int  # words on each side the context rules look at
    named: bool  # the owner is a node, whose tag shows its evidence


@dataclass(frozen=True, slots=True)
class _Word:
    """What one word of the automaton stands for: the aliases folded to it."""

    span: int  # from the index where a match of it ends to where it starts
    # each folded alias: whether it has punctuation, which the scan must compare as it
    # reads all punctuation alike; and the patterns that decide its matches
    aliases: tuple[tuple[str, bool, tuple[_Pattern, ...]], ...]
    simple: bool  # one alias, no punctuation, only plain patterns: every match counts
    # one alias, no punctuation, no context rules, one pattern per owner: its matches can
    # be sifted all at once
    sifted: bool
    # per group of its patterns, the words that hold it and have a pattern of that group
    within: dict[str, frozenset[int]] = field(default_factory=dict)
    # the words it holds or that hold it: where none matched, its matches stand alone
    related: set[int] = field(default_factory=set)


# Where one pattern matched in one part of the document: (pattern, folded alias, starts,
# ends), in order. Plain tuples: a document has dozens, made and read in few steps.
_Place = tuple[_Pattern, str, list[int], list[int]]
# Where a phrase was read: (not with the title's weight, start, part of the document).
_Read = tuple[bool, int, int]


def _contexts(phrases: tuple[str, ...]) -> tuple[_Context, ...]:
    grouped: dict[tuple[int, bool], set[tuple[str, ...]]] = defaultdict(set)
    for phrase in phrases:
        words = tuple(_WORD.findall(exact(phrase)))
        grouped[len(words), fold(phrase) == exact(phrase)].add(words)
    return tuple(
        _Context(size=size, loose=loose, phrases=frozenset(found))
        for (size, loose), found in grouped.items()
    )


def _patterns(taxonomy: Taxonomy) -> list[_Pattern]:
    """Every alias with its owner, in taxonomy order (which decides among equal matches)."""
    owned: list[tuple[str, str, Alias]] = [
        (node.id, node.facet, alias) for node in taxonomy.nodes for alias in node.aliases
    ]
    relevance = taxonomy.relevance
    groups = ((HOME, relevance.home), (CUES, relevance.cues), (OFF_TOPIC, relevance.off_topic))
    for group, aliases in groups:
        owned.extend((group, group, alias) for alias in aliases)
    return [_pattern(owner, group, alias) for owner, group, alias in owned]


def _pattern(owner: str, group: str, alias: Alias) -> _Pattern:
    requires = _contexts(alias.requires_context)
    forbids = _contexts(alias.forbids_context)
    strict = alias.language_only or alias.case_sensitive or not alias.fold
    sizes = [context.size for context in requires + forbids]
    return _Pattern(
        owner=owner,
        group=group,
        alias=alias,
        exact=exact(alias.text),
        requires=requires,
        forbids=forbids,
        plain=not (strict or sizes),
        reach=alias.context_window + max(sizes) - 1 if sizes else 0,
        named=group != owner,
    )


def _deciding(patterns: list[_Pattern]) -> tuple[_Pattern, ...]:
    """The patterns of one folded alias that can decide a match, in taxonomy order.

    Of the patterns of one owner only the first that accepts a match counts, so those
    after a pattern that accepts every match never count.
    """
    kept: list[_Pattern] = []
    settled: set[str] = set()
    for pattern in patterns:
        if pattern.owner not in settled:
            kept.append(pattern)
            if pattern.plain:
                settled.add(pattern.owner)
    return tuple(kept)


def _words(patterns: list[_Pattern]) -> dict[str, _Word]:
    """The automaton's words by form: each folded alias as the scan reads it."""
    by_key: dict[str, list[_Pattern]] = defaultdict(list)
    for pattern in patterns:
        by_key[fold(pattern.alias.text)].append(pattern)
    by_form: dict[str, list[tuple[str, bool, tuple[_Pattern, ...]]]] = defaultdict(list)
    for key, found in by_key.items():
        form = key.translate(SCAN_TABLE)
        by_form[form].append((key, PUNCTUATION in form, _deciding(found)))
    words = {}
    for form, aliases in by_form.items():
        patterns = [p for _, _, deciding in aliases for p in deciding]
        single = len(aliases) == 1 and not aliases[0][1]
        sifted = single and not any(p.requires or p.forbids for p in patterns)
        sifted = sifted and len({p.owner for p in patterns}) == len(patterns)
        simple = single and all(p.plain for p in patterns)
        words[form] = _Word(len(form) + 1, tuple(aliases), simple=simple, sifted=sifted)
    return words


def _automaton(forms: list[str]) -> ahocorasick.Automaton:
    """Each form between word boundaries, standing for its index in `forms`.

    The scan reads the document the same way, so an alias is only found where it stands
    between word boundaries, and never inside a longer word.
    """
    automaton = ahocorasick.Automaton()
    for index, form in enumerate(forms):
        for before in _BOUNDARIES:
            for after in _BOUNDARIES:
                automaton.add_word(f"{before}{form}{after}", index)
    automaton.make_automaton()
    return automaton


def _nesting(forms: list[str], words: list[_Word], automaton: ahocorasick.Automaton) -> None:
    """Tell each word which longer words hold it, by the groups of their patterns."""
    groups = [{p.group for _, _, deciding in w.aliases for p in deciding} for w in words]
    holders: dict[int, set[int]] = defaultdict(set)
    for outer, form in enumerate(forms):
        for _, inner in automaton.iter(f" {form} "):
            if inner != outer:
                holders[inner].add(outer)
    for inner, outers in holders.items():
        for group in groups[inner]:
            within = frozenset(outer for outer in outers if group in groups[outer])
            if within:
                words[inner].within[group] = within
                words[inner].related.update(within)
                for outer in within:
                    words[outer].related.add(inner)


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


class Tagger:
    """Tags documents against one taxonomy; build once, call `tag` many times."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._nodes: dict[str, TaxonomyNode] = {node.id: node for node in taxonomy.nodes}
        self._facets = {node.id: node.facet for node in taxonomy.nodes}
        self._ranks = {node.id: FACETS.index(node.facet) for node in taxonomy.nodes}
        by_form = _words(_patterns(taxonomy))
        forms = list(by_form)
        self._words = list(by_form.values())
        self._automaton = _automaton(forms)
        _nesting(forms, self._words, self._automaton)
        self._nested = frozenset(index for index, word in enumerate(self._words) if word.within)

    def tag(self, *, title: str, lead: str | None, text: str) -> Tagging:
        """Detect the language, find the tags with their evidence, decide relevance."""
        sections = {"title": clean(title), "lead": clean(lead or ""), "body": clean(text)}
        # the detector reads no further than SAMPLE_CHARS: no need to copy the whole body
        opening = (sections["title"], sections["lead"], sections["body"][:SAMPLE_CHARS])
        language = detect_language("\n".join(s for s in opening if s))
        reading = _Reading()
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

    def _read(self, reading: _Reading, part: tuple[int, float, str], language: str) -> None:
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
    ) -> tuple[list[tuple[_Word, list[int]]], list[_Place]]:
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
            folded, origin = _folded_with_origin(text)
            form = folded.translate(SCAN_TABLE)
        raw = list(self._automaton.iter(f" {form} "))
        raw.sort(key=_WORD_INDEX)  # stable: each word's matches stay in order
        matched = set(map(_WORD_INDEX, raw))
        words, nested = self._words, self._nested
        counted = []
        places: dict[int, list[_Place]] = {}
        pending = []
        for index, hits in groupby(raw, _WORD_INDEX):
            lasts = list(map(_LAST, hits))
            word = words[index]
            if origin is not None or not (word.simple or word.sifted):
                pending.append((index, lasts))
            elif quick and word.simple and word.related.isdisjoint(matched):
                counted.append((word, lasts))
            else:  # no need to look at each match: all count, or all are tested at once
                places[index] = _at_once(word, lasts, text, language)
        for index, lasts in pending:
            # no need to check a match that a longer one, which surely counts, will drop
            shadow = _covers(places, index, words) if index in nested else {}
            places[index] = _accepted(words[index], lasts, text, (folded, origin), language, shadow)
        return counted, _outermost(places, words, nested)

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


def _at_once(word: _Word, lasts: list[int], text: str, language: str) -> list[_Place]:
    """The matches of a simple or sifted word (`_Word`), without looking at each."""
    key, _, patterns = word.aliases[0]
    starts = list(map(sub, lasts, repeat(word.span)))
    ends = list(map(sub, lasts, repeat(1)))
    if word.simple:
        return [(p, key, starts, ends) for p in patterns]
    return _sifted(patterns, key, (text, starts, ends), language)


def _sifted(
    patterns: tuple[_Pattern, ...], key: str, where: tuple[str, list[int], list[int]], lang: str
) -> list[_Place]:
    """The matches each pattern accepts, for patterns whose rules only look at the
    document's language and at the words matched: tested all at once."""
    text, starts, ends = where
    phrases = [text[start:end] for start, end in zip(starts, ends, strict=True)]
    folds = list(map(str.casefold, phrases))
    found: list[_Place] = []
    for p in patterns:
        alias = p.alias
        if alias.language_only and alias.language != lang:
            continue
        tests = []
        if alias.case_sensitive:
            tests.append(map(alias.text.__eq__, phrases))
        if not alias.fold:
            tests.append(map(p.exact.__eq__, folds))
        if not tests:
            found.append((p, key, starts, ends))
            continue
        flags = list(tests[0] if len(tests) == 1 else map(and_, *tests))
        found.append((p, key, list(compress(starts, flags)), list(compress(ends, flags))))
    return found


def _accepted(
    word: _Word,
    lasts: list[int],
    text: str,
    folding: tuple[str | None, list[int] | None],
    language: str,
    shadow: dict[str, _Covers],
) -> list[_Place]:
    """The matches of one word that its patterns accept, one by one; those in `shadow`
    of their group are left out, as longer matches will drop them."""
    folded, origin = folding
    found: dict[tuple[str, int], _Place] = {}
    for last in lasts:
        start, end = last - word.span, last - 1  # in the folded text
        first, stop = (start, end) if origin is None else (origin[start], origin[end - 1] + 1)
        phrase = text[first:stop]
        for key, punctuated, patterns in word.aliases:
            if punctuated and _punctuation(text, folded, start, end) != key:
                continue  # other punctuation than the alias has
            owners: set[str] = set()  # the first pattern of an owner that accepts counts
            for index, p in enumerate(patterns):
                covers = shadow.get(p.group)
                if p.owner in owners or (covers is not None and covers.hold(first, stop)):
                    continue
                if p.plain or _accepts(p, text, first, stop, phrase, language):
                    owners.add(p.owner)
                    place = found.setdefault((key, index), (p, key, [], []))
                    place[2].append(first)
                    place[3].append(stop)
    return list(found.values())


class _Covers:
    """Spans of matches, to tell quickly whether one of them holds another span."""

    def __init__(self, spans: set[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._reach = list(accumulate((end for _, end in ordered), max))  # furthest end so far

    def hold(self, start: int, end: int) -> bool:
        """Whether a span other than this one starts at or before `start` and ends at or
        after `end`."""
        at_or_before = bisect_right(self._starts, start)
        if not at_or_before or self._reach[at_or_before - 1] < end:
            return False
        if self._reach[at_or_before - 1] > end:
            return True
        before = bisect_left(self._starts, start)  # one of the same end, but starting earlier?
        return before > 0 and self._reach[before - 1] >= end


def _covers(places: dict[int, list[_Place]], index: int, words: list[_Word]) -> dict[str, _Covers]:
    """Per group, the matches of longer words that hold word `index`, of that group."""
    found = {}
    for group, within in words[index].within.items():
        outer = within.intersection(places)
        spans = {
            (start, end)
            for other in outer
            for pattern, _, starts, ends in places[other]
            if pattern.group == group
            for start, end in zip(starts, ends, strict=True)
        }
        if spans:
            found[group] = _Covers(spans)
    return found


def _outermost(
    places: dict[int, list[_Place]], words: list[_Word], nested: frozenset[int]
) -> list[_Place]:
    """Drop the matches that lie inside a longer match of the same group.

    Only a word that a longer word of the group holds (one of `nested`) can lose
    matches so, and only where that longer word matched too.
    """
    # all spans are taken before any match is dropped
    covered = [
        (index, covers)
        for index in nested.intersection(places)
        if (covers := _covers(places, index, words))
    ]
    for index, covers in covered:
        places[index] = [
            _uncover(place, covers[place[0].group]) if place[0].group in covers else place
            for place in places[index]
        ]
    return [place for found in places.values() for place in found if place[2]]


def _uncover(place: _Place, covers: _Covers) -> _Place:
    """`place` without the matches that `covers` hold."""
    pattern, key, starts, ends = place
    kept = [
        (start, end) for start, end in zip(starts, ends, strict=True) if not covers.hold(start, end)
    ]
    return pattern, key, [start for start, _ in kept], [end for _, end in kept]


class _Reading:
    """Evidence weight and phrases per owner, gathered part by part of a document.

    Each repeat of one phrase counts less: the k-th occurrence of the same phrase adds
    1/√k of its weight, strongest first, so a theme named by one common word many times
    does not drown one named in several ways. Phrases and weights are taken in the order
    matches are read: those with the title's weight first, then as they are written.
    """

    def __init__(self) -> None:
        # by owner and folded phrase: where first read, and the weight of each occurrence
        self.tallies: dict[tuple[str, str], tuple[_Read, list[float]]] = {}
        # by owner and casefolded phrase: where first read, and as written there
        self.written: dict[tuple[str, str], tuple[_Read, str]] = {}

    def add(
        self,
        part: tuple[int, float, str],
        pattern: _Pattern,
        key: str,
        starts: list[int],
        ends: list[int],
    ) -> None:
        """Count the matches of `pattern` at `starts`/`ends` in one part of the document."""
        number, section_weight, text = part
        weight = section_weight * pattern.alias.weight
        read = (weight < TITLE_WEIGHT, starts[0], number)
        self._tally(pattern.owner, key, read, [weight] * len(starts))
        if pattern.named:
            phrases = [text[start:end] for start, end in zip(starts, ends, strict=True)]
            self._note(pattern.owner, phrases, (starts, 0), read)

    def add_all(
        self,
        part: tuple[int, float, str],
        patterns: tuple[_Pattern, ...],
        key: str,
        span: int,
        lasts: list[int],
    ) -> None:
        """Count the matches of a simple word that end at `lasts` (see `_Word.span`)."""
        number, section_weight, text = part
        phrases: list[str] | None = None
        for pattern in patterns:
            weight = section_weight * pattern.alias.weight
            read = (weight < TITLE_WEIGHT, lasts[0] - span, number)
            self._tally(pattern.owner, key, read, [weight] * len(lasts))
            if pattern.named:
                if phrases is None:
                    phrases = [text[last - span : last - 1] for last in lasts]
                self._note(pattern.owner, phrases, (lasts, span), read)

    def _tally(self, owner: str, key: str, read: _Read, weights: list[float]) -> None:
        tally = self.tallies.get((owner, key))
        if tally is None:
            self.tallies[owner, key] = (read, weights)
        else:
            self.tallies[owner, key] = (min(read, tally[0]), weights + tally[1])

    def _note(
        self, owner: str, phrases: list[str], starts: tuple[list[int], int], read: _Read
    ) -> None:
        """Remember where each way of writing a phrase (by its casefold) is first read.

        `starts` are the phrases' starts, each shifted by the number given with them.
        """
        flag, _, number = read
        places, shift = starts
        distinct = [phrases[0]] if phrases.count(phrases[0]) == len(phrases) else phrases
        for phrase in dict.fromkeys(distinct):
            first = ((flag, places[phrases.index(phrase)] - shift, number), phrase)
            slot = (owner, phrase.casefold())
            known = self.written.get(slot)
            if known is None or first[0] < known[0]:
                self.written[slot] = first

    def totals(self) -> dict[str, float]:
        """The evidence weight of each owner."""
        totals: dict[str, float] = defaultdict(float)
        for (owner, _), (_, weights) in sorted(self.tallies.items(), key=_first_read):
            if len(weights) == 1:
                totals[owner] += weights[0]  # the same as the sum below: w / √1
                continue
            weights.sort(reverse=True)
            totals[owner] += sum(map(truediv, weights, _roots(len(weights))))
        return totals

    def evidence(self) -> dict[str, list[str]]:
        """The phrases of each node, as first written, in the order read."""
        evidence: dict[str, list[str]] = defaultdict(list)
        for (owner, _), (_, phrase) in sorted(self.written.items(), key=_first_read):
            evidence[owner].append(phrase)
        return evidence


def _first_read(item: tuple[object, tuple[_Read, object]]) -> _Read:
    return item[1][0]


@cache
def _roots(count: int) -> tuple[float, ...]:
    """√1 … √count: the damping of repeats in `_Reading.totals`."""
    return tuple(math.sqrt(k) for k in range(1, count + 1))


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
    before, after = _neighbours(text, start, end, pattern.reach)
    window = alias.context_window
    if pattern.forbids and _near(pattern.forbids, before, after, window):
        return False
    return not pattern.requires or _near(pattern.requires, before, after, window)


def _neighbours(text: str, start: int, end: int, reach: int) -> tuple[list[str], list[str]]:
    """Up to `reach` words on each side of a match, short of a sentence or caption break."""
    left = _BARRIER.split(text[max(0, start - _CONTEXT_CHARS) : start])[-1]
    right = _BARRIER.split(text[end : end + _CONTEXT_CHARS])[0]
    before, after = _WORD.findall(left.casefold()), _WORD.findall(right.casefold())
    return before[len(before) - reach :] if reach < len(before) else before, after[:reach]


def _near(contexts: tuple[_Context, ...], before: list[str], after: list[str], window: int) -> bool:
    """Whether a context phrase ends within `window` words before or starts within after."""
    folded: tuple[list[str], list[str]] | None = None
    for context in contexts:
        left, right = before, after
        if context.loose:
            if folded is None:
                folded = (_folded_words(before), _folded_words(after))
            left, right = folded
        size, phrases = context.size, context.phrases
        for gap in range(window):
            stop = len(left) - gap
            if stop - size >= 0 and tuple(left[stop - size : stop]) in phrases:
                return True
            if tuple(right[gap : gap + size]) in phrases:
                return True
    return False


def _punctuation(text: str, folded: str | None, start: int, end: int) -> str:
    """The folded words where the scan found an alias with punctuation, to compare."""
    return text[start:end].translate(FOLD_TABLE) if folded is None else folded[start:end]


def _folded_words(words: list[str]) -> list[str]:
    return [word.translate(FOLD_TABLE) for word in words]


def split_plain_text(document: str) -> tuple[str, str]:
    """A plain-text document's title (its first line with a letter in it) and the rest."""
    lines = document.strip().splitlines()
    for index, line in enumerate(lines):
        if any(char.isalpha() for char in line):
            return line.strip(), "\n".join(lines[index + 1 :]).strip()
    return "", "\n".join(lines).strip()
