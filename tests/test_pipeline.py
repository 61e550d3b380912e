"""End to end: poll cycles over local copies of the seed sites, into real SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.dedup import canonical_url
from bot.fetch import Fetcher
from bot.models import PollOutcome, Source
from bot.pipeline import CycleReport, Pipeline
from bot.pool import ExtractPool
from bot.settings import FetchSettings, Settings
from bot.store import Store
from bot.tagging import Tagger
from bot.taxonomy import load_taxonomy
from tests.httpserver import LocalSite, Route, redirect
from tests.sites import SeedSites

ROOT = Path(__file__).resolve().parent.parent
TAGGER = Tagger(load_taxonomy(ROOT / "seeds" / "taxonomy.yaml"))


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class Clock:
    """A fixed clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Harness:
    pipeline: Pipeline
    store: Store
    clock: Clock
    fetcher: Fetcher

    async def poll(self, sources: list[Source]) -> CycleReport:
        self.store.sync_sources(sources)
        return await self.pipeline.poll(sources)


def local_settings(db_url: str, workers: int = 0) -> Settings:
    return Settings(
        database_url=db_url,
        extract_workers=workers,
        fetch=FetchSettings(
            allow_private_networks=True,
            host_delay_s=0.0,
            connect_timeout_s=1.0,
            read_timeout_s=1.0,
            total_timeout_s=3.0,
            max_bytes=512 * 1024,
        ),
    )


@pytest.fixture
def clock(seed_sites: SeedSites) -> Clock:
    return Clock(datetime.combine(seed_sites.today, datetime.min.time(), UTC) + timedelta(hours=6))


async def _harness(settings: Settings, clock: Clock) -> AsyncIterator[Harness]:
    store = Store.open(settings.database_url)
    pool = ExtractPool(settings.extract_workers, min_text_chars=settings.min_text_chars)
    try:
        async with Fetcher(settings.fetch) as fetcher:
            pipeline = Pipeline(settings, store, fetcher, pool, tagger=TAGGER, clock=clock)
            yield Harness(pipeline, store, clock, fetcher)
    finally:
        pool.close()
        store.close()


@pytest.fixture
async def harness(db_url: str, clock: Clock) -> AsyncIterator[Harness]:
    async for h in _harness(local_settings(db_url), clock):
        yield h


@pytest.fixture
def faults() -> Iterator[LocalSite]:
    with LocalSite("faults") as site:
        yield site


async def test_first_cycle_stores_every_article_once(
    db_url: str, seed_sites: SeedSites, clock: Clock
) -> None:
    settings = local_settings(db_url, workers=2)  # the real process pool, both cores
    async for h in _harness(settings, clock):
        cycle = await h.poll(seed_sites.sources())
        assert {r.source: r.outcome for r in cycle.reports} == {
            s.name: PollOutcome.NEW for s in seed_sites.sources()
        }
        expected = [a for a in seed_sites.expected_articles() if a.source is not None]
        assert h.store.count_articles() == len(expected) == cycle.new
        for article in expected:
            stored = h.store.article_by_url(canonical_url(article.url))
            assert stored is not None, article.url
            assert stored.source == article.source
            assert nfc(stored.title) == article.title
            assert stored.published_at == article.published_at
            assert article.sentence in nfc(stored.text)
            for chrome in seed_sites.boilerplate(article.site):
                assert chrome not in stored.text


async def test_filtered_pages_are_never_fetched(harness: Harness, seed_sites: SeedSites) -> None:
    await harness.poll(seed_sites.sources())
    for article in seed_sites.expected_articles():
        path = article.url.removeprefix(seed_sites.base(article.site))
        fetched = seed_sites.sites[article.site].hits(path)
        assert bool(fetched) == (article.source is not None), article.url


async def test_second_cycle_is_conditional_and_stores_nothing(
    harness: Harness, seed_sites: SeedSites
) -> None:
    sources = seed_sites.sources()
    await harness.poll(sources)
    stored = harness.store.count_articles()
    for site in seed_sites.sites.values():
        site.clear_requests()
    harness.clock.advance(120)

    cycle = await harness.poll(sources)

    assert {r.outcome for r in cycle.reports} == {PollOutcome.UNCHANGED}
    assert harness.store.count_articles() == stored
    for source in sources:
        site = next(s for s in seed_sites.sites.values() if source.url.startswith(s.base))
        requests = site.requests
        assert [r.path for r in requests if r.path != "/robots.txt"] == [
            source.url.removeprefix(site.base)
        ], "only the feed itself is asked for, once"
        assert "if-none-match" in requests[-1].headers


