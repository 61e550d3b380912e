"""Language detection for the tagging stage: document text → ISO 639-1 code.

The language is detected from the words, never taken from HTML attributes, which
republishers such as vietnam.vn often get wrong. py3langid does the work; its model
is loaded on first use and kept for the life of the process.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Protocol

# The languages Duta reads (id, en, vi) and those it is likely to meet beside them.
# Malay is left out on purpose: with it, short Indonesian texts are often called Malay.
READ = ("id", "en", "vi")
LANGUAGES = (*READ, "fr", "de", "ru", "zh", "ja", "ko", "th", "lo", "km", "es")
# Short texts fool the model; another language must be this sure to beat Duta's own.
OTHER_LANGUAGE_CONFIDENCE = 0.9
UNDETERMINED = "und"
SAMPLE_CHARS = 3000  # the opening of a document is enough and keeps detection fast

# Vietnamese written without diacritics defeats character n-gram models; these
# syllables are frequent in it and rare as words in English or Indonesian.
_BARE_VIETNAMESE_TEXT = (
    "cua va cac nhung duoc trong voi la cho nay mot khong nguoi nuoc hop tac quan he "
    "viet nam ngay cang phat trien giua hai ve tai da se cung nhieu theo tu doi"
)
_BARE_VIETNAMESE = frozenset(_BARE_VIETNAMESE_TEXT.split())
_WORD = re.compile(r"\w+")


class _Identifier(Protocol):
    def rank(self, text: str) -> list[tuple[str, float]]: ...


@cache
def _identifier() -> _Identifier:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier: _Identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))  # type: ignore[attr-defined]
    return identifier


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the text's language, or 'und' when there are no words."""
    sample = unicodedata.normalize("NFC", text[:SAMPLE_CHARS])
    words = _WORD.findall(sample.lower())
    if not any(not w.isdigit() for w in words):
        return UNDETERMINED
    if _looks_like_bare_vietnamese(words):
        return "vi"
    ranking = _identifier().rank(sample)
    best, confidence = ranking[0]
    if best in READ or confidence >= OTHER_LANGUAGE_CONFIDENCE:
        return str(best)
    return str(next(language for language, _ in ranking if language in READ))


def _looks_like_bare_vietnamese(words: list[str]) -> bool:
    if len(words) < 4:
        return False
    hits = sum(1 for w in words if w in _BARE_VIETNAMESE)
    return hits / len(words) >= 0.3
