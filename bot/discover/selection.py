"""Discovery's last step: which discovered items a source keeps from one poll.

FeedItems in, FeedItems out: the source's include/exclude patterns applied to
each URL, repeated URLs dropped, newest first, at most `Source.max_items`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.errors import ConfigError
from bot.models import FeedItem, Source


def select_items(source: Source, items: Iterable[FeedItem]) -> tuple[FeedItem, ...]:
    """Filter, de-duplicate and order items: dated newest first, then undated in order."""
    include = _compile(source, "include", source.include)
    exclude = _compile(source, "exclude", source.exclude)
    seen: set[str] = set()
    kept: list[FeedItem] = []
    for item in items:
        if item.url in seen:
            continue
        seen.add(item.url)
        if include and not any(p.search(item.url) for p in include):
            continue
        if not any(p.search(item.url) for p in exclude):
            kept.append(item)
    dated = [(item.published_at, item) for item in kept if item.published_at is not None]
    dated.sort(key=lambda pair: pair[0], reverse=True)  # a stable sort: ties keep page order
    undated = [item for item in kept if item.published_at is None]
    return tuple(([item for _, item in dated] + undated)[: max(source.max_items, 0)])


def _compile(source: Source, field: str, patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    """Compiled patterns; a bad one is the configuration's fault and says which."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(
                f"source {source.name}: invalid regular expression {pattern!r}: {exc}",
                field=field,
            ) from exc
    return compiled