async def test_copies_and_translations_join_one_story(
    harness: Harness, seed_sites: SeedSites
) -> None:
    await harness.poll(seed_sites.sources())
    story_of: dict[str, int] = {}
    for article in seed_sites.expected_articles():
        if article.source is None:
            continue
        stored = harness.store.article_by_url(canonical_url(article.url))
        assert stored is not None
        story_of[article.url] = stored.story_id
    by_key: dict[str, set[int]] = {}
    for article in seed_sites.expected_articles():
        if article.url in story_of:
            by_key.setdefault(article.story, set()).add(story_of[article.url])
    assert all(len(ids) == 1 for ids in by_key.values()), by_key
    story_ids = [next(iter(ids)) for ids in by_key.values()]
    assert len(set(story_ids)) == len(story_ids), "different stories stay apart"
    copies = [key for key, ids in by_key.items() if key and len(ids) == 1]
    assert copies


async def test_republished_copy_on_a_later_cycle_joins_the_story(
    harness: Harness, seed_sites: SeedSites
) -> None:
    by_name = {s.name: s for s in seed_sites.sources()}
    await harness.poll([by_name["baoquocte"]])
    original = next(
        a for a in seed_sites.expected_articles() if a.source == "baoquocte" and "335453" in a.url
    )
    first = harness.store.article_by_url(canonical_url(original.url))
    assert first is not None
    harness.clock.advance(600)
    await harness.poll([by_name["vietnamvn"], by_name["mirror"]])
    copies = [
        a
        for a in seed_sites.expected_articles()
        if a.story == original.story and a.url != original.url and a.source is not None
    ]
    assert {a.site for a in copies} >= {"vietnamvn", "mirror"}
    for copy in copies:
        stored = harness.store.article_by_url(canonical_url(copy.url))
        assert stored is not None and stored.story_id == first.story_id, copy.url


