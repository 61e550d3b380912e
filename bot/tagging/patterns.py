"""Tagging stage, patterns: a `Taxonomy`'s aliases → the automaton and the rules it answers to.

Every alias, of a node or of a relevance group, becomes a `Pattern`: its owner, the
context phrases it requires or forbids, and whether it accepts every place it stands.
The patterns are gathered by the folded form the scan reads (a `Word` of the
Aho-Corasick automaton), and each word learns which longer words hold it, so a match
inside a longer match of its group can be dropped. `accepts` checks one match of a
pattern against its rules of language, case, diacritics and neighbouring words.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import ahocorasick

from bot.taxonomy import (
    FOLD_TABLE,
    PUNCTUATION,
    SCAN_TABLE,
    Alias,
    Taxonomy,
    exact,
    fold,
)

HOME, CUES, OFF_TOPIC = "relevance.home", "relevance.cues", "relevance.off_topic"
_BARRIER = re.compile(r"[.!?;:|\n()\[\]\"“”]")
_WORD = re.compile(r"\w+|[$€£¥₫]")  # currency signs count: "US$" is money, not a partner
_CONTEXT_CHARS = 80
_BOUNDARIES = (" ", PUNCTUATION)  # how the scan reads a word boundary


@dataclass(frozen=True, slots=True)
class Context:
    """Context phrases of one length, as words, and whether to compare them folded."""

    size: int  # words in each phrase
    loose: bool  # written without diacritics: compare folded words
    phrases: frozenset[tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Pattern:
    owner: str  # node id or relevance group
    group: str  # facet or relevance group: a match inside a longer one of its group is dropped
    alias: Alias
    exact: str
    requires: tuple[Context, ...]
    forbids: tuple[Context, ...]
    plain: bool  # accepted wherever its words stand: no rule of language, case or context
    reach: int  # words on each side the context rules look at
    named: bool  # the owner is a node, whose tag shows its evidence


@dataclass(frozen=True, slots=True)
class Word:
    """What one word of the automaton stands for: the aliases folded to it."""

    span: int  # from the index where a match of it ends to where it starts
    # each folded alias: whether it has punctuation, which the scan must compare as it
    # reads all punctuation alike; and the patterns that decide its matches
    aliases: tuple[tuple[str, bool, tuple[Pattern, ...]], ...]
    simple: bool  # one alias, no punctuation, only plain patterns: every match counts
    # one alias, no punctuation, no context rules, one pattern per owner: its matches can
    # be sifted all at once
    sifted: bool
    # per group of its patterns, the words that hold it and have a pattern of that group
    within: dict[str, frozenset[int]] = field(default_factory=dict)
    # the words it holds or that hold it: where none matched, its matches stand alone
    related: set[int] = field(default_factory=set)


def _contexts(phrases: tuple[str, ...]) -> tuple[Context, ...]:
    grouped: dict[tuple[int, bool], set[tuple[str, ...]]] = defaultdict(set)
    for phrase in phrases:
        words = tuple(_WORD.findall(exact(phrase)))
        grouped[len(words), fold(phrase) == exact(phrase)].add(words)
    return tuple(
        Context(size=size, loose=loose, phrases=frozenset(found))
        for (size, loose), found in grouped.items()
    )


def compile_patterns(taxonomy: Taxonomy) -> list[Pattern]:
    """Every alias with its owner, in taxonomy order (which decides among equal matches)."""
    owned: list[tuple[str, str, Alias]] = [
        (node.id, node.facet, alias) for node in taxonomy.nodes for alias in node.aliases
    ]
    relevance = taxonomy.relevance
    groups = ((HOME, relevance.home), (CUES, relevance.cues), (OFF_TOPIC, relevance.off_topic))
    for group, aliases in groups:
        owned.extend((group, group, alias) for alias in aliases)
    return [_pattern(owner, group, alias) for owner, group, alias in owned]


def _pattern(owner: str, group: str, alias: Alias) -> Pattern:
    requires = _contexts(alias.requires_context)
    forbids = _contexts(alias.forbids_context)
    strict = alias.language_only or alias.case_sensitive or not alias.fold
    sizes = [context.size for context in requires + forbids]
    return Pattern(
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


def _deciding(patterns: list[Pattern]) -> tuple[Pattern, ...]:
    """The patterns of one folded alias that can decide a match, in taxonomy order.

    Of the patterns of one owner only the first that accepts a match counts, so those
    after a pattern that accepts every match never count.
    """
    kept: list[Pattern] = []
    settled: set[str] = set()
    for pattern in patterns:
        if pattern.owner not in settled:
            kept.append(pattern)
            if pattern.plain:
                settled.add(pattern.owner)
    return tuple(kept)


def automaton_words(patterns: list[Pattern]) -> dict[str, Word]:
    """The automaton's words by form: each folded alias as the scan reads it."""
    by_key: dict[str, list[Pattern]] = defaultdict(list)
    for pattern in patterns:
        by_key[fold(pattern.alias.text)].append(pattern)
    by_form: dict[str, list[tuple[str, bool, tuple[Pattern, ...]]]] = defaultdict(list)
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
        words[form] = Word(len(form) + 1, tuple(aliases), simple=simple, sifted=sifted)
    return words


def build_automaton(forms: list[str]) -> ahocorasick.Automaton:
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


def mark_nesting(forms: list[str], words: list[Word], automaton: ahocorasick.Automaton) -> None:
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


def accepts(pattern: Pattern, text: str, start: int, end: int, phrase: str, lang: str) -> bool:
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


def _near(contexts: tuple[Context, ...], before: list[str], after: list[str], window: int) -> bool:
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


def _folded_words(words: list[str]) -> list[str]:
    return [word.translate(FOLD_TABLE) for word in words]
