"""Local copies of the seed sites for end-to-end tests: five real HTTP servers.

In: tests/data/sites/manifest.yaml and the files it names (feeds, sitemaps, a listing
page, article pages as the sites publish them). Out: running `LocalSite`s, one per site
(its own port, so its own host), the `Source` entries that watch them, and what a reader
should find on every article page served (`ExpectedArticle`).

Paths and files hold placeholders ({{nhandan}}, {{today}}, {{today-2:dmy}}, …) that are
filled when the servers start, so cross-site links point at the local servers and
vietnam.vn's daily sitemaps follow the chosen day. Every file is served as a static route,
so ETag / Last-Modified conditional requests answer 304 as on the real CMSs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.models import SOURCE_KINDS, Source, SourceKind
from tests.httpserver import LocalSite

DATA_DIR = Path(__file__).parent / "data" / "sites"
SITE_NAMES = ("nhandan", "baoquocte", "thoidai", "vietnamvn", "mirror")
VIETNAM_TZ = timezone(timedelta(hours=7))
POLL_INTERVAL_S = 60
CONTENT_TYPES = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
_PLACEHOLDER = re.compile(r"\{\{(?P<name>[a-z]+)(?:-(?P<days>\d+))?(?::(?P<fmt>dmy))?\}\}")


@dataclass(frozen=True)
class ExpectedArticle:
    """One article page served by the seed sites, as a reader would check it."""

    url: str
    site: str
    source: str | None  # Source.name expected to discover it; None: no source lets it through
    language: str
    title: str  # NFC, as a reader sees it (the page itself may be NFD)
    published_at: datetime  # aware, in the publisher's time zone
    sentence: str  # NFC; must appear in the extracted text once normalised
    story: str  # same key = same story (original, translations, copies)
    relevant: bool  # about Vietnam's foreign relations
    credit_url: str | None  # the `Sumber:` / `Source:` URL printed on the page, if any


@dataclass
class SeedSites:
    """The five seed sites, running."""

    sites: dict[str, LocalSite]
    today: date
    manifest: dict[str, Any] = field(repr=False)

    def base(self, name: str) -> str:
        """The site's root URL, e.g. http://127.0.0.1:PORT (no trailing slash)."""
        return self.sites[name].base

    def url(self, name: str, path: str) -> str:
        """An absolute URL on one site; `path` may hold placeholders."""
        return self.base(name) + self.fill(path)

    def fill(self, text: str) -> str:
        """Replace the placeholders in `text` with these servers' bases and dates."""
        return fill(text, {name: site.base for name, site in self.sites.items()}, self.today)

    def sources(self) -> list[Source]:
        """The watched sources: both RSS feeds, the Thời Đại listing, the sitemap, the mirror."""
        return [
            Source(
                name=entry["name"],
                url=self.url(entry["site"], entry["path"]),
                kind=_kind(entry["kind"]),
                language=entry["language"],
                poll_interval_s=POLL_INTERVAL_S,
                include=tuple(entry.get("include", ())),
            )
            for entry in self.manifest["sources"]
        ]

    def expected_articles(self) -> list[ExpectedArticle]:
        """Every article page served, with its title, date, a sentence and its story key."""
        return [self._expected(entry) for entry in self.manifest["articles"]]

    def boilerplate(self, name: str) -> tuple[str, ...]:
        """Page chrome of one site (menus, related links, comment boxes) that is not content."""
        return tuple(self.manifest["sites"][name]["boilerplate"])

    def routes(self, name: str) -> list[str]:
        """The paths one site serves (placeholders filled)."""
        return [self.fill(path) for path in self.manifest["sites"][name]["routes"]]

    def stop(self) -> None:
        """Stop every server."""
        for site in self.sites.values():
            site.stop()

    def _expected(self, entry: Mapping[str, Any]) -> ExpectedArticle:
        credit = entry.get("credit")
        return ExpectedArticle(
            url=self.url(entry["site"], entry["path"]),
            site=entry["site"],
            source=entry["source"],
            language=entry["language"],
            title=entry["title"],
            published_at=datetime.fromisoformat(self.fill(entry["published_at"])),
            sentence=entry["sentence"],
            story=entry["story"],
            relevant=entry["relevant"],
            credit_url=self.fill(credit) if credit else None,
        )


def fill(text: str, bases: Mapping[str, str], today: date) -> str:
    """Fill site-base and date placeholders; an unknown placeholder is an error."""

    def one(match: re.Match[str]) -> str:
        name, days, fmt = match["name"], match["days"], match["fmt"]
        if name == "today":
            day = today - timedelta(days=int(days or 0))
            return day.strftime("%d/%m/%Y") if fmt else day.isoformat()
        if days or fmt or name not in bases:
            raise ValueError(f"unknown placeholder {match[0]}")
        return bases[name]

    return _PLACEHOLDER.sub(one, text)


def load_manifest() -> dict[str, Any]:
    """The fixture manifest: sources, per-site routes and boilerplate, expected articles."""
    with (DATA_DIR / "manifest.yaml").open(encoding="utf-8") as fh:
        manifest: dict[str, Any] = yaml.safe_load(fh)
    return manifest


def start_seed_sites(today: date | None = None) -> SeedSites:
    """Start the five sites; `today` (default: now in Vietnam) dates vietnam.vn's sitemaps."""
    day = today or datetime.now(VIETNAM_TZ).date()
    manifest = load_manifest()
    sites: dict[str, LocalSite] = {}
    try:
        for name in SITE_NAMES:
            sites[name] = LocalSite(name).start()
        bases = {name: site.base for name, site in sites.items()}
        for name, site in sites.items():
            _add_routes(site, manifest["sites"][name]["routes"], bases, day)
    except BaseException:
        for site in sites.values():
            site.stop()
        raise
    return SeedSites(sites=sites, today=day, manifest=manifest)


@pytest.fixture(name="seed_sites")
def seed_sites_fixture() -> Iterator[SeedSites]:
    """The five seed sites for one test, dated today in Vietnam."""
    running = start_seed_sites()
    try:
        yield running
    finally:
        running.stop()


def _add_routes(
    site: LocalSite, routes: Mapping[str, str], bases: Mapping[str, str], day: date
) -> None:
    for path, file_name in routes.items():
        file = DATA_DIR / site.name / file_name
        body = fill(file.read_text(encoding="utf-8"), bases, day)
        site.add(fill(path, bases, day), body, content_type=CONTENT_TYPES[file.suffix])


def _kind(raw: str) -> SourceKind:
    for kind in SOURCE_KINDS:
        if kind == raw:
            return kind
    raise ValueError(f"unknown source kind {raw!r}")
