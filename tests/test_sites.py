"""Sanity checks of the local seed sites (tests/sites.py and tests/data/sites/).

These test the fixtures only: that feeds and sitemaps are well-formed, every linked page
is served, no placeholder or real seed-site host leaks into a served document, and every
article page extracts (with trafilatura, as Duta does) to its text without the page chrome.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import lxml.html
import pytest
import trafilatura
from protego import Protego

from tests.sites import (
    VIETNAM_TZ,
    ExpectedArticle,
    SeedSites,
    fill,
    seed_sites_fixture,  # noqa: F401
    start_seed_sites,
)

TODAY = date(2025, 12, 5)
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SEED_STORY_JAPAN = "vn-japan-quang-ninh-interview"
REAL_HOSTS = ("nhandan.vn", "baoquocte.vn", "thoidai.com.vn", "vietnam.vn")
SEED_STORIES = {
    "vn-europe-people-diplomacy",
    "vn-russia-local-cooperation",
    "digital-diplomacy-tccs",
    "vn-japan-quang-ninh-interview",
    "ngo-conference-2025",
}


@pytest.fixture
def sites() -> Iterator[SeedSites]:
    """The seed sites on a fixed day, so sitemap paths are known."""
    running = start_seed_sites(TODAY)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, trust_env=False) as c:  # straight to 127.0.0.1
        yield c


def _get(client: httpx.Client, url: str) -> httpx.Response:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response


def _xml(response: httpx.Response) -> ET.Element:
    return ET.fromstring(response.content)


def _feed_links(root: ET.Element) -> list[str]:
    return [(item.findtext("link") or "").strip() for item in root.iter("item")]


def _locs(root: ET.Element) -> list[str]:
    return [(loc.text or "").strip() for loc in root.iter(f"{SITEMAP_NS}loc")]


def _sitemap_pages(client: httpx.Client, index_url: str) -> tuple[set[str], set[str]]:
    """(child sitemaps, page URLs) reachable from a sitemap index."""
    children = set(_locs(_xml(_get(client, index_url))))
    pages: set[str] = set()
    for child in children:
        response = _get(client, child)
        assert response.headers["content-type"] == "application/xml"
        pages.update(_locs(_xml(response)))
    return children, pages


def _extract(html: str, url: str) -> tuple[str, str, str]:
    """(title, date, text) as trafilatura reads the page."""
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    assert doc is not None, f"{url}: nothing extracted"
    data = doc if isinstance(doc, dict) else doc.as_dict()
    # one page is published decomposed (NFD); compare as a reader reads, in NFC
    title, text = (unicodedata.normalize("NFC", data[k] or "") for k in ("title", "text"))
    return title, data["date"] or "", text


def _flat(text: str) -> str:
    return " ".join(text.split())


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def test_feeds_and_sitemaps_are_well_formed_xml(sites: SeedSites, client: httpx.Client) -> None:
    roots = {}
    for name in sites.sites:
        for path in sites.routes(name):
            response = _get(client, sites.url(name, path))
            content_type = response.headers["content-type"]
            if "xml" in content_type:
                roots[(name, path)] = (content_type, _xml(response).tag)
    assert roots[("nhandan", "/rss/thegioi-1231.rss")] == (
        "application/rss+xml; charset=utf-8",
        "rss",
    )
    assert roots[("baoquocte", "/rss_feed/")][1] == "rss"
    assert roots[("mirror", "/feed/")][1] == "rss"
    assert roots[("vietnamvn", "/sitemap.xml")] == ("application/xml", f"{SITEMAP_NS}sitemapindex")
    assert roots[("vietnamvn", "/news-sitemap.xml")][1] == f"{SITEMAP_NS}urlset"
    assert roots[("vietnamvn", "/sitemap/sitemap-post/2025-12-05.xml")][1] == f"{SITEMAP_NS}urlset"


def test_nhandan_feed_has_the_real_shape(sites: SeedSites, client: httpx.Client) -> None:
    raw = _get(client, sites.url("nhandan", "/rss/thegioi-1231.rss")).text
    channel = ET.fromstring(raw).find("channel")
    assert channel is not None
    assert channel.findtext("title") and channel.findtext("link")
    assert raw.count("<title><![CDATA[") == len(channel.findall("item"))
    ngo = next(i for i in channel.iter("item") if "post928020" in (i.findtext("link") or ""))
    assert ngo.findtext("pubDate") == "Thu, 04 Dec 2025 19:32:00 +0700"
    assert ngo.findtext("guid") == ngo.findtext("link")
    description = ngo.findtext("description") or ""
    assert description.startswith("<a href=") and "<img " in description
    assert "Hợp tác với các tổ chức phi chính phủ nước ngoài" in description


def test_every_linked_page_is_served_and_expected(sites: SeedSites, client: httpx.Client) -> None:
    linked: set[str] = set()
    for source in sites.sources():
        if source.kind == "rss":
            linked.update(_feed_links(_xml(_get(client, source.url))))
        elif source.kind == "sitemap":
            _, pages = _sitemap_pages(client, source.url)
            linked.update(pages)
        else:
            tree = lxml.html.fromstring(_get(client, source.url).text)
            linked.update(str(href) for href in tree.xpath("//article//a/@href"))
    for url in linked:
        assert _get(client, url).headers["content-type"] == "text/html; charset=utf-8"
    assert linked == {a.url for a in sites.expected_articles()}


def test_placeholders_are_filled_and_links_stay_local(
    sites: SeedSites, client: httpx.Client
) -> None:
    ports = {str(urlsplit(site.base).port) for site in sites.sites.values()}
    for name in sites.sites:
        for path in sites.routes(name):
            body = _get(client, sites.url(name, path)).text
            assert "{{" not in body and "}}" not in body, f"{name}{path}"
            for url in re.findall(r"https?://[^\s\"'<>)\]]+", body):
                host = urlsplit(url).hostname or ""
                assert not host.endswith(REAL_HOSTS), f"{name}{path} links out to {url}"
                if host == "127.0.0.1":
                    assert str(urlsplit(url).port) in ports, f"{name}{path}: {url}"


def test_article_pages_extract_to_their_text_without_chrome(
    sites: SeedSites, client: httpx.Client
) -> None:
    problems = []
    for article in sites.expected_articles():
        title, day, text = _extract(_get(client, article.url).text, article.url)
        if _flat(article.sentence) not in _flat(text):
            problems.append(f"{article.url}: sentence missing")
        leaked = [b for b in sites.boilerplate(article.site) if b in text]
        if leaked:
            problems.append(f"{article.url}: boilerplate {leaked}")
        if article.title not in title:
            problems.append(f"{article.url}: title {title!r}")
        if day != article.published_at.date().isoformat():
            problems.append(f"{article.url}: date {day}")
    assert problems == []


def test_article_pages_look_like_cms_pages(sites: SeedSites, client: httpx.Client) -> None:
    for article in sites.expected_articles():
        page = lxml.html.fromstring(_get(client, article.url).content)
        meta = {
            str(m.get("property") or m.get("name")): unicodedata.normalize("NFC", m.get("content"))
            for m in page.xpath("//head/meta[@content]")
        }
        where = article.url
        assert datetime.fromisoformat(meta["article:published_time"]) == article.published_at
        assert meta["og:type"] == "article", where
        assert meta["og:title"].startswith(article.title), where
        assert page.xpath("//head/link[@rel='canonical']/@href") == [article.url], where
        assert unicodedata.normalize("NFC", page.xpath("string(//h1)").strip()) == article.title
        assert page.get("lang", "").startswith(article.language), where
        assert len(page.xpath("//script")) >= 2, where
        assert page.xpath("//*[contains(@class, 'ads') or contains(@class, 'banner')]"), where
        assert page.xpath("//nav") and page.xpath("//footer"), where


def test_vietnamvn_sitemaps_are_dated_by_the_serving_day(
    sites: SeedSites, client: httpx.Client
) -> None:
    index = sites.url("vietnamvn", "/sitemap.xml")
    children, pages = _sitemap_pages(client, index)
    days = [(TODAY - timedelta(days=n)).isoformat() for n in range(4)]
    daily = {sites.url("vietnamvn", f"/sitemap/sitemap-post/{d}.xml") for d in days}
    assert children == daily | {sites.url("vietnamvn", "/news-sitemap.xml")}
    today_file = sites.url("vietnamvn", f"/sitemap/sitemap-post/{TODAY.isoformat()}.xml")
    listed_today = set(_locs(_xml(_get(client, today_file))))
    republished = [a for a in sites.expected_articles() if a.source == "vietnamvn"]
    assert {a.url for a in republished} <= listed_today
    assert {a.story for a in republished if a.language == "id"} == SEED_STORIES
    assert {a.language for a in republished} == {"id", "en"}
    assert all(a.published_at.date() == TODAY for a in republished)
    filtered = [a for a in sites.expected_articles() if a.site == "vietnamvn" and not a.source]
    assert filtered and all(a.url in pages for a in filtered)


def test_sitemaps_follow_todays_date_in_vietnam(
    seed_sites: SeedSites, client: httpx.Client
) -> None:
    today = datetime.now(VIETNAM_TZ).date()
    assert seed_sites.today == today
    _get(client, seed_sites.url("vietnamvn", f"/sitemap/sitemap-post/{today.isoformat()}.xml"))
    other = today - timedelta(days=7)
    missing = client.get(seed_sites.url("vietnamvn", f"/sitemap/sitemap-post/{other}.xml"))
    assert missing.status_code == 404


def test_credit_lines_point_at_the_served_originals(sites: SeedSites, client: httpx.Client) -> None:
    articles = sites.expected_articles()
    by_url = {a.url: a for a in articles}
    credited = [a for a in articles if a.credit_url]
    assert credited
    local = [a for a in credited if a.credit_url in by_url]
    assert {a.story for a in local} >= SEED_STORIES - {"digital-diplomacy-tccs"}
    for article in credited:
        _, _, text = _extract(_get(client, article.url).text, article.url)
        assert re.search(rf"^\w+ ?: {re.escape(str(article.credit_url))}$", text, re.M), article.url
        original = by_url.get(str(article.credit_url))
        if original is None:
            assert urlsplit(str(article.credit_url)).hostname != "127.0.0.1", article.url
        else:
            assert (original.story, original.credit_url) == (article.story, None)
    kept = [a.credit_url for a in credited if a.story == "digital-diplomacy-tccs"]
    assert kept and str(kept[0]).startswith("https://tapchicongsan.org.vn/")


def test_mirror_copy_matches_only_by_content(sites: SeedSites, client: httpx.Client) -> None:
    articles = sites.expected_articles()
    copy = next(a for a in articles if a.site == "mirror" and a.story == SEED_STORY_JAPAN)
    translation = next(a for a in articles if a.site == "vietnamvn" and a.story == SEED_STORY_JAPAN)
    copy_html = _get(client, copy.url).text
    _, _, copy_text = _extract(copy_html, copy.url)
    assert "Sumber" not in copy_text and copy.credit_url is None
    assert "baoquocte" not in copy_html and sites.base("baoquocte") not in copy_html
    mirror = _shingles(copy_text)
    for other in (a for a in articles if a.site == "vietnamvn" and a.language == "id"):
        _, _, other_text = _extract(_get(client, other.url).text, other.url)
        similarity = _jaccard(mirror, _shingles(other_text))
        if other.url == translation.url:
            assert 0.8 <= similarity < 1.0, similarity
        else:
            assert similarity < 0.2, (other.url, similarity)
    copy_title = lxml.html.fromstring(copy_html).findtext(".//title")
    translation_title = lxml.html.fromstring(_get(client, translation.url).content).findtext(
        ".//title"
    )
    assert copy_title and translation_title
    assert copy_title.lower().startswith(translation.title.lower())
    assert translation_title.lower().startswith(translation.title.lower())
    assert copy_title[len(translation.title) :] != translation_title[len(translation.title) :]


def test_sources_watch_the_served_documents(sites: SeedSites, client: httpx.Client) -> None:
    sources = sites.sources()
    assert [s.name for s in sources] == list(sites.sites)
    assert {s.kind for s in sources} == {"rss", "sitemap", "listing"}
    for source in sources:
        assert source.poll_interval_s == 60 and source.language in ("vi", "id")
        assert source.link_selector is None and source.link_pattern is None
        _get(client, source.url)
    vietnamvn = next(s for s in sources if s.kind == "sitemap")
    for article in (a for a in sites.expected_articles() if a.site == "vietnamvn"):
        included = any(re.search(p, article.url) for p in vietnamvn.include)
        assert included == (article.source == "vietnamvn"), article.url


def test_static_routes_answer_conditional_requests(sites: SeedSites, client: httpx.Client) -> None:
    for source in sites.sources():
        first = _get(client, source.url)
        again = client.get(source.url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


def test_thoidai_robots_disallows_admin_only(sites: SeedSites, client: httpx.Client) -> None:
    robots = Protego.parse(_get(client, sites.url("thoidai", "/robots.txt")).text)
    assert not robots.can_fetch(sites.url("thoidai", "/admin/login"), "Duta")
    thoidai = [a.url for a in sites.expected_articles() if a.site == "thoidai"]
    for url in [sites.url("thoidai", "/huu-nghi/"), *thoidai]:
        assert robots.can_fetch(url, "Duta"), url


def test_thoidai_leads_and_listing(sites: SeedSites, client: httpx.Client) -> None:
    listing = lxml.html.fromstring(_get(client, sites.url("thoidai", "/huu-nghi/")).content)
    leads = [
        str(d.text_content()).strip() for d in listing.xpath("//article//*[@class='article-desc']")
    ]
    assert len(leads) == 2 and all(lead.startswith("TĐO –") for lead in leads)
    nav = {str(h) for h in listing.xpath("//nav//a/@href")}
    assert sites.url("thoidai", "/huu-nghi/") in nav
    assert listing.xpath("//*[contains(@class, 'pagination')]//a")
    assert listing.xpath("//*[contains(@class, 'most-read')]//a")
    for article in (a for a in sites.expected_articles() if a.site == "thoidai"):
        page = lxml.html.fromstring(_get(client, article.url).content)
        assert page.xpath("string(//*[contains(@class, 'article-detail-desc')])").startswith(
            "TĐO –"
        )


@pytest.mark.parametrize(
    ("text", "filled"),
    [
        ("{{nhandan}}/rss/thegioi-1231.rss", "http://n.test/rss/thegioi-1231.rss"),
        ("/sitemap/sitemap-post/{{today}}.xml", "/sitemap/sitemap-post/2025-12-05.xml"),
        ("{{today-2}}T09:10:00+07:00", "2025-12-03T09:10:00+07:00"),
        ("Báo Quảng Ninh{{today-1:dmy}}", "Báo Quảng Ninh04/12/2025"),
        ("{ not a placeholder }", "{ not a placeholder }"),
    ],
)
def test_fill_substitutes_bases_and_dates(text: str, filled: str) -> None:
    assert fill(text, {"nhandan": "http://n.test"}, TODAY) == filled


@pytest.mark.parametrize("text", ["{{tapchicongsan}}", "{{nhandan-1}}", "{{nhandan:dmy}}"])
def test_fill_rejects_unknown_placeholders(text: str) -> None:
    with pytest.raises(ValueError, match="unknown placeholder"):
        fill(text, {"nhandan": "http://n.test"}, TODAY)


def _stories(articles: list[ExpectedArticle]) -> dict[str, set[str]]:
    stories: dict[str, set[str]] = {}
    for article in articles:
        stories.setdefault(article.story, set()).add(article.site)
    return stories


def test_story_groups_join_original_translation_and_copy(sites: SeedSites) -> None:
    stories = _stories(sites.expected_articles())
    assert stories[SEED_STORY_JAPAN] == {"baoquocte", "vietnamvn", "mirror"}
    assert stories["ngo-conference-2025"] == {"nhandan", "vietnamvn"}
    assert stories["vn-europe-people-diplomacy"] == {"thoidai", "vietnamvn"}
    assert stories["vn-russia-local-cooperation"] == {"thoidai", "vietnamvn"}
    off_topic = [a for a in sites.expected_articles() if not a.relevant and a.source]
    assert {a.site for a in off_topic} >= {"nhandan", "baoquocte", "mirror"}
