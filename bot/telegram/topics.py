"""Telegram edge: words a user typed → taxonomy ids, and topic names for display.

Pure. In: command words such as `partner/jp`, `jp`, `Japan`, `Jepang`, `Nhật Bản` or
`nhat ban` and the `Taxonomy`. Out: the topic ids they name, and for each word that
names nothing, up to three close suggestions. Matching ignores case, diacritics,
hyphens and underscores; a name of several words may span several arguments, and
the longest name that matches wins.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.models import UiLanguage
from bot.taxonomy import FACETS, Taxonomy, fold
from bot.telegram.i18n import t

FACET_EMOJI: dict[str, str] = {
    "theme": "🤝",
    "partner": "🌏",
    "org": "🏛",
    "event": "📅",
    "place": "📍",
}
MAX_SUGGESTIONS = 3
SUGGESTION_CUTOFF = 0.6  # difflib ratio below which a name is not offered
# When one key names several topics, the strongest kind of name wins.
_BY_ID, _BY_LABEL, _BY_SLUG, _BY_ALIAS = range(4)
_SEPARATORS = re.compile(r"[\s_\-]+")
_EDGE_PUNCTUATION = " \t.,;:!?\"'“”‘’«»()[]{}"

Unknown = tuple[str, list[str]]  # the words as typed, and suggested topic ids


def topic_key(text: str) -> str:
    """The matching key of a topic name: folded, separators made single spaces."""
    return _SEPARATORS.sub(" ", fold(text)).strip()


@dataclass(frozen=True, slots=True)
class _Index:
    """Every key that names a topic → the ids it names, and the longest key in words."""

    names: dict[str, tuple[str, ...]]
    longest: int


@lru_cache(maxsize=4)
def _index(taxonomy: Taxonomy) -> _Index:
    """Ids, labels, slugs and aliases by key; a key keeps only its strongest kind of name."""
    best: dict[str, tuple[int, list[str]]] = {}

    def add(text: str, rank: int, node_id: str) -> None:
        key = topic_key(text)
        if not key:
            return
        current = best.get(key)
        if current is None or rank < current[0]:
            best[key] = (rank, [node_id])
        elif rank == current[0] and node_id not in current[1]:
            current[1].append(node_id)

    for node in taxonomy.nodes:
        add(node.id, _BY_ID, node.id)
        for label in (node.label.id, node.label.en, node.label.vi):
            add(label, _BY_LABEL, node.id)
        add(node.id.split("/", 1)[1], _BY_SLUG, node.id)
        for alias in node.aliases:
            add(alias.text, _BY_ALIAS, node.id)
    names = {key: tuple(ids) for key, (_, ids) in best.items()}
    return _Index(names, max((len(key.split()) for key in names), default=1))


def resolve_topics(words: Sequence[str], taxonomy: Taxonomy) -> tuple[list[str], list[Unknown]]:
    """The topic ids `words` name, in order, and the words that name none with suggestions."""
    index = _index(taxonomy)
    tokens = [
        piece.strip(_EDGE_PUNCTUATION)
        for word in words
        for piece in word.replace(",", " ").split()
        if piece.strip(_EDGE_PUNCTUATION)
    ]
    found: list[str] = []
    unknown: list[Unknown] = []
    unmatched: list[str] = []
    position = 0
    while position < len(tokens):
        span, ids = _longest_match(tokens, position, index)
        if not ids:
            unmatched.append(tokens[position])
            position += 1
            continue
        unknown.extend(_unknown_run(unmatched, index))
        unmatched = []
        found.extend(node_id for node_id in ids if node_id not in found)
        position += span
    unknown.extend(_unknown_run(unmatched, index))
    return found, unknown


def _longest_match(tokens: Sequence[str], start: int, index: _Index) -> tuple[int, tuple[str, ...]]:
    """The longest run of words from `start` that names a topic: (length, ids)."""
    for span in range(min(index.longest, len(tokens) - start), 0, -1):
        ids = index.names.get(topic_key(" ".join(tokens[start : start + span])))
        if ids:
            return span, ids
    return 1, ()


def _unknown_run(words: Sequence[str], index: _Index) -> list[Unknown]:
    """Unmatched neighbouring words: one phrase if it resembles a name, else word by word."""
    if not words:
        return []
    phrase = " ".join(words)
    suggestions = _suggest(phrase, index)
    if suggestions or len(words) == 1:
        return [(phrase, suggestions)]
    return [(word, _suggest(word, index)) for word in words]


def suggest(text: str, taxonomy: Taxonomy) -> list[str]:
    """Up to MAX_SUGGESTIONS topic ids whose names are closest to `text`."""
    return _suggest(text, _index(taxonomy))


def _suggest(text: str, index: _Index) -> list[str]:
    keys = difflib.get_close_matches(
        topic_key(text), list(index.names), n=4 * MAX_SUGGESTIONS, cutoff=SUGGESTION_CUTOFF
    )
    ids: list[str] = []
    for key in keys:
        ids.extend(node_id for node_id in index.names[key] if node_id not in ids)
    return ids[:MAX_SUGGESTIONS]


def topic_label(taxonomy: Taxonomy, topic_id: str, lang: UiLanguage) -> str:
    """A topic's name in `lang`; the id itself for a topic the taxonomy no longer has."""
    try:
        return taxonomy.node(topic_id).label.get(lang)
    except KeyError:
        return topic_id


def facet_name(facet: str, lang: UiLanguage) -> str:
    """A facet's name in `lang` ('partner' → 'Partners'); unknown facets as given."""
    return t(lang, f"facet.{facet}") if facet in FACETS else facet


def facet_topics(taxonomy: Taxonomy, facet: str) -> list[str]:
    """The ids of one facet's topics, in taxonomy order (for /topics pages)."""
    return [node.id for node in taxonomy.nodes if node.facet == facet]
