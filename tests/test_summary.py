"""Summaries: the lead or the opening sentences, without boilerplate, cut cleanly."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.summary import split_sentences, strip_outlet_prefix, summarize

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
BODY = "Đây là câu mở đầu của bài viết, đủ dài để làm tóm tắt cho người đọc. Câu thứ hai."


def _seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


# (seed file, title as published, expected summary of the whole page text without a lead)
SEED_CASES = {
    "thoidai europe": (
        "000_719f71cad1d8ed25.txt",
        "Membuka halaman baru di Vietnam - Hubungan antarmasyarakat Eropa",
        "Dalam konteks diplomasi modern, kerja sama antarmasyarakat antara Vietnam dan Eropa "
        "memiliki posisi istimewa: jembatan antara hati dan pikiran, antara sejarah solidaritas "
        "dan masa depan inovasi serta kreativitas.",
    ),
    "thoidai russia (caption row after the opening)": (
        "001_b1e8a4fe699258a2.txt",
        "Banyak usulan untuk mendorong pertukaran antarmasyarakat dan kerja sama lokal "
        "Vietnam-Rusia",
        "Lokakarya ini diketuai bersama oleh Ibu Elena Kalinina, Ketua Cabang Saint Petersburg "
        "dari Persatuan Wanita Rusia, Direktur Institut Sosial Ekonomi Saint Petersburg, Duta "
        "Besar Saint Petersburg dan Bapak Nguyen Ngoc Hung, Wakil Presiden Persatuan Organisasi "
        "Persahabatan Vietnam.",
    ),
    "tccs (header, title, TCCS prefix, byline, caption)": (
        "002_ee8055cbc20605db.txt",
        "Diplomasi Vietnam mempromosikan kemerdekaan dan kepercayaan diri, memasuki era baru "
        "dengan mantap",
        "Dalam proses pembangunan nasional, di bawah kepemimpinan Partai, diplomasi Vietnam "
        "senantiasa berpegang teguh pada politik luar negeri yang mandiri, berdikari, damai, "
        "kerja sama, dan pembangunan, seraya senantiasa berinovasi dalam pemikiran dan metode "
        "pelaksanaannya.",
    ),
    "baoquocte interview (image row and credit first)": (
        "003_8abcc2aa43217efd.txt",
        "Titik terang di peta kerja sama Vietnam-Jepang",
        "Bagaimana Duta Besar menilai pentingnya dan hal-hal penting kerja sama lokal dalam "
        "Kemitraan Strategis Komprehensif Vietnam-Jepang secara keseluruhan? Dapat ditegaskan "
        "bahwa kerja sama antardaerah kedua negara saat ini merupakan salah satu pilar paling "
        "dinamis dan efektif dalam Kemitraan Strategis Komprehensif Vietnam-Jepang secara "
        "keseluruhan.",
    ),
    "nhandan ngo (header, byline, repeated captions)": (
        "004_fa3bd44e9612663f.txt",
        "Memperkuat efektivitas kerja sama antara Vietnam dan organisasi non-pemerintah asing",
        "Kerjasama dengan lembaga swadaya masyarakat asing merupakan bagian penting dari "
        "diplomasi antarmasyarakat, yang berkontribusi dalam memperkuat hubungan persahabatan, "
        "mendorong pembangunan berkelanjutan, menyebarkan nilai-nilai kemanusiaan, dan "
        "meningkatkan hubungan antara Vietnam dan sahabat internasional.",
    ),
}


@pytest.mark.parametrize("case", SEED_CASES.values(), ids=SEED_CASES.keys())
def test_seed_pages_summarise_to_their_opening(case: tuple[str, str, str]) -> None:
    name, title, expected = case
    summary = summarize(title=title, lead=None, text=_seed(name), language="id")
    assert summary == expected
    assert len(summary) <= 400


@pytest.mark.parametrize("name", ["002_ee8055cbc20605db.txt", "004_fa3bd44e9612663f.txt"])
def test_seed_leads_give_the_same_summary_as_the_body(name: str) -> None:
    paragraphs = [p for p in _seed(name).split("\n") if p.strip()]
    title, lead = paragraphs[1], paragraphs[2]  # after the vietnam.vn header
    from_lead = summarize(title=title, lead=lead, text="", language="id")
    assert from_lead == summarize(title=title, lead=None, text=_seed(name), language="id")
    assert not from_lead.startswith("TCCS")


PREFIXED_LEADS = {
    "TĐO": (
        "TĐO – Tối 14/7/2025, tại Hà Nội, Hội Hữu nghị Việt Nam – Pháp tổ chức giao lưu nhân "
        "kỷ niệm Quốc khánh Pháp.",
        "Tối 14/7/2025, tại Hà Nội, Hội Hữu nghị Việt Nam – Pháp tổ chức giao lưu nhân kỷ niệm "
        "Quốc khánh Pháp.",
    ),
    "TCCS": (
        "TCCS - Sau 30 năm gia nhập ASEAN, Việt Nam đã trở thành thành viên tích cực và có "
        "trách nhiệm.",
        "Sau 30 năm gia nhập ASEAN, Việt Nam đã trở thành thành viên tích cực và có trách nhiệm.",
    ),
    "Chinhphu.vn": (
        "(Chinhphu.vn) - Chiều 22/8, Bộ trưởng đã tiếp Bộ trưởng Bộ Khoa học và CNTT Hàn Quốc.",
        "Chiều 22/8, Bộ trưởng đã tiếp Bộ trưởng Bộ Khoa học và CNTT Hàn Quốc.",
    ),
    "VOV.VN": (
        "VOV.VN - Ngày 27/5, Việt Nam và Đan Mạch đã ký kết giai đoạn 4 của Chương trình Đối tác "
        "năng lượng.",
        "Ngày 27/5, Việt Nam và Đan Mạch đã ký kết giai đoạn 4 của Chương trình Đối tác năng "
        "lượng.",
    ),
    "NDO": (
        "NDO – Foreign non-governmental organisations disbursed about US$230 million in 2025.",
        "Foreign non-governmental organisations disbursed about US$230 million in 2025.",
    ),
    "agency dateline": (
        "Hanoi (VNA) – Vietnam and Laos agreed on Tuesday to expand cooperation in education.",
        "Vietnam and Laos agreed on Tuesday to expand cooperation in education.",
    ),
    "capitals dateline": (
        "HÀ NỘI – Liên hiệp các tổ chức hữu nghị Việt Nam tổ chức hội nghị tổng kết năm 2025.",
        "Liên hiệp các tổ chức hữu nghị Việt Nam tổ chức hội nghị tổng kết năm 2025.",
    ),
    "no prefix: a country pair is content": (
        "Vietnam – Japan relations have grown into a Comprehensive Strategic Partnership.",
        "Vietnam – Japan relations have grown into a Comprehensive Strategic Partnership.",
    ),
    "photo credit inside the lead": (
        "TĐO – Các đại biểu dự lễ kỷ niệm 75 năm quan hệ Việt Nam – Liên bang Nga (Ảnh: Đinh "
        "Hòa) tại Hà Nội.",
        "Các đại biểu dự lễ kỷ niệm 75 năm quan hệ Việt Nam – Liên bang Nga tại Hà Nội.",
    ),
}


@pytest.mark.parametrize("case", PREFIXED_LEADS.values(), ids=PREFIXED_LEADS.keys())
def test_lead_loses_its_outlet_prefix(case: tuple[str, str]) -> None:
    lead, expected = case
    assert summarize(title="Tiêu đề", lead=lead, text=BODY, language="vi") == expected


TITLE = "Việt Nam và Nhật Bản thúc đẩy hợp tác địa phương trong giai đoạn mới"
UNUSABLE_LEADS = {
    "a copy of the title": TITLE,
    "the title in other case and spacing": "  VIỆT NAM và Nhật Bản thúc đẩy hợp tác địa phương "
    "trong giai đoạn mới ",
    "the title with the site's name": f"{TITLE} - Báo Nhân Dân",
    "the title with an outlet prefix": f"TĐO – {TITLE}",
    "too short": "Thời sự",
    "the republisher's slogan": "Vietnam.vn - Nền tảng quảng bá Việt Nam, tin tức mới nhất",
    "empty": "",
}


@pytest.mark.parametrize("lead", UNUSABLE_LEADS.values(), ids=UNUSABLE_LEADS.keys())
def test_unusable_lead_falls_back_to_the_body(lead: str) -> None:
    assert summarize(title=TITLE, lead=lead, text=BODY, language="vi") == BODY


def test_short_lead_is_kept_when_there_is_no_body() -> None:
    lead = "TĐO – Hội nghị tổng kết năm."
    assert summarize(title=TITLE, lead=lead, text="Komentar (0)", language="vi") == (
        "Hội nghị tổng kết năm."
    )


BOILERPLATE_BODIES = {
    "vietnam.vn copy in Vietnamese": (
        f"Vietnam.vn - Nền tảng quảng bá Việt Nam\n\n{TITLE}\n\n"
        "Báo Nhân dânBáo Nhân dân04/12/2025\n\n"
        "![](https://www.vietnam.vn/img/a.jpg)\n"
        "Phó Thủ tướng phát biểu tại hội nghị. (Ảnh: TTXVN)\n"
        "ndo_bl_hoinghi5-2571.jpg\n"
        "NDO – Sáng 4/12, tại Hà Nội, hội nghị quốc tế lần thứ 5 về hợp tác với các tổ chức "
        "phi chính phủ nước ngoài đã diễn ra. Hơn 500 đại biểu tham dự.\n"
        "Nguồn: https://nhandan.vn/bai-viet-post928020.html\n",
        "Sáng 4/12, tại Hà Nội, hội nghị quốc tế lần thứ 5 về hợp tác với các tổ chức phi chính "
        "phủ nước ngoài đã diễn ra. Hơn 500 đại biểu tham dự.",
    ),
    "English copy with photo row and source line": (
        "![]() |\n| Ambassador Pham Quang Hieu. (Photo: VNA) |\n"
        "Cooperation between localities is one of the most dynamic pillars of the partnership. "
        "More than 110 agreements link the two countries.\n"
        "Source: https://en.baoquocte.vn/article-335453.html\nComments (0)\n",
        "Cooperation between localities is one of the most dynamic pillars of the partnership. "
        "More than 110 agreements link the two countries.",
    ),
    "Indonesian copy with credit lines": (
        "Pameran foto di Hanoi. (Sumber: Kedutaan Besar)\n"
        "Peserta dari kedua negara berbagi pengalaman tentang kerja sama pendidikan. Kegiatan "
        "ini diadakan setiap tahun.\nSumber: https://thoidai.com.vn/abc-217657.html\n"
        "Komentar (0)\n",
        "Peserta dari kedua negara berbagi pengalaman tentang kerja sama pendidikan. Kegiatan "
        "ini diadakan setiap tahun.",
    ),
    "heading before the first paragraph": (
        "Faktor-faktor yang mempengaruhi diplomasi\n"
        "Integrasi internasional merupakan tren yang tak terelakkan dalam diplomasi dunia saat "
        "ini, yang membuka peluang bagi negara-negara berkembang.\nSubjudul berikutnya\n"
        "Paragraf lain.",
        "Integrasi internasional merupakan tren yang tak terelakkan dalam diplomasi dunia saat "
        "ini, yang membuka peluang bagi negara-negara berkembang.",
    ),
    "nothing but furniture": ("![]() |\n| (Foto: VNA) |\nKomentar (0)\n", ""),
}


@pytest.mark.parametrize("case", BOILERPLATE_BODIES.values(), ids=BOILERPLATE_BODIES.keys())
def test_body_boilerplate_is_stripped(case: tuple[str, str]) -> None:
    text, expected = case
    assert summarize(title=TITLE, lead=None, text=text, language="vi") == expected


LONG_SENTENCE = (
    "Trong khuôn khổ chuyến thăm, hai bên đã trao đổi sâu rộng về hợp tác trong các lĩnh vực "
    "chính trị, quốc phòng, an ninh, kinh tế, thương mại, đầu tư, khoa học, công nghệ, giáo "
    "dục, đào tạo, văn hóa, du lịch, lao động, nông nghiệp, năng lượng tái tạo, chuyển đổi số, "
    "chuyển đổi xanh, ứng phó với biến đổi khí hậu và giao lưu nhân dân, đồng thời nhất trí "
    "tăng cường phối hợp tại các diễn đàn đa phương như Liên hợp quốc, ASEAN, APEC và các cơ "
    "chế hợp tác tiểu vùng Mekong, vì hòa bình, ổn định, hợp tác và phát triển ở khu vực và "
    "trên thế giới trong bối cảnh tình hình quốc tế có nhiều biến động phức tạp, khó lường."
)


@pytest.mark.parametrize("max_chars", [400, 250, 120, 41])
def test_an_overlong_sentence_is_cut_between_words(max_chars: int) -> None:
    assert summarize(title=TITLE, lead=None, text=LONG_SENTENCE, language="vi") == summarize(
        title=TITLE, lead=None, text=LONG_SENTENCE, language="vi", max_chars=400
    )
    summary = summarize(
        title=TITLE, lead=None, text=LONG_SENTENCE, language="vi", max_chars=max_chars
    )
    assert len(LONG_SENTENCE) > 400
    assert len(summary) <= max_chars
    assert summary.endswith("…")
    kept = summary.removesuffix("…")
    assert LONG_SENTENCE.startswith(kept)
    assert LONG_SENTENCE[len(kept)] in " ,", "cut inside a word"
    assert not kept.endswith((",", " "))
    assert len(summary) > max_chars - 20, "cut far earlier than needed"


def test_sentences_that_do_not_fit_are_left_out_whole() -> None:
    first = "Câu thứ nhất nói về hợp tác giáo dục giữa hai nước. " * 4
    second = "Câu thứ hai rất dài về hợp tác khoa học công nghệ và đổi mới sáng tạo."
    text = f"{first.strip()} {second} " * 3
    summary = summarize(title=TITLE, lead=None, text=text, language="vi", max_chars=230)
    assert summary == first.strip()
    assert not summary.endswith("…")


def test_nfd_input_gives_the_nfc_summary() -> None:
    text = (
        f"{TITLE}\nTĐO – Sáng 18/9/2025, đoàn công tác tỉnh Quảng Ninh đã làm việc với lãnh đạo "
        "tỉnh Okinawa. Hai bên đánh giá hợp tác địa phương là trụ cột năng động."
    )
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    expected = summarize(title=TITLE, lead=None, text=text, language="vi")
    summary = summarize(
        title=unicodedata.normalize("NFD", TITLE), lead=None, text=nfd, language="vi"
    )
    assert summary == expected
    assert unicodedata.is_normalized("NFC", summary)
    assert summary.startswith("Sáng 18/9/2025, đoàn công tác tỉnh Quảng Ninh")
    nfd_lead = summarize(title=TITLE, lead=nfd.split("\n")[1], text="", language="vi")
    assert nfd_lead == expected


# (paragraph, language, expected sentences)
SPLITS = {
    "TP.HCM inside and at the end": (
        "Đoàn đến TP.HCM ngày 5/5. Sau đó đoàn thăm TP. Đà Nẵng và làm việc tại TP.HCM. Hết.",
        "vi",
        [
            "Đoàn đến TP.HCM ngày 5/5.",
            "Sau đó đoàn thăm TP. Đà Nẵng và làm việc tại TP.HCM.",
            "Hết.",
        ],
    ),
    "academic titles": (
        "PGS.TS. Nguyễn Văn An phát biểu. GS. Trần Lan bế mạc hội thảo.",
        "vi",
        ["PGS.TS. Nguyễn Văn An phát biểu.", "GS. Trần Lan bế mạc hội thảo."],
    ),
    "v.v. closes a list": (
        "Hai bên hợp tác về y tế, giáo dục, v.v. Năm tới sẽ có thêm dự án.",
        "vi",
        ["Hai bên hợp tác về y tế, giáo dục, v.v.", "Năm tới sẽ có thêm dự án."],
    ),
    "dll. closes a list": (
        "Kerja sama di bidang vaksin, farmasi, kesehatan digital, dll. Pada saat yang sama, "
        "asosiasi mempromosikan seminar.",
        "id",
        [
            "Kerja sama di bidang vaksin, farmasi, kesehatan digital, dll.",
            "Pada saat yang sama, asosiasi mempromosikan seminar.",
        ],
    ),
    "Indonesian decimals and thousands": (
        "Nilai perdagangan mencapai 1,14 triliun VND. Angka ini naik 3.5 persen dari 1.500 unit.",
        "id",
        [
            "Nilai perdagangan mencapai 1,14 triliun VND.",
            "Angka ini naik 3.5 persen dari 1.500 unit.",
        ],
    ),
    "Dr. and Jl.": (
        "Dr. Siti Rahma membuka acara di Jl. Sudirman. Acara berlangsung meriah.",
        "id",
        ["Dr. Siti Rahma membuka acara di Jl. Sudirman.", "Acara berlangsung meriah."],
    ),
    "No. 5, Dr. and initials": (
        "Dr. J. Smith met Ms. Lan at No. 5 Ly Thai To Street. The U.S. Embassy hosted them.",
        "en",
        ["Dr. J. Smith met Ms. Lan at No. 5 Ly Thai To Street.", "The U.S. Embassy hosted them."],
    ),
    "question, exclamation, ellipsis": (
        "Is it ready? Yes! The plan is... well, nearly done… Work starts in 2026.",
        "en",
        ["Is it ready?", "Yes!", "The plan is... well, nearly done…", "Work starts in 2026."],
    ),
    "closing quotes": (
        "Ông nói: “Chúng tôi sẵn sàng.” Sau đó ông rời đi.",
        "vi",
        ["Ông nói: “Chúng tôi sẵn sàng.”", "Sau đó ông rời đi."],
    ),
    "sentence starting with a number": (
        "The forum closed on 12/11/2025. 500 delegates attended.",
        "en",
        ["The forum closed on 12/11/2025.", "500 delegates attended."],
    ),
}


@pytest.mark.parametrize("case", SPLITS.values(), ids=SPLITS.keys())
def test_sentence_splitting(case: tuple[str, str, list[str]]) -> None:
    text, language, expected = case
    assert split_sentences(text, language) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TĐO – Nội dung.", "Nội dung."),
        ("TCCS - Isi.", "Isi."),
        ("VietnamPlus – Content.", "Content."),
        ("Baoquocte.vn - Nội dung.", "Nội dung."),
        ("Hà Nội, 12/5 (TTXVN) – Nội dung.", "Nội dung."),
        ("Vietnam - Japan partnership.", "Vietnam - Japan partnership."),
        ("ASEAN - Japan summit opens.", "ASEAN - Japan summit opens."),
        ("Thời tiết - Nội dung.", "Thời tiết - Nội dung."),
    ],
)
def test_outlet_prefix(text: str, expected: str) -> None:
    assert strip_outlet_prefix(text) == expected
