"""Hostile sources against a running `duta run`, beside the five good seed sites.

One service run (console mode, private networks allowed for the local servers) polls
the seed sources and some thirty hostile ones at once: malformed, truncated and
entity-laden XML, a gzip bomb, bodies far over the size cap, a server that trickles a
byte a second and one that never answers, endless redirects and redirects to `file:`
and `ftp:`, wrong and unknown charsets, HTML where a feed or sitemap belongs, a
sitemap index of 10,000 children, a listing page of 50,000 links, duplicate GUIDs,
missing dates and dates in the future. The tests then check what an operator would:
the service kept running and stops cleanly, the good sources' articles are stored
as published, the database is intact, the hostile sources' errors are recorded
against them with a readable reason, and no attack made Duta read a file, follow an
entity, or do unbounded work. (Redirects to private addresses: tests/faults/test_ssrf.py.)
"""

from __future__ import annotations

import sqlite3
import time
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.dedup import canonical_url
from bot.discover.values import VIETNAM_TZ
from bot.models import Source, SourceKind, SourceState, StoredArticle
from bot.settings import Settings
from bot.store import Store
from tests.httpserver import LocalSite, Route, redirect
from tests.sites import SeedSites, start_seed_sites
from tests.test_cli_poll import write_sources
from tests.test_pipeline import cp1258
from tests.test_service import Duta, free_port, get, service_env, sqlite_url

DISCOVER_DATA = Path(__file__).resolve().parents[1] / "data" / "discover"
RSS_TYPE = "application/rss+xml; charset=utf-8"
XML_TYPE = "application/xml"
HTML_TYPE = "text/html; charset=utf-8"
SETTLE_S = 180.0  # the longest a run may take: the trickle's total timeout at its default
MIB = 1024 * 1024
# Timeouts that keep the run to seconds. Settings.from_env ignores variables it does not
# know, so every expectation below reads the timeouts the service actually applied.
QUICK_TIMEOUTS = {
    "DUTA_CONNECT_TIMEOUT_S": "1",
    "DUTA_READ_TIMEOUT_S": "2",
    "DUTA_TOTAL_TIMEOUT_S": "4",
}


pytestmark = pytest.mark.timeout(SETTLE_S + 60)  # the run is set up by the first test


# --- the hostile web --------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile source and what its poll must leave behind."""

    source: Source
    error: str | None  # words its recorded error contains; None: the poll succeeds


@dataclass
class HostileWeb:
    """The hostile servers: most routes on one site, the slow ones on their own."""

    site: LocalSite
    trickle: LocalSite
    silent: LocalSite
    cases: list[Case] = field(default_factory=list)
    stored_titles: dict[str, str] = field(default_factory=dict)  # page URL -> title

    def add(
        self, name: str, path: str, kind: SourceKind, error: str | None, **route: object
    ) -> None:
        """Serve `route` at `path` on the main hostile site and watch it as source `name`."""
        self.site.add(path, Route(**route))  # type: ignore[arg-type]
        self.watch(name, self.site.url(path), kind, error)

    def watch(self, name: str, url: str, kind: SourceKind, error: str | None) -> None:
        self.cases.append(Case(Source(name, url, kind, "vi"), error))

    def page(self, path: str, title: str, **options: str) -> str:
        """Serve an article page that should be stored with `title`; its URL."""
        body = article_html(title, **options)
        content_type = options.get("content_type", HTML_TYPE)
        encoded = cp1258(body) if options.get("encoding") == "cp1258" else body.encode()
        self.site.add(path, Route(body=encoded, content_type=content_type))
        self.stored_titles[self.site.url(path)] = title
        return self.site.url(path)

    def stop(self) -> None:
        for site in (self.site, self.trickle, self.silent):
            site.stop()


PARAGRAPHS = (
    "Ngày 3/12, tại Hà Nội, Liên hiệp các tổ chức hữu nghị Việt Nam phối hợp với Đại sứ "
    "quán Nhật Bản tổ chức chương trình giao lưu văn hóa nhân dân hai nước.",
    "Phát biểu tại chương trình, đại diện Liên hiệp nhấn mạnh vai trò của ngoại giao nhân "
    "dân trong việc vun đắp quan hệ hữu nghị và hợp tác giữa các địa phương.",
    "Nhân dịp này, nhiều học bổng đã được trao cho sinh viên hai nước, góp phần thúc đẩy "
    "hợp tác giáo dục và khoa học công nghệ.",
)


