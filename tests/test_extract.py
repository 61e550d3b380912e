"""Extraction of real-looking article pages: what a reader would take from each page."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.dedup import choose_canonical
from bot.discover import discover
from bot.errors import ExtractError, ParseError
from bot.extract import VN_TZ, extract, extract_or_reject, find_credit_url
from bot.models import ExtractedPage, Rejection, Response, Source
from bot.pool import ExtractPool

DATA = Path(__file__).parent / "data" / "extract"
FEED = Path(__file__).parent / "data" / "discover" / "nhandan-thegioi-1231.rss"
NHANDAN_FEED = "https://nhandan.vn/rss/thegioi-1231.rss"
FEED_NOW = datetime(2025, 12, 4, 11, 0, tzinfo=UTC)

NHANDAN_URL = (
    "https://nhandan.vn/tang-cuong-hieu-qua-hop-coac-giua-viet-nam-va-cac-to-org-phi-chinh-gov-"
    "nuoc-ngoai-post928020.html"
)
VIETNAMVN_URL = (
    "https://www.vietnam.vn/id/memperkuat-efektivitas-kerja-sama-antara-vietnam-dan-organisasi-"
    "non-pemerintah-asing"
)
THOIDAI_URL = (
    "https://thoidai.com.vn/nhieu-de-xuat-thuc-day-giao-luu-nhan-dan-va-hop-tac-dia-phuong-"
    "viet-nga-216676.html"
)
WVR_URL = "https://en.baoquocte.vn/bright-spots-on-the-map-of-vietnam-japan-cooperation-335453.html"
LEGACY_URL = "http://huunghiquangnam.org.vn/tin-tuc.asp?id=1024"
VIDEO_URL = "https://nhandan.vn/video-le-don-chinh-thuc-tong-thong-indonesia-post865400.html"


def page(name: str) -> bytes:
    return (DATA / name).read_bytes()


def nfc_everywhere(result: ExtractedPage) -> bool:
    fields = (result.title, result.text, result.lead or "", result.author or "", result.site or "")
    return all(unicodedata.is_normalized("NFC", value) for value in fields)


def test_nhandan_article_reads_like_the_page() -> None:
    result = extract(page("nhandan_ngo_conference.html"), NHANDAN_URL)

    assert result.title == (
        "Tăng cường hiệu quả hợp tác giữa Việt Nam và các tổ chức phi chính phủ nước ngoài"
    )
    assert result.published_at == datetime(2025, 12, 4, 8, 32, tzinfo=UTC)
    assert result.published_at is not None
    assert result.published_at.utcoffset() == timedelta(hours=7)
    assert result.lead is not None
    assert result.lead.startswith("Hợp tác với các tổ chức phi chính phủ nước ngoài là bộ phận")
    assert result.lead.endswith("gắn kết giữa Việt Nam với bạn bè quốc tế.")  # the sapo, not og
    assert result.author == "THU HÀ"
    assert result.site == "Báo Nhân Dân điện tử"
    assert result.language == "vi"
    assert result.image == "https://img.nhandan.vn/Files/Images/2025/12/04/ndo_bl_hoinghi5-2571.jpg"
    assert result.canonical_url == NHANDAN_URL
    assert result.credit_url is None
    assert nfc_everywhere(result)


@pytest.mark.parametrize(
    "sentence",
    [
        "Ngày 4/12, tại Hà Nội, Ủy ban Công tác về các tổ chức phi chính phủ nước ngoài",
        "Hội nghị có sự tham dự của hơn 500 đại biểu",
        "có 379 tổ chức phi chính phủ nước ngoài hoạt động thường xuyên tại Việt Nam",
        "người dân luôn được đặt ở vị trí trung tâm",
        "giai đoạn 2025-2030, đồng thời đẩy mạnh ứng dụng công nghệ số",
    ],
)
def test_nhandan_text_has_the_body(sentence: str) -> None:
    assert sentence in extract(page("nhandan_ngo_conference.html"), NHANDAN_URL).text


@pytest.mark.parametrize(
    "boilerplate",
    [
        "Đăng nhập",  # header
        "Multimedia",  # navigation
        "Trang chủ",  # breadcrumbs
        "Chia sẻ",  # share buttons
        "Tin liên quan",  # inline related box
        "Phó Thủ tướng Bùi Thanh Sơn tiếp Đại sứ Nhật Bản",
        "Xem thêm",  # related stream below the article
        "Việt Nam - Nhật Bản thúc đẩy hợp tác giữa các địa phương",
        "Giá vàng hôm nay",  # sidebar
        "Tags:",
        "(Ảnh: ĐINH HÒA)",  # photo captions
        "Bản quyền thuộc về Báo Nhân Dân",  # footer
        "Tăng cường hiệu quả hợp tác giữa Việt Nam",  # the headline is not body text
    ],
)
def test_nhandan_text_has_no_boilerplate(boilerplate: str) -> None:
    assert boilerplate not in extract(page("nhandan_ngo_conference.html"), NHANDAN_URL).text


def test_vietnamvn_republication_reads_like_the_page() -> None:
    result = extract(page("vietnamvn_id_ngo_conference.html"), VIETNAMVN_URL)

    assert result.title == (
        "Memperkuat efektivitas kerja sama antara Vietnam dan organisasi non-pemerintah asing"
    )
    # Only the visible "Báo Nhân dân 04/12/2025" dates it: midnight in Vietnam.
    assert result.published_at == datetime(2025, 12, 4, tzinfo=VN_TZ)
    assert result.published_at == datetime(2025, 12, 3, 17, 0, tzinfo=UTC)
    assert result.lead is not None
    assert result.lead.startswith("Kerjasama dengan lembaga swadaya masyarakat asing")
    assert result.language == "id"
    assert result.site == "Vietnam.vn"
    assert result.canonical_url == VIETNAMVN_URL
    assert result.credit_url == NHANDAN_URL
    assert result.author is None  # "Dari penulis yang sama" is a sidebar, not a byline


@pytest.mark.parametrize(
    "sentence",
    [
        "Pada tanggal 4 Desember, di Hanoi , Komite Urusan Lembaga Swadaya Masyarakat Asing",
        "terdapat 379 lembaga swadaya masyarakat asing yang beroperasi secara rutin di Vietnam",
        "Ketiga, memperkuat fondasi kepercayaan dan transparansi.",
        '"Vietnam secara konsisten menjalankan kebijakan luar negeri yang mandiri',
        "menciptakan kondisi terbaik bagi lembaga swadaya masyarakat asing untuk beroperasi",
    ],
)
def test_vietnamvn_text_has_the_body(sentence: str) -> None:
    assert sentence in extract(page("vietnamvn_id_ngo_conference.html"), VIETNAMVN_URL).text


@pytest.mark.parametrize(
    "boilerplate",
    [
        "Vietnam.vn - Nền tảng quảng bá Việt Nam",  # site header
        "Báo Nhân dân",  # credited outlet line
        "04/12/2025",
        "(Foto: DINH HOA)",  # photo captions
        "Para delegasi konferensi berfoto sebagai kenang-kenangan",
        "ndo_bl_hoinghi5-2571.jpg",  # image file names
        "Sumber:",  # the credit line lives in credit_url
        "Komentar",
        "Silakan tinggalkan komentar",
        "Dalam topik yang sama",
        "Dalam kategori yang sama",
        "Katedral Notre Dame",
        "Dari penulis yang sama",
        "No data",
        "Warisan",
        "Kedai kopi Dalat",
        "Salin tautan",
        "Dikelola oleh Kementerian",
    ],
)
def test_vietnamvn_text_has_no_boilerplate(boilerplate: str) -> None:
    assert boilerplate not in extract(page("vietnamvn_id_ngo_conference.html"), VIETNAMVN_URL).text


def test_credit_found_in_markup_when_the_link_text_is_not_the_url() -> None:
    html = page("vietnamvn_id_ngo_conference.html").decode()
    html = html.replace(f">{NHANDAN_URL}</a>", ">nhandan.vn</a>")
    assert NHANDAN_URL + "</a>" not in html

    assert extract(html.encode(), VIETNAMVN_URL).credit_url == NHANDAN_URL


def test_credit_naming_only_an_outlet_home_page_is_no_credit_url() -> None:
    html = page("vietnamvn_id_ngo_conference.html").decode()
    html = html.replace(f'href="{NHANDAN_URL}"', 'href="https://nhandan.vn/"')
    html = html.replace(f">{NHANDAN_URL}</a>", ">Báo Nhân Dân</a>")

    assert extract(html.encode(), VIETNAMVN_URL).credit_url is None


def test_thoidai_article_with_visible_date_and_tdo_lead() -> None:
    result = extract(page("thoidai_viet_nga.html"), THOIDAI_URL)

    assert result.title == (
        "Nhiều đề xuất thúc đẩy giao lưu nhân dân và hợp tác địa phương Việt - Nga"
    )
    assert result.published_at == datetime(2025, 11, 10, 7, 20, tzinfo=UTC)  # 14:20 in Hanoi
    assert result.lead is not None
    assert result.lead.startswith("TĐO – Hội thảo “Giao lưu nhân dân và hợp tác địa phương”")
    assert result.language == "vi"  # from og:locale vi_VN: the page has no lang attribute
    assert result.site == "Tạp chí Thời Đại"
    assert result.image == (
        "https://thoidai.com.vn/stores/news_dataimages/2025/112025/10/14/hoi-thao-viet-nga.jpg"
    )
    assert "Chủ tịch Hồ Chí Minh tới Petrograd năm 1923" in result.text
    assert "Các đề xuất tại hội thảo sẽ được ban tổ chức nghiên cứu" in result.text
    for boilerplate in (
        "Theo dõi Thời Đại trên Google News",
        "Khai mạc Diễn đàn Nhân dân Việt - Nga lần thứ nhất",
        "Tin bài khác",
        "Hội Hữu nghị Việt - Pháp tổng kết",
        "(Ảnh: Đinh Hòa)",
        "Giấy phép hoạt động báo chí",
        "Chia sẻ Facebook",
        "Thứ Hai, 10/11/2025",
        "Tổ chức phi chính phủ",
    ):
        assert boilerplate not in result.text
    assert not result.text.startswith(result.title)


BODY = (
    "<p>Đoàn đại biểu Liên hiệp các tổ chức hữu nghị Việt Nam đã có chuyến thăm và làm việc tại "
    "tỉnh Kanagawa, Nhật Bản, nhằm thúc đẩy hợp tác giữa các địa phương hai nước.</p>"
    "<p>Hai bên đã trao đổi về giao lưu thanh niên, đào tạo nguồn nhân lực và hợp tác trong lĩnh "
    "vực nông nghiệp công nghệ cao, đồng thời nhất trí tổ chức Lễ hội Việt Nam tại Yokohama.</p>"
    "<p>{line}</p>"
    "<p>Chuyến thăm góp phần làm sâu sắc hơn quan hệ Đối tác chiến lược toàn diện Việt Nam - "
    "Nhật Bản và tăng cường hiểu biết lẫn nhau giữa nhân dân hai nước.</p>"
)


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Toàn cảnh buổi làm việc. (Ảnh: TTXVN)", False),
        ("Phó Thủ tướng phát biểu tại buổi làm việc. Ảnh: VGP/Nhật Bắc", False),
        ("Chủ tịch nước dự Hội nghị cấp cao kỷ niệm 80 năm Liên hợp quốc_Ảnh: TTXVN", False),
        ("Duta Besar berbicara di seminar. (Sumber: Kedutaan Besar Vietnam di Jepang)", False),
        ("Penandatanganan nota kesepahaman. (Sumber foto: Asosiasi Persahabatan)", False),
        ("Delegates pose for a group photo - Photo: VNA", False),
        ("Sumber: https://thoidai.com.vn/nhieu-de-xuat-viet-nga-216676.html", False),
        ("Nguồn: Báo Nhân Dân", False),
        ("Bình luận (3)", False),
        ("ndo_br_hoinghi1.jpg", False),
        ("Báo Quốc tếBáo Quốc tế21/10/2025", False),
        ("The ambassador is seen in the photo: a meeting with young guests from Osaka.", True),
        ("Theo ông Nguyễn Ngọc Hưng, nguồn lực cho hợp tác địa phương cần được mở rộng.", True),
        ("Source: the ministry says exchanges between localities doubled in two years.", True),
    ],
)
def test_caption_and_credit_lines_are_not_text(line: str, kept: bool) -> None:
    html = f"<html lang='vi'><body><article><h1>Hữu nghị</h1>{BODY.format(line=line)}</article>"

    text = extract(f"{html}</body></html>".encode(), "https://thoidai.com.vn/a-1.html").text

    assert "tăng cường hiểu biết lẫn nhau giữa nhân dân hai nước" in text
    assert (line in text) is kept


def test_windows_1258_fixture_really_is_legacy_encoded() -> None:
    data = page("legacy_windows1258.html")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "\u0301" in data.decode("cp1258")  # tone marks stored as combining characters


@pytest.mark.parametrize(
    "http_charset",
    [None, "windows-1258", "utf-8"],
    ids=["meta-charset-only", "http-charset", "wrong-http-charset"],
)
def test_windows_1258_page_comes_out_as_nfc_vietnamese(http_charset: str | None) -> None:
    result = extract(page("legacy_windows1258.html"), LEGACY_URL, charset=http_charset)

    assert result.title == (
        "Hội Hữu nghị Việt - Nhật tỉnh Quảng Nam trao học bổng cho sinh viên nghèo vượt khó"
    )
    assert "tổ chức lễ trao 40 suất học bổng cho sinh viên có hoàn cảnh khó khăn" in result.text
    assert "trở thành nhịp cầu hữu nghị giữa nhân dân hai nước" in result.text
    assert result.published_at == datetime(2024, 3, 15, 9, 30, tzinfo=VN_TZ)
    assert nfc_everywhere(result)
    for boilerplate in (
        "Giới thiệu",  # menu row of the layout table
        "Hợp tác phi chính phủ",  # left column
        "(Ảnh: Minh Tuấn)",  # caption paragraph
        "Các tin khác",
        "Kanagawa",
    ):
        assert boilerplate not in result.text


@pytest.mark.parametrize("http_charset", ["iso-8859-1", "windows-1258", "no-such-charset"])
def test_utf8_page_survives_a_wrong_http_charset(http_charset: str) -> None:
    result = extract(page("nhandan_ngo_conference.html"), NHANDAN_URL, charset=http_charset)

    assert result.title == (
        "Tăng cường hiệu quả hợp tác giữa Việt Nam và các tổ chức phi chính phủ nước ngoài"
    )
    assert result.author == "THU HÀ"


def test_decomposed_unicode_page_comes_out_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", page("nhandan_ngo_conference.html").decode())

    result = extract(decomposed.encode(), NHANDAN_URL)

    assert result.title == (
        "Tăng cường hiệu quả hợp tác giữa Việt Nam và các tổ chức phi chính phủ nước ngoài"
    )
    assert "Hội nghị có sự tham dự của hơn 500 đại biểu" in result.text
    assert nfc_everywhere(result)


def test_decomposed_vietnamese_credit_label_is_found() -> None:
    html = page("vietnamvn_id_ngo_conference.html").decode()
    html = html.replace("Sumber: <a", "Nguồn: <a").replace(
        f">{NHANDAN_URL}</a>", ">Báo Nhân Dân</a>"
    )

    result = extract(unicodedata.normalize("NFD", html).encode(), VIETNAMVN_URL)

    assert result.credit_url == NHANDAN_URL
    assert "Nguồn" not in result.text


def test_canonical_with_tracking_params_is_kept_as_published_and_cleaned_by_dedup() -> None:
    result = extract(page("baoquocte_en_japan.html"), WVR_URL + "?utm_source=facebook")

    assert result.canonical_url == (
        WVR_URL + "?utm_source=zalo&utm_medium=share&utm_campaign=wvr#comments"
    )
    assert choose_canonical(result.url, result.canonical_url) == WVR_URL
    assert result.title == "Bright spots on the map of Vietnam-Japan cooperation"
    # a naive ISO time in the meta tag is Vietnam time
    assert result.published_at == datetime(2025, 10, 19, 23, 41, tzinfo=UTC)
    assert result.author == "Thu Trang"
    assert result.language == "en"
    assert result.lead is not None
    assert result.lead.startswith("WVR - Localities of Vietnam and Japan")
    assert result.image == (
        "https://en.baoquocte.vn/stores/news_dataimages/2025/102025/20/06/dai-su-pham-quang-hieu.jpg"
    )
    assert "a lasting friendship for many generations" in result.text
    for boilerplate in ("Related news", "Okinawa delegation visits", "(Source: Embassy", "Tags:"):
        assert boilerplate not in result.text


def test_video_page_is_rejected_for_too_little_text() -> None:
    with pytest.raises(ExtractError) as caught:
        extract(page("nhandan_video.html"), VIDEO_URL)

    assert caught.value.url == VIDEO_URL
    assert caught.value.reason.startswith("too little text (")
    count = int(caught.value.reason.split("(")[1].split()[0])
    assert 0 < count < 280
    assert extract_or_reject(page("nhandan_video.html"), VIDEO_URL, None, 280) == Rejection(
        VIDEO_URL, caught.value.reason
    )


def test_min_text_chars_is_the_callers_choice() -> None:
    result = extract(page("nhandan_video.html"), VIDEO_URL, min_text_chars=50)

    assert "Sáng 10/3, tại Phủ Chủ tịch" in result.text
    assert "Video khác" not in result.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page"),
        (b"  \r\n ", "empty page"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\n" * 20, "not an HTML"),
        (b'{"status": "ok", "items": []}', "not an HTML"),
        (b"<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav></body></html>", ""),
        (b"<html><head><title>Maintenance</title></head><body></body></html>", ""),
    ],
    ids=["empty", "blank", "pdf", "json", "navigation-only", "empty-body"],
)
def test_unusable_pages_are_rejected_with_a_reason(body: bytes, reason: str) -> None:
    url = "http://127.0.0.1:8931/x"

    result = extract_or_reject(body, url, None, 280)

    assert isinstance(result, Rejection)
    assert result.url == url
    assert result.reason.startswith(reason)
    assert result.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Isi.\nSumber: https://baoquocte.vn/diem-sang-335453.html\nKomentar (0)",
            "https://baoquocte.vn/diem-sang-335453.html",
        ),
        (
            "Body.\nSource: https://en.nhandan.vn/a-post1.html.",
            "https://en.nhandan.vn/a-post1.html",
        ),
        (
            "Nội dung.\n  Nguồn: https://thoidai.com.vn/a-216676.html  ",
            "https://thoidai.com.vn/a-216676.html",
        ),
        (
            "Sumber: https://a.vn/first.html\nteks\nSUMBER: https://b.vn/last.html",
            "https://b.vn/last.html",
        ),
        (
            "Sumber: https://tapchicongsan.org.vn/web/guest/x/-/2018/1141602/doc-lap%2C-tu-chu.aspx",
            "https://tapchicongsan.org.vn/web/guest/x/-/2018/1141602/doc-lap%2C-tu-chu.aspx",
        ),
        ("| Duta Besar Vietnam untuk Jepang. (Sumber: Kedutaan Besar Vietnam di Jepang) |", None),
        ("Penandatanganan perjanjian. (Sumber foto: Asosiasi Persahabatan Vietnam-Prancis).", None),
        ("Nguồn: Báo Nhân Dân", None),
        ("Lihat sumber: https://a.vn/x.html di bawah", None),
        ("", None),
    ],
    ids=[
        "sumber",
        "source-trailing-dot",
        "nguon-indented",
        "last-wins",
        "escaped-comma",
        "caption-credit",
        "photo-credit",
        "no-url",
        "mid-sentence",
        "empty",
    ],
)
def test_find_credit_url(text: str, expected: str | None) -> None:
    assert find_credit_url(text) == expected


# --- the process pool -------------------------------------------------------------------

FIXTURES = [
    ("nhandan_ngo_conference.html", NHANDAN_URL),
    ("vietnamvn_id_ngo_conference.html", VIETNAMVN_URL),
    ("thoidai_viet_nga.html", THOIDAI_URL),
    ("baoquocte_en_japan.html", WVR_URL),
    ("legacy_windows1258.html", LEGACY_URL),
    ("nhandan_video.html", VIDEO_URL),
]
# Big enough to keep a worker busy for a good second: the page a test kills it on.
SLOW_URL = "https://thoidai.com.vn/mot-trang-rat-dai-1.html"
SLOW_PAGE = (
    "<html lang='vi'><body><article><h1>Một trang rất dài</h1>"
    + "<p>Hội hữu nghị tổ chức giao lưu văn hóa với bạn bè quốc tế tại Hà Nội. </p>" * 24_000
    + "</article></body></html>"
).encode()


def workers_alive() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "duta-extract"]


async def test_pool_workers_extract_every_page_as_this_process_does() -> None:
    """The real deployment: two worker processes, warmed up before the first page."""
    pool = ExtractPool(2, min_text_chars=280)
    try:
        await pool.ready()
        assert len(workers_alive()) == 2
        pages = [(page(name), url) for name, url in FIXTURES] * 3
        results = await asyncio.gather(*(pool.extract(html, url, None) for html, url in pages))
    finally:
        pool.close()

    assert results == [extract_or_reject(html, url, None, 280) for html, url in pages]
    assert isinstance(results[0], ExtractedPage) and isinstance(results[5], Rejection)
    assert workers_alive() == []  # close() stops them


async def test_a_worker_killed_mid_page_costs_only_that_page() -> None:
    pool = ExtractPool(1, min_text_chars=280)
    try:
        await pool.ready()
        doomed = asyncio.ensure_future(pool.extract(SLOW_PAGE, SLOW_URL, None))
        queued = asyncio.ensure_future(pool.extract(page(FIXTURES[0][0]), NHANDAN_URL, None))
        await asyncio.sleep(0.3)  # the worker is now deep in the slow page
        [worker] = workers_alive()
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)

        assert await doomed == Rejection(SLOW_URL, "extraction worker crashed on this page")
        # the page queued behind it is extracted by the worker that replaced it
        assert await queued == extract(page(FIXTURES[0][0]), NHANDAN_URL)
        [replacement] = workers_alive()
        assert replacement.pid != worker.pid
        html = page("thoidai_viet_nga.html")
        assert await pool.extract(html, THOIDAI_URL, None) == extract(html, THOIDAI_URL)
    finally:
        pool.close()


async def test_a_worker_that_dies_starting_up_is_started_again() -> None:
    html = page("thoidai_viet_nga.html")
    pool = ExtractPool(1, min_text_chars=280)
    try:
        [worker] = workers_alive()
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)  # long before it has loaded trafilatura

        # no worker can take the page: it is answered at once, not held
        crashed = Rejection(THOIDAI_URL, "extraction worker crashed on this page")
        assert await pool.extract(html, THOIDAI_URL, None) == crashed
        await pool.ready()  # a second later, a new worker
        [replacement] = workers_alive()
        assert replacement.pid != worker.pid
        assert await pool.extract(html, THOIDAI_URL, None) == extract(html, THOIDAI_URL)
    finally:
        pool.close()


async def test_closing_the_pool_cancels_the_pages_still_waiting() -> None:
    pool = ExtractPool(1, min_text_chars=280)
    try:
        await pool.ready()
        running = asyncio.ensure_future(pool.extract(SLOW_PAGE, SLOW_URL, None))
        waiting = asyncio.ensure_future(pool.extract(SLOW_PAGE, SLOW_URL + "?2", None))
        await asyncio.sleep(0.1)
    finally:
        pool.close()

    for future in (running, waiting):
        with pytest.raises(asyncio.CancelledError):
            await future
    assert workers_alive() == []


async def test_pool_discovery_reads_feeds_and_its_errors_reach_the_caller() -> None:
    source = Source(name="nhandan", url=NHANDAN_FEED, kind="rss", language="vi")
    feed = Response(NHANDAN_FEED, 200, FEED.read_bytes(), {"content-type": "application/rss+xml"})
    html = Response(NHANDAN_FEED, 200, page(FIXTURES[0][0]), {"content-type": "text/html"})
    pool = ExtractPool(1, min_text_chars=280)
    try:
        found = await pool.discover(source, feed, FEED_NOW)
        with pytest.raises(ParseError) as caught:
            await pool.discover(source, html, FEED_NOW)
    finally:
        pool.close()

    assert found == discover(source, feed, now=FEED_NOW)
    assert found.title == "Thế giới - Báo Nhân Dân điện tử"
    assert found.items
    assert caught.value.url == NHANDAN_FEED
    assert caught.value.reason == "expected a feed but got an HTML page"
