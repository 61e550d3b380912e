"""De-duplication stage: URLs, content fingerprints and story linking (pure).

In: fetched URLs, declared rel=canonical URLs, extracted article text, and the
fingerprints and story ids the store already holds. Out: one canonical form per
URL, a 64-bit SimHash per text (signed, to fit SQL BIGINT) and the story an article
joins. A story is one event reported by several pages: the original, its
translations (linked by their `Sumber:` line) and near-identical copies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from itertools import pairwise
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import is_navigation_page, normalize_url, scrub_url
from trafilatura.deduplication import Simhash

# Largest Hamming distance between two fingerprints of the same article. Copies of the
# seed articles with other captions, boilerplate or a trimmed last paragraph stay within
# 7 bits; distinct articles on the same topics are 18 or more apart (tests/test_dedup.py).
# Closer to the copies than to the distinct: merging two stories hides one from readers.
NEAR_DUPLICATE_BITS = 9

_BITS = 64
_MASK = (1 << _BITS) - 1
# Parameters courlan keeps but that only say where a reader came from.
_TRACKING_PARAM = re.compile(
    r"^(?:utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|mc_cid|mc_eid|"
    r"zarsrc|gidzl|_ga|_gl|_hsenc|_hsmi|ocid|cmpid|ref_src|spm)$",
    re.I,
)
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# RFC 3986 unreserved characters, sub-delimiters, ':' and '@' mean the same escaped or
# not inside a path, so `%2c`, `%2C` and `,` become one form.
_PATH_LITERAL = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@"
)
_WORD = re.compile(r"[^\W_]+")
_SECTION_SEGMENT = re.compile(r"[^\d]{1,25}")


def canonical_url(url: str) -> str:
    """One spelling per address: courlan's normal form, no fragment or trackers."""
    try:
        parts = urlsplit(normalize_url(scrub_url(url.strip())))
    except ValueError:
        return url.strip()
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode(sorted((k, v) for k, v in pairs if not _TRACKING_PARAM.match(k)))
    path = _PERCENT_ESCAPE.sub(_normal_escape, parts.path) or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def choose_canonical(fetched_url: str, declared: str | None) -> str:
    """The page's rel=canonical when it names an article on the same site, else the fetched URL."""
    fetched = canonical_url(fetched_url)
    if not declared:
        return fetched
    candidate = canonical_url(urljoin(fetched_url, declared.strip()))
    target, origin = urlsplit(candidate), urlsplit(fetched)
    if target.scheme not in ("http", "https") or _site(target.netloc) != _site(origin.netloc):
        return fetched
    if _is_section(target.path, target.query, origin.path) or is_navigation_page(candidate):
        return fetched
    return candidate


def fingerprint(text: str) -> int:
    """64-bit SimHash of the text's word bigrams as a signed int64."""
    words = _WORD.findall(unicodedata.normalize("NFC", text).casefold())
    # Bigrams keep word order: two articles on one topic share words, not phrasing.
    shingles = [first + second for first, second in pairwise(words)]
    value = int(Simhash(" ".join(shingles or words), length=_BITS).hash)
    return value - (1 << _BITS) if value >> (_BITS - 1) else value


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits differ between two fingerprints."""
    return ((a ^ b) & _MASK).bit_count()


class StoryIndex:
    """The (story_id, fingerprint) pairs of the recent past, for linking without a query.

    Fingerprints are kept unsigned so a match is one XOR and a popcount; stories merged
    after loading are followed through a forwarding map, so a merge never rewrites the list.
    """

    def __init__(self, rows: Iterable[tuple[int, int]] = ()) -> None:
        self._stories: list[int] = []
        self._prints: list[int] = []
        self._merged: dict[int, int] = {}
        for story_id, fp in rows:
            self.add(story_id, fp)

    def __len__(self) -> int:
        return len(self._prints)

    def add(self, story_id: int, fp: int) -> None:
        """Remember one article's fingerprint under its story."""
        self._stories.append(story_id)
        self._prints.append(fp & _MASK)

    def merge(self, into: int, merged: Iterable[int]) -> None:
        """Stories `merged` are now part of `into`."""
        for story_id in merged:
            if story_id != into:
                self._merged[story_id] = into

    def story(self, story_id: int) -> int:
        """The story `story_id` belongs to now, after any merges."""
        while story_id in self._merged:
            story_id = self._merged[story_id]
        return story_id

    def near(self, fp: int) -> list[int]:
        """Stories with a fingerprint within NEAR_DUPLICATE_BITS, nearest first (first wins)."""
        target = fp & _MASK
        hits = [
            (distance, index)
            for index, other in enumerate(self._prints)
            if (distance := (target ^ other).bit_count()) <= NEAR_DUPLICATE_BITS
        ]
        hits.sort()
        return list(dict.fromkeys(self.story(self._stories[index]) for _, index in hits))


def related_stories(
    fp: int,
    *,
    credited_story: int | None,
    crediting_story: int | None,
    candidates: StoryIndex | Iterable[tuple[int, int]],
) -> list[int]:
    """Every story an article belongs to, best first: its credited original's, a crediting
    copy's, then candidates (story_id, fingerprint) within NEAR_DUPLICATE_BITS, nearest first.

    More than one means those stories are one: the article bridges them.
    """
    index = candidates if isinstance(candidates, StoryIndex) else StoryIndex(candidates)
    linked = [s for s in (credited_story, crediting_story) if s is not None]
    linked.extend(index.near(fp))
    return list(dict.fromkeys(linked))


def pick_story(
    fp: int,
    *,
    credited_story: int | None,
    crediting_story: int | None,
    candidates: StoryIndex | Iterable[tuple[int, int]],
) -> int | None:
    """The story an article joins: its credited original's, a crediting copy's, or the nearest
    candidate (story_id, fingerprint) within NEAR_DUPLICATE_BITS (first wins a tie); None: new.
    """
    related = related_stories(
        fp, credited_story=credited_story, crediting_story=crediting_story, candidates=candidates
    )
    return related[0] if related else None


def _normal_escape(match: re.Match[str]) -> str:
    char = chr(int(match[1], 16))
    return char if char in _PATH_LITERAL else match[0].upper()


def _site(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1]
    return host[4:] if host.startswith("www.") else host


def _is_section(path: str, query: str, fetched_path: str) -> bool:
    """The site root, a parent folder of the fetched page, or a short word-only path."""
    if path == fetched_path:
        return False
    segments = [part for part in path.split("/") if part]
    if not segments:
        return not query
    if fetched_path.startswith(path.rstrip("/") + "/"):
        return True
    return len(segments) <= 2 and all(_SECTION_SEGMENT.fullmatch(s) for s in segments)