def article_html(title: str, **options: str) -> str:
    """An article page as Vietnamese CMSs publish it; options: published, visible, meta."""
    published = options.get("published")
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    charset = f'<meta charset="{options["meta"]}">' if "meta" in options else ""
    visible = options.get("visible")
    when = f'<div class="article__meta"><span>{visible}</span></div>' if visible else ""
    body = "".join(f"<p>{title}. {p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html><html lang="vi"><head>{charset}<title>{title}</title>{meta}</head>
<body><header><nav><a href="/">Trang chủ</a> <a href="/the-gioi">Thế giới</a></nav></header>
<main><article><h1 class="article__title">{title}</h1>{when}
<div class="article__sapo">{PARAGRAPHS[0]}</div><div class="article__body">{body}</div>
</article></main><footer>Bản quyền thuộc về Tòa soạn</footer></body></html>"""


def rss(items: str, *, prolog: str = "") -> bytes:
    """An RSS 2.0 document around `items`, with an optional DOCTYPE."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<rss version="2.0"><channel><title>Tin thế giới</title><link>http://tin.example/</link>
{items}</channel></rss>""".encode()


def item(link: str, *, guid: str | None = None, date: str | None = None, title: str = "Tin") -> str:
    """One RSS item; GUID and date only when given."""
    guid_tag = f"<guid>{guid}</guid>" if guid else ""
    date_tag = f"<pubDate>{date}</pubDate>" if date else ""
    return f"<item><title>{title}</title><link>{link}</link>{guid_tag}{date_tag}</item>"


BILLION_LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))


def xml_attacks(web: HostileWeb) -> None:
    """Malformed, truncated and entity-laden feeds and sitemaps."""
    site = web.site
    good = web.page("/bai/dtd-ngoai-12345.html", "Trang ngoài DTD vẫn được đọc")
    web.add(
        "malformed-feed",
        "/malformed.rss",
        "rss",
        "malformed XML",
        body=b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>a</b></item><li',
        content_type=RSS_TYPE,
    )
    web.add(
        "truncated-feed",
        "/truncated.rss",
        "rss",
        "malformed XML",
        body=(DISCOVER_DATA / "thoidai-rss-truncated.xml").read_bytes(),
        content_type=RSS_TYPE,
    )
    web.add(
        "truncated-sitemap",
        "/truncated-sitemap.xml",
        "sitemap",
        "malformed XML",
        body=b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
        b'sitemap/0.9"><url><loc>' + site.url("/bai/a").encode(),
        content_type=XML_TYPE,
    )
    laughs = f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{BILLION_LAUGHS}]>'
    web.add(
        "billion-laughs-feed",
        "/laughs.rss",
        "rss",
        "refused: the feed declares nested XML entities",
        body=rss(item(good, title="&lol9;"), prolog=laughs),
        content_type=RSS_TYPE,
    )
    web.add(
        "billion-laughs-sitemap",
        "/laughs-sitemap.xml",
        "sitemap",
        "refused: the sitemap declares XML entities",
        body=(DISCOVER_DATA / "billion-laughs-sitemap.xml").read_bytes(),
        content_type=XML_TYPE,
    )
    xxe = (
        f'<!DOCTYPE rss [<!ENTITY passwd SYSTEM "file:///etc/passwd">'
        f'<!ENTITY probe SYSTEM "{site.url("/xxe-probe")}">]>'
    )
    web.add(
        "xxe-feed",
        "/xxe.rss",
        "rss",
        "refused: the feed declares an external XML entity (passwd)",
        body=rss(item(good, title="&passwd; &probe;"), prolog=xxe),
        content_type=RSS_TYPE,
    )
    web.add(
        "xxe-sitemap",
        "/xxe-sitemap.xml",
        "sitemap",
        "refused: the sitemap declares XML entities",
        body=f"""<?xml version="1.0"?>{xxe.replace("rss", "urlset")}
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{good}?&passwd;</loc></url>
</urlset>""".encode(),
        content_type=XML_TYPE,
    )
    remote_dtd = f'<!DOCTYPE rss [<!ENTITY % remote SYSTEM "{site.url("/evil.dtd")}"> %remote;]>'
    web.add(
        "remote-dtd-feed",
        "/remote-dtd.rss",
        "rss",
        None,
        body=rss(item(good), prolog=remote_dtd),
        content_type=RSS_TYPE,
    )


def size_attacks(web: HostileWeb) -> None:
    """A gzip bomb, a gzip-bomb sitemap file, and bodies far over the cap."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MIB)
    bomb = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()  # 256 MiB
    web.add(
        "gzip-bomb",
        "/bomb.rss",
        "rss",
        "response larger than",
        body=bomb,
        headers={"Content-Encoding": "gzip"},
        content_type=RSS_TYPE,
        etag=False,
    )
    web.site.add(
        "/bai/bom-gzip-50001.html",
        Route(body=bomb, headers={"Content-Encoding": "gzip"}, etag=False),
    )
    web.add(
        "bomb-article",
        "/bomb-article.rss",
        "rss",
        None,
        body=rss(item(web.site.url("/bai/bom-gzip-50001.html"))),
        content_type=RSS_TYPE,
    )
    web.add(
        "gzip-bomb-sitemap",
        "/sitemap.xml.gz",
        "sitemap",
        "inflates beyond",
        body=bomb,
        content_type="application/x-gzip",
        etag=False,
    )
    web.add(
        "declared-huge",
        "/huge.rss",
        "rss",
        "response larger than",
        body=rss(""),
        declared_length=100 * 1024 * MIB,
        content_type=RSS_TYPE,
    )
    web.add(
        "streamed-huge",
        "/stream.rss",
        "rss",
        "response larger than",
        body=rss(item("/a") * 600_000),
        chunked=True,
        content_type=RSS_TYPE,
    )
    web.add(
        "empty-feed",
        "/empty.rss",
        "rss",
        "expected a feed but got an empty response",
        body=b"",
        content_type=RSS_TYPE,
    )


def slow_servers(web: HostileWeb) -> None:
    """One server trickles a byte a second; another accepts and never answers."""
    body = rss(item(web.site.url("/bai/never"))) * 20
    web.trickle.add("/feed.rss", Route(body=body, trickle_s=1.0, content_type=RSS_TYPE))
    web.watch("trickle", web.trickle.url("/feed.rss"), "rss", "timed out after")
    web.silent.add("/feed.rss", Route(hang=True))
    web.watch("never-answers", web.silent.url("/feed.rss"), "rss", "timed out after")


def redirects(web: HostileWeb) -> None:
    """Endless redirects, and redirects out of http(s)."""
    site = web.site
    for n in range(40):
        site.add(f"/loop/{n}", redirect(f"/loop/{n + 1}"))
    web.watch("endless-redirects", site.url("/loop/0"), "rss", "more than 5 redirects")
    site.add("/loop-a", redirect("/loop-b", 301))
    site.add("/loop-b", redirect("/loop-a", 308))
    web.watch("redirect-loop", site.url("/loop-a"), "rss", "redirect loop")
    site.add("/to-file.rss", redirect("file:///etc/passwd"))
    web.watch(
        "redirect-to-file",
        site.url("/to-file.rss"),
        "rss",
        "redirect to file:///etc/passwd: file scheme not allowed",
    )
    site.add("/to-ftp.rss", redirect("ftp://ftp.example.org/pub/feed.xml", 301))
    web.watch("redirect-to-ftp", site.url("/to-ftp.rss"), "rss", "ftp scheme not allowed")


def wrong_documents(web: HostileWeb) -> None:
    """HTML where a feed, a sitemap or an advertised feed belongs."""
    page = (
        b"<!DOCTYPE html><html><head><title>Trang chu</title></head>"
        b"<body><h1>Trang chu</h1></body></html>"
    )
    web.add(
        "html-as-feed",
        "/html.rss",
        "rss",
        "expected a feed but got an HTML page",
        body=page,
        content_type=RSS_TYPE,
    )
    web.add(
        "html-as-sitemap",
        "/html-sitemap.xml",
        "sitemap",
        "expected a sitemap but got an HTML page",
        body=page,
        content_type="text/html",
    )
    advert = (
        b'<html><head><link rel="alternate" type="application/rss+xml" '
        b'href="file:///etc/passwd"></head><body>Tin</body></html>'
    )
    web.add("feed-link-to-file", "/advert", "auto", "no feed advertised", body=advert)


def charsets(web: HostileWeb) -> None:
    """Wrong, missing and unknown charsets on a feed and its pages: titles stay right."""
    labelled_latin1 = web.page(
        "/bai/nhan-sai-latin-1-10001.html",
        "Hợp tác địa phương Việt - Lào",
        content_type="text/html; charset=iso-8859-1",
    )
    legacy = web.page(
        "/bai/ma-cu-windows-1258-10002.html",
        "Hội hữu nghị Việt - Pháp gặp mặt",
        content_type="text/html; charset=utf-8",
        encoding="cp1258",
        meta="windows-1258",
    )
    unlabelled = web.page(
        "/bai/khong-khai-bao-10003.html",
        "Thanh niên Việt Nam - Hàn Quốc giao lưu",
        content_type="text/html",
    )
    made_up = web.page(
        "/bai/bang-ma-la-10004.html",
        "Diễn đàn hợp tác khoa học Việt - Đức",
        content_type="text/html; charset=x-made-up-charset",
    )
    web.add(
        "wrong-charset",
        "/charset.rss",
        "rss",
        None,
        body=rss("".join(item(u) for u in (labelled_latin1, legacy, unlabelled))),
        content_type="application/rss+xml; charset=iso-8859-1",  # the bytes are UTF-8
    )
    web.add(
        "unknown-charset",
        "/unknown-charset.rss",
        "rss",
        None,
        body=rss(item(made_up)),
        content_type="application/rss+xml; charset=x-made-up-charset",
    )


def volume(web: HostileWeb, now: datetime) -> None:
    """A sitemap index of 10,000 children and a listing page of 50,000 links."""
    site = web.site
    children = "".join(
        f"<sitemap><loc>{site.url(f'/sm/{n}.xml')}</loc>"
        f"<lastmod>{(now - timedelta(minutes=n)).isoformat()}</lastmod></sitemap>"
        for n in range(10_000)
    )
    web.add(
        "huge-index",
        "/sitemap-index.xml",
        "sitemap",
        None,
        content_type=XML_TYPE,
        body=f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
        f'sitemap/0.9">{children}</sitemapindex>'.encode(),
    )
    for n in range(3):  # the three newest children are the only ones worth reading
        page = web.page(f"/bai/tu-so-do-con-{n}-2000{n}.html", f"Bài từ sơ đồ con số {n}")
        urlset = (
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9"><url><loc>{page}</loc></url></urlset>'
        )
        site.add(f"/sm/{n}.xml", Route(body=urlset.encode(), content_type=XML_TYPE))
    links = "".join(
        f'<li><a href="/lk/hop-tac-viet-nam-nhat-ban-so-{n}-{300000 + n}.html">Tin {n}</a></li>'
        for n in range(50_000)
    )
    web.add(
        "huge-listing",
        "/danh-sach",
        "listing",
        None,
        body=f"<html><head><title>Tin</title></head><body><ul>{links}</ul></body></html>".encode(),
    )


def duplicates_and_dates(web: HostileWeb, now: datetime) -> None:
    """Repeated GUIDs and links, undated items, and dates far in the future."""
    first = web.page("/bai/khong-ngay-thang-30001.html", "Tin không ghi ngày tháng thứ nhất")
    second = web.page("/bai/khong-ngay-thang-30002.html", "Tin không ghi ngày tháng thứ hai")
    web.site.add("/bai/trung-guid-30003.html", Route(body=article_html("Không được đọc").encode()))
    items = "".join(
        (
            item(first, guid="tin-30001"),
            item(web.site.url("/bai/trung-guid-30003.html"), guid="tin-30001"),  # same GUID
            item(first),  # same link
            item("file:///etc/passwd", guid="tin-file"),
            item("javascript:alert(1)", guid="tin-js"),
            item(second, guid="tin-30002"),
        )
    )
    web.add(
        "duplicates-undated", "/duplicates.rss", "rss", None, body=rss(items), content_type=RSS_TYPE
    )
    future = "2100-01-01T08:00:00+07:00"
    only_future = web.page(
        "/bai/ngay-tuong-lai-40001.html",
        "Tin ghi ngày ở tương lai",
        published=future,
        visible="01/01/2100 08:00",
    )
    # yesterday: today's 08:30 is still ahead in the first hours of a Vietnamese day
    shown = f"{now.astimezone(VIETNAM_TZ) - timedelta(days=1):%d/%m/%Y} 08:30"
    also_shown = web.page(
        "/bai/ngay-tuong-lai-co-ngay-that-40002.html",
        "Tin có ngày thật bên dưới",
        published=future,
        visible=shown,
    )
    dated = format_datetime(datetime(2100, 1, 1, tzinfo=UTC), usegmt=True)
    web.add(
        "future-dates",
        "/future.rss",
        "rss",
        None,
        content_type=RSS_TYPE,
        body=rss(item(only_future, date=dated) + item(also_shown, date=dated)),
    )


def hostile_web(now: datetime) -> HostileWeb:
    """Start the hostile servers with every case's routes."""
    web = HostileWeb(LocalSite("hostile"), LocalSite("trickle"), LocalSite("silent"))
    for site in (web.site, web.trickle, web.silent):
        site.start()
    try:
        for build in (
            xml_attacks,
            size_attacks,
            slow_servers,
            redirects,
            wrong_documents,
            charsets,
        ):
            build(web)
        volume(web, now)
        duplicates_and_dates(web, now)
    except BaseException:
        web.stop()
        raise
    return web


# --- one service run ----------------------------------------------------------------------


@dataclass
class Run:
    """What one `duta run` over the good and hostile sources left behind."""

    seeds: SeedSites
    web: HostileWeb
    database: str
    settings: Settings
    started_at: datetime
    settle_s: float  # until every source had a recorded outcome
    health: tuple[int, str]  # /healthz once everything had been polled
    stop_s: float
    returncode: int | None
    err: str

    @property
    def cases(self) -> dict[str, Case]:
        return {case.source.name: case for case in self.web.cases}

    def states(self) -> dict[str, SourceState]:
        with Store.open(self.database) as store:
            return store.source_states()

    def articles(self) -> list[StoredArticle]:
        with Store.open(self.database) as store:
            return store.articles_since(self.started_at - timedelta(days=1), limit=10_000)


def polled(database: str, names: list[str]) -> bool:
    """True once every named source has a recorded success or error."""
    with Store.open(database) as store:
        states = store.source_states()
    return all(
        name in states and (states[name].last_error or states[name].last_success_at)
        for name in names
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Start the seed sites, the hostile web and `duta run`; poll until all are settled."""
    tmp = tmp_path_factory.mktemp("hostile")
    seeds = start_seed_sites()
    started_at = datetime.now(UTC)
    web = hostile_web(started_at)
    database = sqlite_url(tmp)
    sources = [*seeds.sources(), *(case.source for case in web.cases)]
    port = free_port()
    env = service_env(
        tmp,
        seeds,
        database,
        DUTA_SOURCES=str(write_sources(tmp / "hostile-and-good.yaml", sources)),
        DUTA_EXTRACT_WORKERS="1",  # a real worker process: discovery and extraction run there
        DUTA_HTTP_PORT=str(port),
        DUTA_SHUTDOWN_S="2",
        **QUICK_TIMEOUTS,
    )
    duta = Duta(env, tmp / "run")
    try:
        clock = time.monotonic()
        names = [source.name for source in sources]
        deadline = clock + SETTLE_S
        while not polled(database, names):
            assert duta.process.poll() is None, f"duta run died: {duta.err[-3000:]}"
            assert time.monotonic() < deadline, f"sources never settled: {duta.err[-3000:]}"
            time.sleep(0.5)
        settle_s = time.monotonic() - clock
        health = get(f"http://127.0.0.1:{port}/healthz")
        stop_s = duta.stop()
        yield Run(
            seeds=seeds,
            web=web,
            database=database,
            settings=Settings.from_env(env),
            started_at=started_at,
            settle_s=settle_s,
            health=health,
            stop_s=stop_s,
            returncode=duta.process.returncode,
            err=duta.err,
        )
    finally:
        duta.kill()
        web.stop()
        seeds.stop()


# --- what an operator checks ----------------------------------------------------------------


def test_the_service_kept_running_and_stops_cleanly(run: Run) -> None:
    status, body = run.health
    assert status == 200, body
    assert run.returncode == 0, run.err[-3000:]
    assert run.stop_s < 2 + 3  # the shutdown bound, plus giving the batch up
    assert "Traceback" not in run.err
    # every hostile case, slow ones included, settles within its timeouts
    fetch = run.settings.fetch
    assert run.settle_s < fetch.total_timeout_s + 2 * fetch.read_timeout_s + 30


def test_good_sources_are_polled_and_stored_as_published(run: Run) -> None:
    states = run.states()
    for source in run.seeds.sources():
        state = states[source.name]
        assert state.last_error is None and state.last_success_at is not None, source.name
    with Store.open(run.database) as store:
        for expected in run.seeds.expected_articles():
            stored = store.article_by_url(canonical_url(expected.url))
            if expected.source is None:
                assert stored is None, expected.url
                continue
            assert stored is not None, expected.url
            assert stored.source == expected.source
            assert nfc(stored.title) == expected.title
            assert stored.published_at == expected.published_at
            assert expected.sentence in nfc(stored.text)


def expected_cases() -> list[str]:
    """Case names, for test ids (the catalogue is rebuilt by the fixture)."""
    return [
        "malformed-feed", "truncated-feed", "truncated-sitemap", "billion-laughs-feed",
        "billion-laughs-sitemap", "xxe-feed", "xxe-sitemap", "remote-dtd-feed", "gzip-bomb",
        "gzip-bomb-sitemap", "bomb-article", "declared-huge", "streamed-huge", "empty-feed",
        "trickle", "never-answers", "endless-redirects", "redirect-loop", "redirect-to-file",
        "redirect-to-ftp", "html-as-feed", "html-as-sitemap", "feed-link-to-file",
        "wrong-charset", "unknown-charset", "huge-index", "huge-listing", "duplicates-undated",
        "future-dates",
    ]  # fmt: skip


def test_the_catalogue_is_complete(run: Run) -> None:
    assert sorted(run.cases) == sorted(expected_cases())


@pytest.mark.parametrize("name", expected_cases())
def test_each_hostile_source_records_its_own_readable_error(run: Run, name: str) -> None:
    case = run.cases[name]
    state = run.states()[name]
    if case.error is None:
        assert state.last_error is None, state.last_error
        assert state.last_success_at is not None
        return
    assert state.last_error is not None and case.error in state.last_error, state.last_error
    assert state.consecutive_errors == 1  # backed off: not retried in a tight loop
    assert state.last_success_at is None
    assert state.next_check_at is not None and state.last_error_at is not None
    assert state.next_check_at > state.last_error_at
    assert len(state.last_error) < 300 and state.last_error.isprintable()
    assert "Traceback" not in state.last_error and "internal error" not in state.last_error


def test_reasons_name_the_limits_that_were_hit(run: Run) -> None:
    states = run.states()
    fetch = run.settings.fetch
    assert states["gzip-bomb"].last_error == f"response larger than {fetch.max_bytes} bytes"
    assert states["declared-huge"].last_error == f"response larger than {fetch.max_bytes} bytes"
    assert states["streamed-huge"].last_error == f"response larger than {fetch.max_bytes} bytes"
    assert states["trickle"].last_error == f"timed out after {fetch.total_timeout_s:g} s"
    assert states["never-answers"].last_error == f"timed out after {fetch.read_timeout_s:g} s"


def test_nothing_stored_is_corrupted(run: Run) -> None:
    path = run.database.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    latest = run.started_at + timedelta(days=1)
    articles = run.articles()
    assert articles
    for article in articles:
        for text in (article.title, article.text, article.lead or "", article.summary or ""):
            assert text == nfc(text) and "\x00" not in text and "\ufffd" not in text, article.url
            assert "&lol" not in text and "root:" not in text, article.url
        assert article.title.strip() and len(article.text) >= 280, article.url
        assert article.url.startswith("http://127.0.0.1:"), article.url
        assert article.published_at is None or article.published_at <= latest, article.url
    assert len({a.canonical_url for a in articles}) == len(articles)


def test_attacks_never_read_a_file_or_follow_an_entity(run: Run) -> None:
    hostile = run.web.site
    assert hostile.hits("/xxe-probe") == [] and hostile.hits("/evil.dtd") == []
    assert hostile.hits("/bai/never") == []  # the trickled feed was never read whole
    with sqlite3.connect(
        f"file:{run.database.removeprefix('sqlite:///')}?mode=ro", uri=True
    ) as conn:
        dump = "\n".join(conn.iterdump())
    assert "root:x:0:0" not in dump and "&lol" not in dump and "lollol" not in dump


def test_hostile_pages_are_stored_with_their_true_titles(run: Run) -> None:
    with Store.open(run.database) as store:
        for url, title in run.web.stored_titles.items():
            stored = store.article_by_url(canonical_url(url))
            assert stored is not None, url
            assert stored.title == title, url


def test_wrong_and_unknown_charsets_keep_every_page(run: Run) -> None:
    stored = {a.source: 0 for a in run.articles()}
    for article in run.articles():
        stored[article.source] += 1
    assert (stored.get("wrong-charset"), stored.get("unknown-charset")) == (3, 1)


def test_an_article_page_that_is_a_gzip_bomb_is_rejected_not_inflated(run: Run) -> None:
    limit = run.settings.fetch.max_bytes
    assert rejections(run, "bomb-article") == {
        run.web.site.url("/bai/bom-gzip-50001.html"): f"response larger than {limit} bytes"
    }


def test_huge_index_and_listing_cost_bounded_work(run: Run) -> None:
    hostile = run.web.site
    children = [r.path for r in hostile.requests if r.path.startswith("/sm/")]
    assert sorted(children) == ["/sm/0.xml", "/sm/1.xml", "/sm/2.xml"]
    articles = [r.path for r in hostile.requests if r.path.startswith("/lk/")]
    assert (
        len(articles) == len(set(articles)) == Source("x", "http://x/", "listing", "vi").max_items
    )
    # the first links of the page, not any 50 (their fetch order is the host queue's)
    first = {f"/lk/hop-tac-viet-nam-nhat-ban-so-{n}-{300000 + n}.html" for n in range(50)}
    assert set(articles) == first
    rejected = rejections(run, "huge-listing")
    assert len(rejected) == len(articles) and set(rejected.values()) == {"HTTP 404 Not Found"}


def test_duplicate_guids_and_links_are_read_once_and_missing_dates_stay_missing(run: Run) -> None:
    hostile = run.web.site
    assert hostile.hits("/bai/trung-guid-30003.html") == []
    assert len(hostile.hits("/bai/khong-ngay-thang-30001.html")) == 1
    mine = [a for a in run.articles() if a.source == "duplicates-undated"]
    assert sorted(a.title for a in mine) == [
        "Tin không ghi ngày tháng thứ hai",
        "Tin không ghi ngày tháng thứ nhất",
    ]
    assert {a.published_at for a in mine} == {None}


def test_dates_in_the_future_are_not_believed(run: Run) -> None:
    mine = {a.title: a for a in run.articles() if a.source == "future-dates"}
    assert mine["Tin ghi ngày ở tương lai"].published_at is None
    day = (run.started_at.astimezone(VIETNAM_TZ) - timedelta(days=1)).date()
    shown = datetime(day.year, day.month, day.day, 8, 30, tzinfo=VIETNAM_TZ)
    assert mine["Tin có ngày thật bên dưới"].published_at == shown


def rejections(run: Run, source: str) -> dict[str, str]:
    """The pages of `source` fetched but not stored, with the reason recorded."""
    path = run.database.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT url, reason FROM rejections WHERE source = ?", (source,))
        return dict(rows.fetchall())


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
