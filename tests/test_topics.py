"""Topic names typed in a chat → taxonomy ids, against the real taxonomy."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.models import UI_LANGUAGES
from bot.taxonomy import FACETS, Taxonomy, load_taxonomy
from bot.telegram.topics import (
    MAX_SUGGESTIONS,
    facet_name,
    facet_topics,
    resolve_topics,
    topic_label,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy(ROOT / "seeds" / "taxonomy.yaml")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["partner/jp"], ["partner/jp"]),
        (["PARTNER/JP"], ["partner/jp"]),
        (["jp"], ["partner/jp"]),
        (["Japan"], ["partner/jp"]),
        (["japan"], ["partner/jp"]),
        (["Jepang"], ["partner/jp"]),
        (["Nhật", "Bản"], ["partner/jp"]),
        (["Nhật Bản"], ["partner/jp"]),
        (["nhat", "ban"], ["partner/jp"]),
        (["NHẬT", "BẢN"], ["partner/jp"]),
        (["theme/people-to-people"], ["theme/people-to-people"]),
        (["people-to-people"], ["theme/people-to-people"]),
        (["people", "to", "people"], ["theme/people-to-people"]),
        (["ngoại", "giao", "nhân", "dân"], ["theme/people-to-people"]),
        (["ngoai", "giao", "nhan", "dan"], ["theme/people-to-people"]),
        (["Diplomasi", "antarmasyarakat"], ["theme/people-to-people"]),
        (["ngo"], ["theme/ngo"]),
        (["LSM", "asing"], ["theme/ngo"]),
        (["Hà", "Nội"], ["place/hanoi"]),
        (["Japan", "theme/ngo"], ["partner/jp", "theme/ngo"]),
        (["partner/jp,theme/ngo"], ["partner/jp", "theme/ngo"]),
        (["“Japan”,", "France."], ["partner/jp", "partner/fr"]),
        (["jp", "Japan", "Nhật", "Bản"], ["partner/jp"]),
    ],
)
def test_names_in_any_language_resolve(
    taxonomy: Taxonomy, words: list[str], expected: list[str]
) -> None:
    assert resolve_topics(words, taxonomy) == (expected, [])


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Japn", "partner/jp"),
        ("Jepan", "partner/jp"),
        ("peple-to-people", "theme/people-to-people"),
        ("partner/jpp", "partner/jp"),
        ("Nhat Bam", "partner/jp"),
        ("Vietnam-Russia Tropical Center!", "org/tropical-centre"),
    ],
)
def test_typos_get_close_suggestions(taxonomy: Taxonomy, typed: str, meant: str) -> None:
    found, unknown = resolve_topics(typed.split(), taxonomy)
    assert found == [] or found == [meant]
    if not found:
        [(words, suggestions)] = unknown
        assert words == typed
        assert meant in suggestions
        assert len(suggestions) <= MAX_SUGGESTIONS


def test_known_and_unknown_words_are_told_apart(taxonomy: Taxonomy) -> None:
    found, unknown = resolve_topics(["Japan", "xyzzy", "theme/ngo", "Jepng"], taxonomy)
    assert found == ["partner/jp", "theme/ngo"]
    assert [word for word, _ in unknown] == ["xyzzy", "Jepng"]
    assert unknown[0][1] == []
    assert "partner/jp" in unknown[1][1]


def test_unrelated_neighbouring_words_are_reported_one_by_one(taxonomy: Taxonomy) -> None:
    _, unknown = resolve_topics(["qqqq", "Japn"], taxonomy)
    assert [word for word, _ in unknown] == ["qqqq", "Japn"]


def test_every_node_resolves_by_id_slug_and_every_label(taxonomy: Taxonomy) -> None:
    for node in taxonomy.nodes:
        assert resolve_topics([node.id], taxonomy) == ([node.id], [])
        for label in (node.label.id, node.label.en, node.label.vi):
            found, unknown = resolve_topics(label.split(), taxonomy)
            assert node.id in found and not unknown, (node.id, label)


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "Japan"), ("id", "Jepang"), ("vi", "Nhật Bản")]
)
def test_topic_label_in_the_chats_language(taxonomy: Taxonomy, lang: str, expected: str) -> None:
    assert topic_label(taxonomy, "partner/jp", lang) == expected  # type: ignore[arg-type]


def test_topic_label_of_a_removed_topic_is_its_id(taxonomy: Taxonomy) -> None:
    assert topic_label(taxonomy, "partner/atlantis", "vi") == "partner/atlantis"


def test_facet_names_differ_within_each_language() -> None:
    for lang in UI_LANGUAGES:
        names = [facet_name(facet, lang) for facet in FACETS]
        assert len(set(names)) == len(FACETS)
        assert all(name and name not in FACETS for name in names)
    assert facet_name("partner", "vi") == "Đối tác"
    assert facet_name("unknown", "en") == "unknown"


def test_facet_topics_cover_the_taxonomy_in_order(taxonomy: Taxonomy) -> None:
    listed = [topic for facet in FACETS for topic in facet_topics(taxonomy, facet)]
    assert sorted(listed) == sorted(taxonomy.ids())
    assert facet_topics(taxonomy, "theme")[0] == taxonomy.ids()[0]
