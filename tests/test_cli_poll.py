"""`duta poll`, `duta sources list|check` and `duta retag` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.dedup import canonical_url
from bot.models import Source
from bot.store import Store
from tests.httpserver import LocalSite, Route
from tests.sites import SeedSites

ROOT = Path(__file__).resolve().parent.parent


def write_sources(path: Path, sources: list[Source]) -> Path:
    entries = []
    for source in sources:
        entry: dict[str, object] = {
            "name": source.name,
            "url": source.url,
            "kind": source.kind,
            "language": source.language,
            "poll_interval": source.poll_interval_s,
        }
        if source.include:
            entry["include"] = list(source.include)
        entries.append(entry)
    path.write_text(yaml.safe_dump({"sources": entries}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def env(tmp_path: Path, seed_sites: SeedSites, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DUTA_SOURCES": str(write_sources(tmp_path / "sources.yaml", seed_sites.sources())),
        "DUTA_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'duta.db'}",
        "DUTA_ALLOW_PRIVATE_NETWORKS": "true",
        "DUTA_HOST_DELAY_S": "0",
        "DUTA_EXTRACT_WORKERS": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_poll_once_prints_a_line_per_source_and_a_total(
    env: dict[str, str], seed_sites: SeedSites, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["poll", "--once"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [s.name for s in seed_sites.sources()]
    for name in names:
        line = next(line for line in lines if line.startswith(name + " "))
        assert " new " in line and "new=0" not in line
    expected = sum(a.source is not None for a in seed_sites.expected_articles())
    assert lines[-1].startswith(f"total: {len(names)} sources ({len(names)} new); {expected} new")

    assert main(["poll", "--once"]) == 0  # nothing is due yet
    assert "no sources are due" in capsys.readouterr().out

    assert main(["poll", "--once", "--all"]) == 0
    out = capsys.readouterr().out
    assert f"({len(names)} unchanged); 0 new articles" in out

    assert main(["poll", "--once", "--source", "thoidai"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("thoidai ") and "total: 1 sources" in out


def test_poll_unknown_source_is_a_clear_error(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["poll", "--once", "--source", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("duta: error: no source named nope (known: baoquocte, mirror")


def test_sources_list_shows_polling_state(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "list"]) == 0
    assert "never polled" in capsys.readouterr().out
    main(["poll", "--once"])
    capsys.readouterr()
    assert main(["sources", "list"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok, next check in") == 5


def test_sources_check_probes_each_source(
    env: dict[str, str], seed_sites: SeedSites, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "check"]) == 0
    out = capsys.readouterr().out
    assert "5 of 5 sources work" in out
    assert "sitemap index" in out and "rss (application/rss+xml): 3 items" in out
    with LocalSite("broken") as broken:
        broken.add("/feed", Route(body=b"<html><body>Not a feed</body></html>"))
        sources = [*seed_sites.sources(), Source("broken", broken.url("/feed"), "rss", "vi")]
        write_sources(Path(env["DUTA_SOURCES"]), sources)
        assert main(["sources", "check"]) == 1
    out = capsys.readouterr().out
    assert "broken     FAIL  expected a feed but got an HTML page" in out
    assert "5 of 6 sources work" in out


def test_retag_applies_a_changed_taxonomy(
    env: dict[str, str],
    seed_sites: SeedSites,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["poll", "--once"])
    capsys.readouterr()
    original = (ROOT / "seeds" / "taxonomy.yaml").read_text(encoding="utf-8")
    old_label = "label: {id: Jepang, en: Japan, vi: Nhật Bản}"
    assert old_label in original
    changed = tmp_path / "taxonomy.yaml"
    changed.write_text(original.replace(old_label, "label: {id: Nippon, en: Nippon, vi: Nippon}"))
    monkeypatch.setenv("DUTA_TAXONOMY", str(changed))

    assert main(["retag"]) == 0

    stored = sum(a.source is not None for a in seed_sites.expected_articles())
    assert capsys.readouterr().out == f"re-tagged {stored} articles with {changed}\n"
    japan = next(a for a in seed_sites.expected_articles() if "kumamoto" in a.story)
    with Store.open(env["DUTA_DATABASE_URL"]) as store:
        article = store.article_by_url(canonical_url(japan.url))
        assert article is not None
        labels = {t.id: t.label for t in store.article_tags(article.id)}
    assert labels["partner/jp"] == "Nippon"


def test_a_wrong_sources_file_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text(
        "sources:\n  - name: x\n    url: https://example.org/rss\n    kind: feed\n"
        "    language: vi\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DUTA_SOURCES": str(bad),
        "DUTA_DATABASE_URL": f"sqlite:///{tmp_path}/d.db",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "poll", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"duta: error: {bad}:4 [kind]: expected one of rss, atom, sitemap, listing, auto, "
        "got 'feed'"
    )
    assert "Traceback" not in done.stderr


def test_digest_prints_stored_articles_by_theme(
    env: dict[str, str], seed_sites: SeedSites, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest"]) == 0
    assert capsys.readouterr().out == "nothing stored in the last 24h\n"
    main(["poll", "--once"])
    capsys.readouterr()

    assert main(["digest", "--since", "1d", "--topic", "partner/jp", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    japan = {a.story for a in seed_sites.expected_articles() if "Nhật" in a.title}
    assert japan and "<b>" not in out
    stories = [a for a in seed_sites.expected_articles() if a.story in japan and a.title in out]
    assert len({a.story for a in stories}) == len(japan), out  # every Japan story, once
    assert "Giá vàng" not in out and "V-League" not in out

    assert main(["digest", "--topic", "partner/xx"]) == 1
    assert "unknown topic partner/xx" in capsys.readouterr().err
