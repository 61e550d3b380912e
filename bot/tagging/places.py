"""Tagging stage, places: the automaton's raw hits in one part of a document → `Place`s.

A `Place` is where one pattern matched: the matches of simple words are taken all at
once, those of sifted words tested all at once on their language and letters, and the
rest one by one against their patterns' rules. A match that lies inside a longer
match of its group is then dropped (`outermost`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate, compress, repeat
from operator import and_, sub

from bot.tagging.patterns import Pattern, Word, accepts
from bot.taxonomy import FOLD_TABLE

# Where one pattern matched in one part of the document: (pattern, folded alias, starts,
# ends), in order. Plain tuples: a document has dozens, made and read in few steps.
Place = tuple[Pattern, str, list[int], list[int]]


def folded_with_origin(text: str) -> tuple[str, list[int] | None]:
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


def at_once(word: Word, lasts: list[int], text: str, language: str) -> list[Place]:
    """The matches of a simple or sifted word (`Word`), without looking at each."""
    key, _, patterns = word.aliases[0]
    starts = list(map(sub, lasts, repeat(word.span)))
    ends = list(map(sub, lasts, repeat(1)))
    if word.simple:
        return [(p, key, starts, ends) for p in patterns]
    return _sifted(patterns, key, (text, starts, ends), language)


def _sifted(
    patterns: tuple[Pattern, ...], key: str, where: tuple[str, list[int], list[int]], lang: str
) -> list[Place]:
    """The matches each pattern accepts, for patterns whose rules only look at the
    document's language and at the words matched: tested all at once."""
    text, starts, ends = where
    phrases = [text[start:end] for start, end in zip(starts, ends, strict=True)]
    folds = list(map(str.casefold, phrases))
    found: list[Place] = []
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


def accepted(
    word: Word,
    lasts: list[int],
    text: str,
    folding: tuple[str | None, list[int] | None],
    language: str,
    shadow: dict[str, Covers],
) -> list[Place]:
    """The matches of one word that its patterns accept, one by one; those in `shadow`
    of their group are left out, as longer matches will drop them."""
    folded, origin = folding
    found: dict[tuple[str, int], Place] = {}
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
                if p.plain or accepts(p, text, first, stop, phrase, language):
                    owners.add(p.owner)
                    place = found.setdefault((key, index), (p, key, [], []))
                    place[2].append(first)
                    place[3].append(stop)
    return list(found.values())


class Covers:
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


def covering(places: dict[int, list[Place]], index: int, words: list[Word]) -> dict[str, Covers]:
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
            found[group] = Covers(spans)
    return found


def outermost(
    places: dict[int, list[Place]], words: list[Word], nested: frozenset[int]
) -> list[Place]:
    """Drop the matches that lie inside a longer match of the same group.

    Only a word that a longer word of the group holds (one of `nested`) can lose
    matches so, and only where that longer word matched too.
    """
    # all spans are taken before any match is dropped
    covered = [
        (index, covers)
        for index in nested.intersection(places)
        if (covers := covering(places, index, words))
    ]
    for index, covers in covered:
        places[index] = [
            _uncover(place, covers[place[0].group]) if place[0].group in covers else place
            for place in places[index]
        ]
    return [place for found in places.values() for place in found if place[2]]


def _uncover(place: Place, covers: Covers) -> Place:
    """`place` without the matches that `covers` hold."""
    pattern, key, starts, ends = place
    kept = [
        (start, end) for start, end in zip(starts, ends, strict=True) if not covers.hold(start, end)
    ]
    return pattern, key, [start for start, _ in kept], [end for _, end in kept]


def _punctuation(text: str, folded: str | None, start: int, end: int) -> str:
    """The folded words where the scan found an alias with punctuation, to compare."""
    return text[start:end].translate(FOLD_TABLE) if folded is None else folded[start:end]
