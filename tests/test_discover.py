"""Discovery stage: feeds, sitemaps, listing pages and `auto` sources, from fixture files."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.discover import (
    discover,
    find_feed_link,
    is_article_url,
    parse_feed,
    parse_listing,
    parse_sitemap,
    select_items,
)
from bot.discover.sitemaps import MAX_INFLATED_BYTES
from bot.discover.values import parse_w3c_datetime
from bot.errors import ConfigError, ParseError
from bot.models import FeedItem, Response, Source, SourceKind
from tests.httpserver import LocalSite

DATA = Path(__file__).parent / "data" / "discover"
NOW = datetime(2025, 12, 4, 11, 0, tzinfo=UTC)  # 18:00 in Hanoi

NHANDAN_RSS = "https://nhandan.vn/rss/thegioi-1231.rss"
BAOQUOCTE_RSS = "https://baoquocte.vn/rss_feed/"
VIETNAM_INDEX = "https://www.vietnam.vn/sitemap.xml"
VIETNAM_DAY = "https://www.vietnam.vn/sitemap/sitemap-post/2025-12-04.xml"
THOIDAI_LISTING = "https://thoidai.com.vn/doi-ngoai-nhan-dan"
THOIDAI = "https://thoidai.com.vn/"
RSS = "application/rss+xml"
XML = "application/xml"
HTML = "text/html; charset=utf-8"


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def respond(body: bytes | str, url: str, content_type: str = XML) -> Response:
    content = body.encode("utf-8") if isinstance(body, str) else body
    return Response(url=url, status=200, content=content, headers={"content-type": content_type})


def source(kind: SourceKind = "rss", url: str = NHANDAN_RSS, **settings: object) -> Source:
    return Source(name="test-source", url=url, kind=kind, language="vi", **settings)  # type: ignore[arg-type]


def urls(items: tuple[FeedItem, ...]) -> list[str]:
    return [item.url for item in items]


# --- feeds -------------------------------------------------------------------------------


def test_nhandan_rss_items_in_document_order_without_duplicates_or_linkless_entries() -> None:
    found = parse_feed(
        source(), respond(fixture("nhandan-thegioi-1231.rss"), NHANDAN_RSS, RSS), now=NOW
    )

    assert found.title == "Thế giới - Báo Nhân Dân điện tử"
    assert urls(found.items) == [
        "https://nhandan.vn/tang-cuong-hieu-qua-hop-tac-giua-viet-nam-va-cac-to-chuc-phi-chinh-phu-nuoc-ngoai-post928020.html",
        "https://nhandan.vn/quan-he-viet-nam-nhat-ban-diem-sang-hop-tac-dia-phuong-post927990.html",
        "https://nhandan.vn/giao-luu-nhan-dan-viet-nam-lien-bang-nga-tai-thanh-pho-ho-chi-minh-post928041.html",
        "https://nhandan.vn/dien-dan-hop-tac-khoa-hoc-cong-nghe-viet-nam-chau-au-post928100.html",
        "https://nhandan.vn/thuc-day-giao-luu-thanh-nien-asean-post927500.html",
    ]
    first = found.items[0]
    assert first.source == "test-source"
    assert first.title == (
        "Tăng cường hiệu quả hợp tác giữa Việt Nam và các tổ chức phi chính phủ nước ngoài"
    )
    assert first.published_at == datetime(2025, 12, 4, 9, 42, tzinfo=UTC)  # 16:42 +0700
    assert first.guid == "post928020"
    assert first.language == "vi"  # from <language>vi-VN</language>
    assert first.summary is not None
    assert first.summary.startswith("Ngày 4/12, tại Hà Nội, Liên hiệp các tổ chức hữu nghị")
    assert "<" not in first.summary and "img" not in first.summary


def test_feed_dates_far_in_the_future_or_missing_become_none() -> None:
    found = parse_feed(
        source(), respond(fixture("nhandan-thegioi-1231.rss"), NHANDAN_RSS, RSS), now=NOW
    )
    by_guid = {item.guid: item for item in found.items}

    assert by_guid["post928100"].published_at is None  # dated March 2027
    assert by_guid["post927500"].published_at is None  # no pubDate at all
    # The same feed read in 2027 keeps that date: it is only "future" relative to now.
    later = parse_feed(
        source(),
        respond(fixture("nhandan-thegioi-1231.rss"), NHANDAN_RSS, RSS),
        now=datetime(2027, 3, 1, tzinfo=UTC),
    )
    assert {i.guid: i.published_at for i in later.items}["post928100"] == datetime(
        2027, 3, 1, 2, 0, tzinfo=UTC
    )


def test_baoquocte_rss_feed_resolves_relative_links_and_strips_html_from_summaries() -> None:
    found = parse_feed(
        source(url=BAOQUOCTE_RSS),
        respond(fixture("baoquocte-rss_feed.xml"), BAOQUOCTE_RSS, "text/xml"),
        now=NOW,
    )

    assert urls(found.items)[1] == (
        "https://baoquocte.vn/lien-hiep-cac-to-chuc-huu-nghi-gap-mat-doan-ngoai-giao-335470.html"
    )
    assert found.items[1].title == (
        "Liên hiệp các tổ chức hữu nghị gặp mặt Đoàn ngoại giao & tổ chức quốc tế"
    )
    assert [item.summary for item in found.items] == [
        "TGVN. Quan hệ Việt Nam - Nhật Bản đang ở giai đoạn tốt đẹp nhất từ trước đến nay.",
        "TGVN. Buổi gặp mặt thân mật cuối năm với đại diện các cơ quan đại diện nước ngoài.",
        "TGVN. Nhiều hoạt động văn hóa đặc sắc được tổ chức tại nước ngoài.",
    ]
    assert found.items[2].published_at == datetime(2025, 12, 3, 14, 40, tzinfo=UTC)


def test_atom_feed_titles_summaries_dates_and_language() -> None:
    url = "https://en.nhandan.vn/atom/world.xml"
    found = parse_feed(
        source("atom", url),
        respond(fixture("en-nhandan-atom.xml"), url, "application/atom+xml"),
        now=NOW,
    )

    assert found.title == "Nhan Dan Online - World"
    assert [(i.url, i.title) for i in found.items] == [
        (
            "https://en.nhandan.vn/vietnam-and-france-boost-decentralised-cooperation-post151200.html",
            "Vietnam and France boost decentralised cooperation",
        ),
        (
            "https://en.nhandan.vn/youth-exchange-programme-links-hanoi-and-seoul-post151180.html",
            "Youth exchange programme links Hanoi and Seoul",
        ),
    ]
    assert found.items[0].summary == (
        "The 13th Vietnam–France decentralised cooperation conference "
        "brought together 40 localities."
    )
    assert found.items[0].published_at == datetime(2025, 12, 4, 2, 0, tzinfo=UTC)
    assert found.items[1].published_at == datetime(2025, 12, 4, 3, 15, tzinfo=UTC)  # <updated>
    assert {item.language for item in found.items} == {"en"}


def test_malformed_feed_without_entries_is_a_parse_error_naming_the_url() -> None:
    url = "https://thoidai.com.vn/rss_feed/"
    with pytest.raises(ParseError) as caught:
        parse_feed(
            source(url=url), respond(fixture("thoidai-rss-truncated.xml"), url, RSS), now=NOW
        )

    assert caught.value.url == url
    assert caught.value.reason.startswith("malformed XML: ")
    assert "line 6" in caught.value.reason


def test_slightly_broken_feed_with_entries_is_read_leniently() -> None:
    url = "https://thoidai.com.vn/rss_feed/"
    found = parse_feed(
        source(url=url), respond(fixture("thoidai-rss-bare-ampersand.xml"), url, RSS), now=NOW
    )

    assert urls(found.items) == [
        "https://thoidai.com.vn/van-hoa-du-lich-cau-noi-huu-nghi-viet-nam-han-quoc-217660.html",
        "https://thoidai.com.vn/hop-tac-r-d-giua-cac-truong-dai-hoc-viet-nam-va-duc-217655.html",
    ]
    assert found.items[0].title == "Văn hóa & du lịch: Cầu nối hữu nghị Việt Nam - Hàn Quốc"


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", RSS, ""])
def test_html_page_where_a_feed_was_expected(content_type: str) -> None:
    url = "https://baoquocte.vn/rss/the-gioi.rss"
    with pytest.raises(ParseError, match="expected a feed but got an HTML page"):
        parse_feed(
            source(url=url), respond(fixture("baoquocte-404.html"), url, content_type), now=NOW
        )


def test_empty_but_valid_feed_is_not_an_error() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Thời Đại - Hữu nghị</title><link>https://thoidai.com.vn/huu-nghi</link>"
        "<description>Chưa có bài viết</description></channel></rss>"
    )
    # text/plain makes feedparser complain about the media type, which is no reason to fail
    found = parse_feed(source(), respond(body, NHANDAN_RSS, "text/plain"), now=NOW)

    assert found.items == ()
    assert found.title == "Thời Đại - Hữu nghị"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "expected a feed but got an empty response"),
        (b"  \n ", "expected a feed but got an empty response"),
        (fixture("vietnamvn-sitemap.xml"), "expected an RSS or Atom feed but got a sitemap"),
        (b'{"items": []}', "expected an RSS or Atom feed but got"),
    ],
)
def test_feed_of_the_wrong_kind(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_feed(source(), respond(body, NHANDAN_RSS), now=NOW)


def test_feed_body_that_names_a_local_file_is_not_opened(tmp_path: Path) -> None:
    planted = tmp_path / "feed.rss"
    planted.write_bytes(fixture("baoquocte-rss_feed.xml"))

    with pytest.raises(ParseError):
        parse_feed(source(), respond(str(planted), NHANDAN_RSS, "text/plain"), now=NOW)


def test_feed_external_entities_are_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN-4242")
    body = fixture("xxe-feed.rss").replace(b"SECRET_FILE_URL", secret.as_uri().encode())

    with pytest.raises(ParseError) as caught:
        parse_feed(source(url=BAOQUOCTE_RSS), respond(body, BAOQUOCTE_RSS), now=NOW)

    assert caught.value.reason == "refused: the feed declares an external XML entity (secret)"
    assert caught.value.url == BAOQUOCTE_RSS


def test_billion_laughs_feed_is_refused_without_expansion() -> None:
    laughs = fixture("billion-laughs-sitemap.xml").split(b"<urlset")[0].replace(b"urlset", b"rss")
    body = laughs + fixture("nhandan-thegioi-1231.rss").split(b"?>", 1)[1]

    with pytest.raises(ParseError) as caught:
        parse_feed(source(), respond(body, NHANDAN_RSS, RSS), now=NOW)

    assert caught.value.reason == (
        "refused: the feed declares nested XML entities (lol1), an entity-expansion attack"
    )


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY tieude "Thế giới">]>',
        # a Latin-1 entity set named by URL, as old feeds declare it: never fetched
        '<!DOCTYPE rss [<!ENTITY % HTMLlat1 PUBLIC "-//W3C//ENTITIES Latin 1 for XHTML//EN" '
        '"http://127.0.0.1:9/xhtml-lat1.ent">%HTMLlat1;]>',
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://127.0.0.1:9/rss-0.91.dtd">',
    ],
    ids=["plain-entities", "parameter-entity-set", "external-dtd"],
)
def test_feeds_with_harmless_doctypes_are_read(doctype: str) -> None:
    head, rest = fixture("nhandan-thegioi-1231.rss").split(b"?>", 1)
    body = head + b"?>" + doctype.encode() + rest

    found = parse_feed(source(), respond(body, NHANDAN_RSS, RSS), now=NOW)

    expected = parse_feed(
        source(), respond(fixture("nhandan-thegioi-1231.rss"), NHANDAN_RSS, RSS), now=NOW
    )
    assert urls(found.items) == urls(expected.items) and found.items


# --- sitemaps ----------------------------------------------------------------------------


def test_vietnam_index_yields_only_the_freshest_daily_sitemaps() -> None:
    found = parse_sitemap(
        source("sitemap", VIETNAM_INDEX),
        respond(fixture("vietnamvn-sitemap.xml"), VIETNAM_INDEX),
        now=NOW,
    )

    assert found.items == ()
    assert found.children == (
        "https://www.vietnam.vn/sitemap/sitemap-post/2025-12-04.xml",  # lastmod today 17:20
        "https://www.vietnam.vn/sitemap/sitemap-post/2024-02-10.xml",  # re-generated today 08:00
        "https://www.vietnam.vn/sitemap/sitemap-post/2025-12-03.xml",  # lastmod yesterday 23:59
    )


def test_index_children_limit_and_age_are_parameters() -> None:
    index = respond(fixture("vietnamvn-sitemap.xml"), VIETNAM_INDEX)

    wide = parse_sitemap(source("sitemap", VIETNAM_INDEX), index, now=NOW, max_children=5)
    assert len(wide.children) == 4  # only four children are within two days
    assert wide.children[-1] == "https://www.vietnam.vn/sitemap/sitemap-post/2025-12-02.xml"

    a_week_later = parse_sitemap(
        source("sitemap", VIETNAM_INDEX), index, now=NOW + timedelta(days=7)
    )
    assert a_week_later.children == ()


def test_monthly_sitemaps_are_dated_by_their_url() -> None:
    url = "https://www.vietnamplus.vn/sitemap.xml"
    found = parse_sitemap(
        source("sitemap", url), respond(fixture("vietnamplus-sitemap-index.xml"), url), now=NOW
    )

    # November ended more than two days ago; January 2026 has not begun; categories are undated.
    assert found.children == ("https://www.vietnamplus.vn/sitemaps/news-2025-12.xml",)


def test_a_small_index_gives_its_undated_children_too() -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>https://baoquocte.vn/sitemap-news.xml</loc></sitemap>"
        "<sitemap><loc>/sitemap-posts.xml</loc><lastmod>2025-12-04T09:00:00+07:00</lastmod></sitemap>"
        "<sitemap><loc>https://baoquocte.vn/sitemap-pages.xml</loc></sitemap>"
        "</sitemapindex>"
    )
    found = parse_sitemap(
        source("sitemap"), respond(body, "https://baoquocte.vn/sitemap.xml"), now=NOW
    )

    assert found.children == (
        "https://baoquocte.vn/sitemap-posts.xml",
        "https://baoquocte.vn/sitemap-news.xml",
        "https://baoquocte.vn/sitemap-pages.xml",
    )


def test_ten_thousand_child_index_yields_the_three_newest_days() -> None:
    days = [datetime(2025, 12, 4) - timedelta(days=n) for n in range(10_000)]
    random.Random(7).shuffle(days)
    children = "".join(
        f"<sitemap><loc>https://www.vietnam.vn/sitemap/sitemap-post/{d:%Y-%m-%d}.xml</loc></sitemap>"
        for d in days
    )
    body = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'

    found = parse_sitemap(source("sitemap", VIETNAM_INDEX), respond(body, VIETNAM_INDEX), now=NOW)

    assert found.children == tuple(
        f"https://www.vietnam.vn/sitemap/sitemap-post/2025-12-0{day}.xml" for day in (4, 3, 2)
    )


def test_daily_sitemap_items_with_google_news_fields() -> None:
    found = parse_sitemap(
        source("sitemap", VIETNAM_DAY),
        respond(fixture("vietnamvn-sitemap-post-2025-12-04.xml"), VIETNAM_DAY),
        now=NOW,
    )
    rows = [(i.url, i.title, i.published_at, i.language) for i in found.items]

    assert rows == [
        (
            "https://www.vietnam.vn/id/mendorong-hubungan-rakyat-vietnam-eropa-dari-koneksi-pakar-hingga-kerja-sama-sains-dan-teknologi",
            "Mendorong hubungan rakyat Vietnam–Eropa: dari koneksi pakar hingga kerja sama "
            "sains dan teknologi",
            datetime(2025, 12, 4, 8, 58, tzinfo=UTC),  # news:publication_date wins over lastmod
            "id",
        ),
        (
            "https://www.vietnam.vn/en/vietnam-and-russia-promote-people-to-people-exchange-and-local-cooperation",
            "Vietnam and Russia promote people-to-people exchange & local cooperation",
            datetime(2025, 12, 4, 7, 12, 31, tzinfo=UTC),
            "en",
        ),
        (
            "https://www.vietnam.vn/thuc-day-quan-he-nhan-dan-viet-nam-chau-au",
            "Thúc đẩy quan hệ nhân dân Việt Nam – châu Âu: Từ kết nối chuyên gia, học giả "
            "đến hợp tác khoa học công nghệ",
            datetime(2025, 12, 4, 2, 31, tzinfo=UTC),
            "vi",
        ),
        (
            "https://www.vietnam.vn/vi/nhieu-de-xuat-thuc-day-giao-luu-nhan-dan-va-hop-tac-dia-phuong-viet-nga",
            None,
            datetime(2025, 12, 4, 4, 3, tzinfo=UTC),
            None,
        ),
        (
            "https://www.vietnam.vn/id/titik-terang-di-peta-kerja-sama-vietnam-jepang",
            None,
            datetime(2025, 12, 3, 17, 0, tzinfo=UTC),  # a bare date is midnight in Hanoi
            None,
        ),
        (
            "https://www.vietnam.vn/zh/越南与日本地方合作的亮点",
            None,
            datetime(2025, 12, 4, 8, 15, tzinfo=UTC),
            None,
        ),
        ("https://www.vietnam.vn/en/asean-youth-forum-opens-in-da-nang", None, None, None),
    ]
    assert not any("vphoto" in item.url for item in found.items)  # image:loc is not an article


def test_gzip_sitemap_reads_like_the_plain_one() -> None:
    plain = fixture("vietnamvn-sitemap-post-2025-12-04.xml")
    url = VIETNAM_DAY + ".gz"

    zipped = parse_sitemap(
        source("sitemap", url), respond(gzip.compress(plain), url, "application/x-gzip"), now=NOW
    )
    expected = parse_sitemap(source("sitemap", url), respond(plain, url), now=NOW)

    assert zipped.items == expected.items
    assert len(zipped.items) == 7


def test_gzip_bomb_stops_at_the_size_cap() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_INFLATED_BYTES + 1) + b"</urlset>")
    assert len(bomb) < 100_000

    with pytest.raises(ParseError, match="inflates beyond 20 MB"):
        parse_sitemap(source("sitemap"), respond(bomb, VIETNAM_DAY + ".gz"), now=NOW)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (gzip.compress(b"<urlset></urlset>")[:-12], "truncated gzip data"),
        (b"\x1f\x8b\x08\x00garbage-not-deflate", "corrupt gzip data"),
    ],
)
def test_broken_gzip_sitemap(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_sitemap(source("sitemap"), respond(body, VIETNAM_DAY + ".gz"), now=NOW)


def test_malformed_sitemap_names_line_and_column() -> None:
    body = b'<?xml version="1.0"?>\n<urlset>\n<url><loc>https://www.vietnam.vn/a</url>\n</urlset>'

    with pytest.raises(ParseError) as caught:
        parse_sitemap(source("sitemap"), respond(body, VIETNAM_DAY), now=NOW)

    assert caught.value.reason == (
        "malformed XML: Opening and ending tag mismatch: loc line 3 and url at line 3, column 41"
    )


def test_billion_laughs_sitemap_is_refused_without_expansion() -> None:
    with pytest.raises(ParseError) as caught:
        parse_sitemap(
            source("sitemap"), respond(fixture("billion-laughs-sitemap.xml"), VIETNAM_DAY), now=NOW
        )

    assert "declares XML entities" in caught.value.reason
    assert "lollol" not in str(caught.value)


def test_xxe_sitemap_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN-4242")
    body = fixture("xxe-sitemap.xml").replace(b"SECRET_FILE_URL", secret.as_uri().encode())

    with pytest.raises(ParseError) as caught:
        parse_sitemap(source("sitemap"), respond(body, VIETNAM_DAY), now=NOW)

    assert "SECRET-TOKEN" not in str(caught.value)


def test_sitemap_entities_declared_beyond_the_first_block_are_still_refused() -> None:
    padding = "<!-- " + "đệm " * 20_000 + "-->"
    body = fixture("xxe-sitemap.xml").decode().replace("<!DOCTYPE", padding + "<!DOCTYPE")

    with pytest.raises(ParseError, match="declares XML entities"):
        parse_sitemap(source("sitemap"), respond(body, VIETNAM_DAY), now=NOW)


def test_sitemap_with_a_remote_dtd_makes_no_request(site: LocalSite) -> None:
    site.add("/sitemap.dtd", b'<!ENTITY leak "LEAKED">', content_type="application/xml-dtd")
    body = fixture("xxe-remote-dtd-sitemap.xml").replace(b"REMOTE_BASE", site.base.encode())

    found = parse_sitemap(source("sitemap"), respond(body, VIETNAM_DAY), now=NOW)

    # The <loc> that uses the undefined entity is dropped, not truncated to the section URL.
    assert urls(found.items) == [
        "https://www.vietnam.vn/en/vietnam-and-russia-promote-people-to-people-exchange-and-local-cooperation"
    ]
    assert "LEAKED" not in repr(found)
    assert site.requests == []


@pytest.mark.parametrize(
    ("name", "content_type", "reason"),
    [
        ("thoidai-doi-ngoai-nhan-dan.html", HTML, "expected a sitemap but got an HTML page"),
        ("baoquocte-404.html", XML, "expected a sitemap but got an HTML page"),
        ("nhandan-thegioi-1231.rss", RSS, "expected a sitemap but got an RSS/Atom feed"),
        ("thoidai-rss-truncated.xml", XML, "malformed XML"),
    ],
)
def test_sitemap_of_the_wrong_kind(name: str, content_type: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        parse_sitemap(source("sitemap"), respond(fixture(name), VIETNAM_DAY, content_type), now=NOW)
    assert caught.value.url == VIETNAM_DAY


# --- listing pages -----------------------------------------------------------------------

THOIDAI_ARTICLES = [
    "https://thoidai.com.vn/thuc-day-quan-he-nhan-dan-viet-nam-chau-au-tu-ket-noi-chuyen-gia-hoc-gia-den-hop-tac-khoa-hoc-cong-nghe-217657.html",
    "https://thoidai.com.vn/nhieu-de-xuat-thuc-day-giao-luu-nhan-dan-va-hop-tac-dia-phuong-viet-nga-216676.html",
    "https://www.thoidai.com.vn/lien-hiep-huu-nghi-ha-noi-gap-mat-cac-to-chuc-phi-chinh-phu-217640.html",
    "https://thoidai.com.vn/nhat-ban-trao-hoc-bong-cho-sinh-vien-viet-nam-217611.html",
    "https://thoidai.com.vn/hoi-huu-nghi-viet-nam-phap-ky-niem-30-nam-ngay-thanh-lap.html",
    "https://thoidai.com.vn/doi-ngoai-nhan-dan/gap-go-huu-nghi-cac-the-he-thanh-nien-viet-nam-va-lao-tren-dat-ban",
    "https://thoidai.com.vn/to-chuc-phi-chinh-phu-nuoc-ngoai-dong-hanh-cung-viet-nam-216900.html",
    "https://thoidai.com.vn/ky-niem-75-nam-quan-he-ngoai-giao-viet-nam-trung-quoc-216512.html",
]


def thoidai_page() -> Response:
    return respond(fixture("thoidai-doi-ngoai-nhan-dan.html"), THOIDAI_LISTING, HTML)


def test_thoidai_listing_keeps_articles_and_drops_boilerplate() -> None:
    found = parse_listing(source("listing", THOIDAI_LISTING), thoidai_page())

    assert found.title == "Đối ngoại nhân dân - Thời Đại"
    assert urls(found.items) == THOIDAI_ARTICLES
    assert {item.source for item in found.items} == {"test-source"}


def test_listing_titles_are_the_most_descriptive_link_text() -> None:
    titles = [item.title for item in parse_listing(source("listing"), thoidai_page()).items]

    # The thumbnail's title attribute and the shorter sidebar text lose to the headline.
    assert titles[0] == (
        "Thúc đẩy quan hệ nhân dân Việt Nam - châu Âu: Từ kết nối chuyên gia, học giả "
        "đến hợp tác khoa học công nghệ"
    )
    # "Bình luận (3)" links to the same article with a #fragment and does not win.
    assert titles[1] == (
        "Nhiều đề xuất thúc đẩy giao lưu nhân dân và hợp tác địa phương Việt - Nga"
    )


def test_listing_link_selector() -> None:
    chosen = source("listing", link_selector="section.category-news h3.story__title a")

    assert urls(parse_listing(chosen, thoidai_page()).items) == THOIDAI_ARTICLES[1:6]


def test_listing_link_selector_on_containers_takes_their_first_link() -> None:
    chosen = source("listing", link_selector="article.story")

    assert urls(parse_listing(chosen, thoidai_page()).items) == THOIDAI_ARTICLES[:6]


def test_listing_link_pattern() -> None:
    chosen = source("listing", link_pattern=r"^https://thoidai\.com\.vn/[^/]+-217\d{3}\.html$")

    assert urls(parse_listing(chosen, thoidai_page()).items) == [
        THOIDAI_ARTICLES[0],
        THOIDAI_ARTICLES[3],
    ]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"link_selector": "a[href"}, "link_selector"),
        ({"link_pattern": "(unclosed"}, "link_pattern"),
    ],
)
def test_listing_settings_that_do_not_compile(settings: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_listing(source("listing", **settings), thoidai_page())
    assert caught.value.field == field
    assert "test-source" in str(caught.value)


def test_listing_page_with_fifty_thousand_links() -> None:
    rows = "".join(
        f'<li><a href="/bai-viet-so-{n}-ve-huu-nghi-{100000 + n % 25_000}.html">Bài {n}</a></li>'
        for n in range(50_000)
    )
    body = f"<html><head><title>Lưu trữ</title></head><body><ul>{rows}</ul></body></html>"

    found = parse_listing(source("listing"), respond(body, THOIDAI_LISTING, HTML))

    assert len(found.items) == 50_000
    assert found.items[0].url == "https://thoidai.com.vn/bai-viet-so-0-ve-huu-nghi-100000.html"
    assert found.items[-1].title == "Bài 49999"


def test_listing_repeated_links_are_kept_once_in_first_position() -> None:
    rows = "".join(
        f'<a href="/tin-{n % 1000}-hop-tac-viet-nam-{200000 + n % 1000}.html">Tin {n % 1000}</a>'
        for n in range(50_000)
    )
    found = parse_listing(
        source("listing"), respond(f"<html><body>{rows}</body></html>", THOIDAI_LISTING, HTML)
    )

    assert len(found.items) == 1000
    assert [item.title for item in found.items[:3]] == ["Tin 0", "Tin 1", "Tin 2"]


def test_listing_without_charset_is_read_as_utf8() -> None:
    body = "<html><head><title>Hữu nghị Việt – Nga</title></head><body></body></html>"
    found = parse_listing(source("listing"), respond(body, THOIDAI_LISTING, "text/html"))

    assert found.title == "Hữu nghị Việt – Nga"


def test_listing_http_charset_wins_over_a_wrong_meta_charset() -> None:
    body = '<html><head><meta charset="iso-8859-1"><title>Thời Đại</title></head></html>'
    found = parse_listing(
        source("listing"), respond(body, THOIDAI_LISTING, "text/html; charset=UTF-8")
    )

    assert found.title == "Thời Đại"


def test_listing_meta_charset_is_honoured_without_an_http_charset() -> None:
    body = '<html><head><meta charset="windows-1252"><title>Café Genève</title></head></html>'
    found = parse_listing(
        source("listing"), respond(body.encode("windows-1252"), THOIDAI_LISTING, "text/html")
    )

    assert found.title == "Café Genève"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("nhandan-thegioi-1231.rss", "expected a listing page but got an RSS/Atom feed"),
        ("vietnamvn-sitemap.xml", "expected a listing page but got a sitemap"),
    ],
)
def test_listing_of_the_wrong_kind(name: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_listing(source("listing"), respond(fixture(name), THOIDAI_LISTING, HTML))


def test_empty_listing_page_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="empty response"):
        parse_listing(source("listing"), respond(b"", THOIDAI_LISTING, HTML))


# --- the URL heuristic -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        # articles
        ("/thuc-day-quan-he-nhan-dan-viet-nam-chau-au-217657.html", True),
        ("https://www.thoidai.com.vn/lien-hiep-huu-nghi-ha-noi-217640.html", True),
        ("//thoidai.com.vn/nhat-ban-trao-hoc-bong-217611.html", True),
        ("/hoi-huu-nghi-viet-nam-phap-ky-niem.html", True),
        ("/hoi-huu-nghi-viet-nam-phap-ky-niem-30-nam-ngay-thanh-lap", True),
        ("/web/guest/doi-ngoai/-/2018/1141602/ngoai-giao-viet-nam.aspx", True),
        ("/tang-cuong-hop-tac-post928020.html", True),
        ("/bai-viet/123456", True),
        ("/nhan-dan-217657.html#binh-luan", True),
        ("/tin.html?id=98765", True),
        # navigation and the page itself
        ("/doi-ngoai-nhan-dan", False),
        ("/", False),
        ("#", False),
        ("#top", False),
        ("", False),
        ("/doi-ngoai-nhan-dan/page/2", False),
        ("/doi-ngoai-nhan-dan?page=3", False),
        ("/tag/huu-nghi-viet-nga-1234567.html", False),
        ("/tags/doi-ngoai-nhan-dan", False),
        ("/category/thoi-su", False),
        ("/chuyen-muc/van-hoa-du-lich-ky-niem-30-nam-hoi-huu-nghi", False),
        ("/author/thu-ha", False),
        ("/tac-gia/minh-anh-10245", False),
        ("/tim-kiem?q=huu+nghi", False),
        ("/search?q=vietnam-japan-relations-2025", False),
        ("/dang-nhap", False),
        ("/login", False),
        ("/lien-he.html", False),
        ("/gioi-thieu.html", False),
        ("/rss.html", False),
        ("/viet-nam-dat-nuoc-con-nguoi", False),  # a section name: six words
        ("/asean-youth-forum-opens-in-da-nang", True),  # a headline: seven words
        ("/huu-nghi.html", False),
        # other sites, other schemes, media
        ("https://baoquocte.vn/diem-sang-tren-ban-do-hop-tac-viet-nam-nhat-ban-335453.html", False),
        ("https://en.thoidai.com.vn/vietnam-japan-cooperation-217000.html", False),
        ("https://www.facebook.com/tapchithoidai", False),
        ("mailto:toasoan@thoidai.com.vn", False),
        ("tel:+842438228345", False),
        ("javascript:void(0)", False),
        ("/uploads/2025/12/bao-cao-tong-ket-cong-tac-doi-ngoai-217000.pdf", False),
        ("/stores/news_dataimages/2025/122025/04/anh-hop-tac-2025120401.jpg", False),
        ("/sitemap.xml", False),
    ],
)
def test_article_url_heuristic(href: str, expected: bool) -> None:
    assert is_article_url(href, THOIDAI_LISTING) is expected


def test_article_url_heuristic_ignores_www_on_the_page_side() -> None:
    assert is_article_url("https://thoidai.com.vn/tin-217657.html", "https://www.thoidai.com.vn/")


# --- feed links and `auto` ---------------------------------------------------------------


def test_find_feed_link_returns_the_first_advertised_feed_absolute() -> None:
    page = respond(fixture("baoquocte-home.html"), "https://baoquocte.vn/", HTML)

    assert find_feed_link(page) == "https://baoquocte.vn/rss_feed/"


@pytest.mark.parametrize("body", [fixture("thoidai-doi-ngoai-nhan-dan.html"), b"", b"   "])
def test_find_feed_link_without_a_feed(body: bytes) -> None:
    assert find_feed_link(respond(body, THOIDAI_LISTING, HTML)) is None


@pytest.mark.parametrize("content_type", [HTML, RSS])
def test_auto_html_page_points_at_its_feed(content_type: str) -> None:
    page = respond(fixture("baoquocte-home.html"), "https://baoquocte.vn/", content_type)

    found = discover(source("auto", "https://baoquocte.vn/"), page, now=NOW)

    assert found.feed_url == "https://baoquocte.vn/rss_feed/"
    assert found.items == ()


@pytest.mark.parametrize("content_type", [RSS, "text/xml", "text/html"])
def test_auto_reads_a_feed_directly(content_type: str) -> None:
    found = discover(
        source("auto"),
        respond(fixture("nhandan-thegioi-1231.rss"), NHANDAN_RSS, content_type),
        now=NOW,
    )

    assert found.feed_url is None
    assert len(found.items) == 5


def test_auto_reads_a_sitemap_directly() -> None:
    found = discover(
        source("auto", VIETNAM_INDEX),
        respond(fixture("vietnamvn-sitemap.xml"), VIETNAM_INDEX),
        now=NOW,
    )

    assert found.children[0] == "https://www.vietnam.vn/sitemap/sitemap-post/2025-12-04.xml"


def test_auto_html_page_without_a_feed() -> None:
    with pytest.raises(ParseError, match="no feed advertised on this page"):
        discover(source("auto", THOIDAI_LISTING), thoidai_page(), now=NOW)


def test_auto_neither_feed_nor_page() -> None:
    with pytest.raises(ParseError, match="expected a feed or an HTML page"):
        discover(source("auto"), respond(b'{"ok": true}', NHANDAN_RSS, "application/json"), now=NOW)


# --- discover() and select_items() -------------------------------------------------------


def test_discover_applies_the_source_selection() -> None:
    chosen = source(max_items=3)
    found = discover(
        chosen, respond(fixture("nhandan-thegioi-1231.rss"), NHANDAN_RSS, RSS), now=NOW
    )

    assert [item.guid for item in found.items] == ["post928041", "post928020", "post927990"]


def test_discover_sitemap_filtered_to_one_language_prefix() -> None:
    chosen = source("sitemap", VIETNAM_DAY, include=(r"^https://www\.vietnam\.vn/id/",))
    found = discover(
        chosen, respond(fixture("vietnamvn-sitemap-post-2025-12-04.xml"), VIETNAM_DAY), now=NOW
    )

    assert [item.url.split("/")[4][:20] for item in found.items] == [
        "mendorong-hubungan-r",
        "titik-terang-di-peta",
    ]


@pytest.mark.parametrize(
    ("kind", "name", "reason"),
    [
        ("sitemap", "thoidai-doi-ngoai-nhan-dan.html", "expected a sitemap but got an HTML page"),
        ("rss", "thoidai-doi-ngoai-nhan-dan.html", "expected a feed but got an HTML page"),
        ("atom", "vietnamvn-sitemap.xml", "expected an RSS or Atom feed but got a sitemap"),
        ("listing", "en-nhandan-atom.xml", "expected a listing page but got an RSS/Atom feed"),
    ],
)
def test_discover_wrong_kind_of_document(kind: SourceKind, name: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        discover(source(kind), respond(fixture(name), "https://example.vn/x", XML), now=NOW)


def item(url: str, hours: int | None = None) -> FeedItem:
    published = (
        None if hours is None else datetime(2025, 12, 4, tzinfo=UTC) + timedelta(hours=hours)
    )
    return FeedItem(url=url, source="test-source", published_at=published)


def test_select_items_orders_dated_newest_first_then_undated_in_order() -> None:
    items = [
        item("https://x.vn/a", 1),
        item("https://x.vn/u1"),
        item("https://x.vn/b", 5),
        item("https://x.vn/u2"),
        item("https://x.vn/c", 3),
        item("https://x.vn/d", 3),
    ]

    assert urls(select_items(source(), items)) == [
        "https://x.vn/b",
        "https://x.vn/c",
        "https://x.vn/d",
        "https://x.vn/a",
        "https://x.vn/u1",
        "https://x.vn/u2",
    ]


def test_select_items_filters_deduplicates_and_caps() -> None:
    items = [
        item("https://www.vietnam.vn/id/a", 1),
        item("https://www.vietnam.vn/en/b", 2),
        item("https://www.vietnam.vn/id/a", 9),  # a repeat: the first one stays
        item("https://www.vietnam.vn/id/video-c", 3),
        item("https://www.vietnam.vn/id/d", 4),
        item("https://www.vietnam.vn/id/e", 0),
    ]
    chosen = source(include=(r"/id/", r"/vi/"), exclude=(r"/video-",), max_items=2)

    selected = select_items(chosen, items)

    assert urls(selected) == ["https://www.vietnam.vn/id/d", "https://www.vietnam.vn/id/a"]
    assert selected[1].published_at == datetime(2025, 12, 4, 1, tzinfo=UTC)


def test_select_items_rejects_a_bad_pattern() -> None:
    with pytest.raises(ConfigError, match="invalid regular expression"):
        select_items(source(exclude=("[",)), [item("https://x.vn/a")])


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-12-04T10:00:00+07:00", datetime(2025, 12, 4, 3, 0, tzinfo=UTC)),
        ("2025-12-04T03:00:00Z", datetime(2025, 12, 4, 3, 0, tzinfo=UTC)),
        ("2025-12-04T10:00+07:00", datetime(2025, 12, 4, 3, 0, tzinfo=UTC)),
        ("2025-12-04T10:00:00.250-05:00", datetime(2025, 12, 4, 15, 0, 0, 250000, tzinfo=UTC)),
        ("2025-12-04T10:00:00", datetime(2025, 12, 4, 3, 0, tzinfo=UTC)),  # zoneless: Hanoi
        ("2025-12-04", datetime(2025, 12, 3, 17, 0, tzinfo=UTC)),
        ("2025-12", datetime(2025, 11, 30, 17, 0, tzinfo=UTC)),
        ("2025", datetime(2024, 12, 31, 17, 0, tzinfo=UTC)),
        (" 2025-12-04T10:00:00+07:00\n", datetime(2025, 12, 4, 3, 0, tzinfo=UTC)),
        ("04/12/2025", None),
        ("2025-13-01", None),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_w3c_datetimes(raw: str | None, expected: datetime | None) -> None:
    assert parse_w3c_datetime(raw) == expected