BROKEN_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Tin th\xe1\xba\xbf gi\xe1\xbb\x9bi</title>
<item><title>H\xe1\xbb\xa3p t\xc3\xa1c <b>Vi\xe1\xbb\x87t</i> - Ph\xc3\xa1p</title><li"""

HTML_PAGE = b"""<!DOCTYPE html><html><head><title>Trang chu</title></head>
<body><nav><a href="/">Trang chu</a></nav><h1>Trang chu</h1><p>Khong phai RSS.</p></body></html>"""


def _fault_routes(site: LocalSite) -> dict[str, str]:
    """Broken sources on one server; each maps to words its recorded error must contain."""
    site.add("/malformed.rss", Route(body=BROKEN_FEED, content_type="application/rss+xml"))
    site.add("/page-not-feed.rss", Route(body=HTML_PAGE, content_type="text/html"))
    site.add("/gone.rss", Route(body=b"not here", status=404))
    site.add("/error.rss", Route(body=b"oops", status=500))
    site.add("/slow.rss", Route(hang=True))
    site.add(
        "/huge.rss",
        Route(body=b"<rss>" + b" " * (2 * 1024 * 1024), content_type="application/rss+xml"),
    )
    site.add("/loop-a.rss", redirect("/loop-b.rss"))
    site.add("/loop-b.rss", redirect("/loop-a.rss"))
    return {
        "/malformed.rss": "malformed XML",
        "/page-not-feed.rss": "expected a feed but got an HTML page",
        "/gone.rss": "404",
        "/error.rss": "500",
        "/slow.rss": "timed out",
        "/huge.rss": "larger than",
        "/loop-a.rss": "redirect loop",
    }


async def test_broken_sources_fail_alone(
    harness: Harness, seed_sites: SeedSites, faults: LocalSite
) -> None:
    expected_errors = _fault_routes(faults)
    broken = [
        Source(
            name=f"broken{path.replace('/', '-').removesuffix('.rss')}",
            url=faults.url(path),
            kind="rss",
            language="vi",
        )
        for path in expected_errors
    ]
    cycle = await harness.poll([*broken, *seed_sites.sources()])

    outcomes = {r.source: r for r in cycle.reports}
    for source, path in zip(broken, expected_errors, strict=True):
        report = outcomes[source.name]
        assert report.outcome is PollOutcome.ERROR, source.name
        assert expected_errors[path] in (report.reason or ""), (source.name, report.reason)
        state = harness.store.source_state(source.name)
        assert state.consecutive_errors == 1
        assert state.last_error == report.reason
        assert state.next_check_at is not None and state.next_check_at > harness.clock.now
    for source in seed_sites.sources():
        assert outcomes[source.name].outcome is PollOutcome.NEW
        assert harness.store.source_state(source.name).consecutive_errors == 0
    assert harness.store.count_articles() == cycle.new > 0


LEGACY_PAGE = """<!DOCTYPE html><html lang="vi"><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">
<title>Hữu nghị Việt Nam - Pháp</title></head><body>
<nav><a href="/">Trang chủ</a> | <a href="/the-gioi/">Thế giới</a></nav>
<article><h1>Hội hữu nghị Việt - Pháp kỷ niệm 50 năm thành lập</h1>
<p>Ngày 12/11, tại Hà Nội, Hội hữu nghị Việt Nam - Pháp tổ chức lễ kỷ niệm 50 năm thành lập,
với sự tham dự của đại diện Đại sứ quán Pháp và nhiều tổ chức hữu nghị.</p>
<p>Phát biểu tại buổi lễ, Chủ tịch Hội nhấn mạnh vai trò của ngoại giao nhân dân trong việc
vun đắp tình hữu nghị, thúc đẩy hợp tác giáo dục, văn hóa và khoa học giữa hai nước.</p>
<p>Nhân dịp này, nhiều cá nhân và tập thể có thành tích xuất sắc đã được trao Kỷ niệm chương
Vì hòa bình, hữu nghị giữa các dân tộc.</p></article>
<footer>Bản quyền thuộc về Báo điện tử</footer></body></html>"""


def cp1258(text: str) -> bytes:
    """Vietnamese as windows-1258 writes it: base letters precomposed, tone marks combining."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
        for mark in marks:  # fold the one mark windows-1258 has precomposed (â, ă, ơ, ư, ê, ô)
            letter = unicodedata.normalize("NFC", base + mark)
            if len(letter) == 1 and letter.encode("cp1258", errors="ignore"):
                base, marks = letter, [m for m in marks if m != mark]
                break
        out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


async def test_page_in_a_legacy_encoding_is_decoded(harness: Harness, faults: LocalSite) -> None:
    page = "/hoi-huu-nghi-viet-phap-ky-niem-50-nam-thanh-lap-123456.html"
    body = cp1258(LEGACY_PAGE)
    faults.add(page, Route(body=body, content_type="text/html"))  # no charset in the header
    feed = f"""<?xml version="1.0" encoding="windows-1258"?><rss version="2.0"><channel>
<title>Thế giới</title><link>{faults.base}/</link>
<item><title>Hội hữu nghị Việt - Pháp kỷ niệm 50 năm thành lập</title>
<link>{faults.url(page)}</link><pubDate>Wed, 12 Nov 2025 09:00:00 +0700</pubDate></item>
</channel></rss>"""
    faults.add(
        "/legacy.rss",
        Route(
            body=cp1258(feed),
            content_type="application/rss+xml",
        ),
    )
    source = Source(name="legacy", url=faults.url("/legacy.rss"), kind="rss", language="vi")

    cycle = await harness.poll([source])

    assert cycle.reports[0].outcome is PollOutcome.NEW
    stored = harness.store.article_by_url(canonical_url(faults.url(page)))
    assert stored is not None
    assert stored.title == "Hội hữu nghị Việt - Pháp kỷ niệm 50 năm thành lập"
    assert "vun đắp tình hữu nghị" in stored.text


