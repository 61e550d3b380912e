"""Digest sections: grouping by primary theme, ranking, one entry per story."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.digest import DigestSection, primary_theme, sections
from bot.models import DigestEntry, StoredArticle, Tag

NOW = datetime(2025, 5, 2, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def tag(node_id: str, score: float) -> Tag:
    return Tag(node_id, node_id.split("/")[0], node_id, score, (node_id.split("/")[1],))


def entry(number: int, *tags: Tag, age: timedelta = HOUR, **changes: object) -> DigestEntry:
    """A stored Báo Quốc tế article `age` old, numbered for reading the assertions."""
    base = StoredArticle(
        id=number,
        story_id=number,
        source="baoquocte",
        url=f"https://baoquocte.vn/tin-{number}-30{number:04d}.html",
        canonical_url=f"https://baoquocte.vn/tin-{number}-30{number:04d}.html",
        title=f"Tin {number}",
        text="Quan hệ hữu nghị Việt Nam - Nhật Bản.",
        lead=None,
        published_at=NOW - age,
        fetched_at=NOW - age + timedelta(minutes=5),
        language="vi",
        site="Báo Quốc tế",
        relevant=True,
        relevance=0.7,
    )
    return DigestEntry(replace(base, **changes), tags)  # type: ignore[arg-type]


def shape(result: list[DigestSection]) -> list[tuple[str | None, list[int]]]:
    return [(s.theme, [e.article.id for e in s.entries]) for s in result]


def test_entries_group_under_their_strongest_theme() -> None:
    entries = [
        entry(1, tag("theme/ngo", 0.4), tag("theme/culture", 0.9), tag("partner/jp", 0.99)),
        entry(2, tag("theme/ngo", 0.8)),
        entry(3, tag("partner/fr", 0.9)),
    ]
    assert shape(sections(entries, now=NOW)) == [
        ("theme/culture", [1]),
        ("theme/ngo", [2]),
        (None, [3]),
    ]


def test_sections_come_largest_first_with_other_last() -> None:
    entries = [
        entry(1, tag("theme/ngo", 0.9)),
        entry(2, tag("theme/culture", 0.5)),
        entry(3, tag("theme/culture", 0.5)),
        entry(4),
        entry(5),
        entry(6),
    ]
    assert [s.theme for s in sections(entries, now=NOW)] == ["theme/culture", "theme/ngo", None]


def test_equal_sections_put_the_stronger_one_first() -> None:
    entries = [entry(1, tag("theme/ngo", 0.3)), entry(2, tag("theme/youth", 0.6))]
    assert [s.theme for s in sections(entries, now=NOW)] == ["theme/youth", "theme/ngo"]


def test_items_rank_by_score_then_recency() -> None:
    entries = [
        entry(1, tag("theme/ngo", 0.5), age=HOUR),
        entry(2, tag("theme/ngo", 0.9), age=30 * HOUR),
        entry(3, tag("theme/ngo", 0.5), age=2 * HOUR),
        entry(4, tag("theme/ngo", 0.5), age=0.5 * HOUR),
        entry(5, relevance=0.9, age=5 * HOUR),
        entry(6, relevance=0.4, age=1 * HOUR),
        entry(7, relevance=None, age=1 * HOUR),
    ]
    assert shape(sections(entries, now=NOW)) == [("theme/ngo", [2, 4, 1, 3]), (None, [5, 6, 7])]


def test_a_future_date_counts_as_the_time_it_was_fetched() -> None:
    future = entry(
        1, tag("theme/ngo", 0.5), published_at=NOW + 48 * HOUR, fetched_at=NOW - 5 * HOUR
    )
    recent = entry(2, tag("theme/ngo", 0.5), age=HOUR)
    undated = entry(3, tag("theme/ngo", 0.5), published_at=None, fetched_at=NOW - 0.5 * HOUR)
    assert shape(sections([future, recent, undated], now=NOW)) == [("theme/ngo", [3, 2, 1])]


def test_one_entry_per_story_the_best_ranked_copy() -> None:
    entries = [
        entry(1, tag("theme/ngo", 0.5), story_id=7),
        entry(2, tag("theme/culture", 0.9), story_id=7),
        entry(3, tag("theme/ngo", 0.6)),
    ]
    assert shape(sections(entries, now=NOW)) == [("theme/culture", [2]), ("theme/ngo", [3])]


def test_no_entries_no_sections() -> None:
    assert sections([], now=NOW) == []


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ((), None),
        ((tag("partner/jp", 0.9),), None),
        ((tag("theme/ngo", 0.5), tag("theme/culture", 0.5)), "theme/culture"),
        ((tag("theme/ngo", 0.51), tag("theme/culture", 0.5)), "theme/ngo"),
    ],
)
def test_primary_theme(tags: tuple[Tag, ...], expected: str | None) -> None:
    found = primary_theme(tags)
    assert (found.id if found else None) == expected
