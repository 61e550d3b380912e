"""Tagging stage, reading: accepted matches of one document → evidence weight and phrases.

A `Reading` tallies, part by part of the document, the weight each owner (a node or
a relevance group) earns from its matches, and the phrases that name each node as
first written. Matches in the title count more than in the lead, and those more than
in the body.
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import cache
from operator import truediv

from bot.tagging.patterns import Pattern

SECTION_WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0}
TITLE_WEIGHT = SECTION_WEIGHTS["title"]


# Where a phrase was read: (not with the title's weight, start, part of the document).
_Read = tuple[bool, int, int]


class Reading:
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
        pattern: Pattern,
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
        patterns: tuple[Pattern, ...],
        key: str,
        span: int,
        lasts: list[int],
    ) -> None:
        """Count the matches of a simple word that end at `lasts` (see `Word.span`)."""
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
    """√1 … √count: the damping of repeats in `Reading.totals`."""
    return tuple(math.sqrt(k) for k in range(1, count + 1))