async def test_backoff_grows_on_errors_and_resets_on_success(
    harness: Harness, faults: LocalSite, seed_sites: SeedSites
) -> None:
    faults.add("/flaky.rss", Route(body=b"down", status=503))
    source = Source(
        name="flaky", url=faults.url("/flaky.rss"), kind="rss", language="vi", poll_interval_s=600
    )
    delays = []
    for expected_errors in (1, 2, 3, 4):
        report = (await harness.poll([source])).reports[0]
        state = harness.store.source_state("flaky")
        assert report.outcome is PollOutcome.ERROR and state.consecutive_errors == expected_errors
        assert state.next_check_at is not None
        delays.append((state.next_check_at - harness.clock.now).total_seconds())
        harness.clock.advance(delays[-1])
    for n, delay in enumerate(delays, start=1):
        assert 600 * 2**n * 0.9 <= delay <= 600 * 2**n * 1.1, delays
    assert harness.store.source_state("flaky").failing_since is not None

    feed = (Path(__file__).parent / "data" / "sites" / "mirror" / "feed.rss").read_text()
    faults.add(
        "/flaky.rss", Route(body=seed_sites.fill(feed).encode(), content_type="application/rss+xml")
    )
    report = (await harness.poll([source])).reports[0]
    state = harness.store.source_state("flaky")
    assert report.outcome is PollOutcome.NEW
    assert (state.consecutive_errors, state.failing_since, state.last_error) == (0, None, None)
    assert state.next_check_at is not None
    assert 540 <= (state.next_check_at - harness.clock.now).total_seconds() <= 660


async def test_retry_after_pushes_the_next_poll(harness: Harness, faults: LocalSite) -> None:
    faults.add("/busy.rss", Route(body=b"slow down", status=429, headers={"Retry-After": "7200"}))
    source = Source(
        name="busy", url=faults.url("/busy.rss"), kind="rss", language="vi", poll_interval_s=300
    )
    report = (await harness.poll([source])).reports[0]
    state = harness.store.source_state("busy")
    assert report.outcome is PollOutcome.ERROR
    assert state.next_check_at is not None
    assert (state.next_check_at - harness.clock.now).total_seconds() >= 7200


async def test_rejected_pages_are_recorded_and_not_refetched(
    harness: Harness, faults: LocalSite
) -> None:
    thin = "/video-le-ky-niem-98765.html"
    faults.add(
        thin,
        "<html><head><title>Video</title></head><body><h1>Video</h1>"
        "<p>Xem video.</p></body></html>",
    )
    faults.add(
        "/news.rss",
        Route(
            content_type="application/rss+xml",
            body=f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Video</title><link>{faults.base}/</link>
<item><title>Video</title><link>{faults.url(thin)}</link></item></channel></rss>""".encode(),
        ),
    )
    source = Source(name="video", url=faults.url("/news.rss"), kind="rss", language="vi")
    report = (await harness.poll([source])).reports[0]
    assert report.outcome is PollOutcome.REJECTED and report.rejected == 1
    faults.routes["/news.rss"] = replace(faults.routes["/news.rss"], etag=False)  # type: ignore[type-var]
    faults.clear_requests()
    report = (await harness.poll([source])).reports[0]
    assert report.outcome is PollOutcome.UNCHANGED and report.seen == 1
    assert not faults.hits(thin)


async def test_stored_articles_carry_tags_relevance_and_summary(
    harness: Harness, seed_sites: SeedSites
) -> None:
    await harness.poll(seed_sites.sources())
    for article in seed_sites.expected_articles():
        if article.source is None:
            continue
        stored = harness.store.article_by_url(canonical_url(article.url))
        assert stored is not None
        assert stored.relevant is article.relevant, (article.url, stored.relevance)
        assert stored.detected_language == article.language
        assert stored.summary and len(stored.summary) <= 420
        assert "Sumber:" not in stored.summary and "Komentar" not in stored.summary
        tags = harness.store.article_tags(stored.id)
        if article.relevant:
            assert tags and all(tag.evidence for tag in tags)
    japan = next(a for a in seed_sites.expected_articles() if "kumamoto" in a.story)
    stored = harness.store.article_by_url(canonical_url(japan.url))
    assert stored is not None
    assert "partner/jp" in {t.id for t in harness.store.article_tags(stored.id)}
