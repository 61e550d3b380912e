"""Digest stage: stored articles waiting for a chat → sections ready to render.

Pure. In: `DigestEntry` values (an article, its tags, the sites of its other copies)
and the current time. Out: `DigestSection`s, one per primary theme — the entry's
highest-scoring theme tag, or none ('other') — each ranked by score, then recency.
Sections come largest first, the 'other' section last. One entry per story.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.models import DigestEntry, Tag

THEME_FACET = "theme"


@dataclass(frozen=True, slots=True)
class DigestSection:
    """The entries of one digest whose primary theme is `theme` (None: no theme)."""

    theme: str | None  # taxonomy id, e.g. "theme/ngo"
    entries: tuple[DigestEntry, ...]


def primary_theme(tags: Sequence[Tag]) -> Tag | None:
    """The highest-scoring theme tag (ties: the first id alphabetically), or None."""
    themes = [tag for tag in tags if tag.facet == THEME_FACET]
    if not themes:
        return None
    return min(themes, key=lambda tag: (-tag.score, tag.id))


def entry_score(entry: DigestEntry) -> float:
    """How strongly an entry belongs in its section: its primary theme's score, else relevance."""
    theme = primary_theme(entry.tags)
    if theme is not None:
        return theme.score
    return entry.article.relevance or 0.0


def entry_time(entry: DigestEntry, now: datetime) -> datetime:
    """When an entry was published; when it was fetched if undated or dated after `now`."""
    article = entry.article
    published = article.published_at
    # A feed that dates an item in the future must not keep it on top of every digest.
    if published is None or published > now:
        return article.fetched_at
    return published


def sections(entries: Sequence[DigestEntry], *, now: datetime) -> list[DigestSection]:
    """Entries grouped by primary theme, ranked by score then recency; one per story."""
    ranked = sorted(entries, key=lambda e: (-entry_score(e), -entry_time(e, now).timestamp()))
    groups: dict[str | None, list[DigestEntry]] = {}
    seen_stories: set[int] = set()
    for entry in ranked:
        if entry.article.story_id in seen_stories:
            continue  # a copy of a story already listed under its best-ranked article
        seen_stories.add(entry.article.story_id)
        theme = primary_theme(entry.tags)
        groups.setdefault(theme.id if theme else None, []).append(entry)
    ordered = sorted(
        groups.items(),
        key=lambda item: (item[0] is None, -len(item[1]), -entry_score(item[1][0]), item[0] or ""),
    )
    return [DigestSection(theme, tuple(group)) for theme, group in ordered]
