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

Modules: `patterns` (the taxonomy's aliases compiled into the automaton and its
rules), `places` (where the patterns matched in one part of a document), `reading`
(the evidence those matches add up to), `tagger` (the `Tagger` that chains them).
"""

from bot.tagging.patterns import CUES, HOME, OFF_TOPIC
from bot.tagging.tagger import Match, Tagger, split_plain_text

__all__ = ["CUES", "HOME", "OFF_TOPIC", "Match", "Tagger", "split_plain_text"]
