"""sources.yaml: the shipped file loads; every mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_sources, parse_sources
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
defaults:
  poll_interval: 30m
sources:
  - name: nhandan-world
    url: https://nhandan.vn/rss/thegioi-1231.rss
    kind: rss
    language: vi
  - name: thoidai
    url: https://thoidai.com.vn/huu-nghi
    kind: listing
    language: vi
    link_selector: "h3.article-title a"
    poll_interval: 2h
    include: ['\\d{6}\\.html$']
    max_items: 20
"""


def test_shipped_sources_file_loads_with_the_seed_sites() -> None:
    sources = load_sources(ROOT / "sources.yaml")
    names = {s.name for s in sources}
    assert {"thoidai-friendship", "baoquocte", "nhandan-world", "vietnamvn-id"} <= names
    assert {s.kind for s in sources} >= {"rss", "sitemap", "listing", "auto"}
    assert all(s.poll_interval_s >= 60 for s in sources)


def test_defaults_and_overrides() -> None:
    first, second = parse_sources(GOOD)
    assert first.poll_interval_s == 1800
    assert second.poll_interval_s == 7200
    assert second.link_selector == "h3.article-title a"
    assert second.include == (r"\d{6}\.html$",)
    assert second.max_items == 20
    assert first.enabled and first.fetch_articles


@pytest.mark.parametrize(
    ("broken", "line", "field", "words"),
    [
        (GOOD.replace("kind: rss", "kind: rdf"), 6, "kind", "expected one of rss"),
        (
            GOOD.replace("language: vi\n  - name", "langauge: vi\n  - name"),
            7,
            "langauge",
            "did you mean `language`",
        ),
        (GOOD.replace("https://nhandan.vn", "ftp://nhandan.vn"), 5, "url", "not an http(s) URL"),
        (
            GOOD.replace("poll_interval: 2h", "poll_interval: 10s"),
            13,
            "poll_interval",
            "minimum is 60",
        ),
        (
            GOOD.replace("poll_interval: 2h", "poll_interval: often"),
            13,
            "poll_interval",
            "duration",
        ),
        (
            GOOD.replace("'\\d{6}\\.html$'", "'(unclosed'"),
            14,
            "include",
            "invalid regular expression",
        ),
        (
            GOOD.replace('"h3.article-title a"', '"h3[["'),
            12,
            "link_selector",
            "invalid CSS selector",
        ),
        (GOOD.replace("max_items: 20", "max_items: 0"), 15, "max_items", "1 to 1000"),
        (GOOD.replace("name: thoidai", "name: nhandan-world"), 8, "name", "duplicate source name"),
        (GOOD.replace("name: thoidai", "name: Thoi Dai"), 8, "name", "not a valid name"),
        (GOOD.replace("    kind: listing\n", ""), 8, "kind", "missing required field"),
    ],
)
def test_mistakes_name_file_line_and_field(broken: str, line: int, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sources(broken, "conf/sources.yaml")
    error = caught.value
    assert (error.path, error.line, error.field) == ("conf/sources.yaml", line, field)
    assert words in str(error)
    assert str(error).startswith(f"conf/sources.yaml:{line} [{field}]")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("sources: [\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping"),
        ("feeds: []\n", "unknown field `feeds`"),
        ("sources: {}\n", "expected a `sources:` list"),
        ("sources:\n  - https://example.com/rss\n", "each source must be a mapping"),
    ],
)
def test_structural_mistakes(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_sources(text, "s.yaml")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read sources file") as caught:
        load_sources(tmp_path / "nope.yaml")
    assert caught.value.path == str(tmp_path / "nope.yaml")
