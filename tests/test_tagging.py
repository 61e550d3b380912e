"""The tagger on real text: the seeds get their expected tags, ambiguous names stay
quiet in their common-word readings, and the form of the text (NFD, no diacritics,
capitals) does not change what is found."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.cli.taxonomy import Expectation, load_expectations
from bot.language import detect_language
from bot.models import Tagging
from bot.tagging import Tagger, split_plain_text
from bot.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy(SEEDS / "taxonomy.yaml"))


def _ids(tagging: Tagging, facet: str | None = None) -> set[str]:
    return {tag.id for tag in tagging.tags if facet is None or tag.facet == facet}


def _tag(tagger: Tagger, title: str, text: str = "", lead: str | None = None) -> Tagging:
    return tagger.tag(title=title, lead=lead, text=text)


EXPECTATIONS = load_expectations(
    SEEDS / "expected.yaml", set(load_taxonomy(SEEDS / "taxonomy.yaml").ids())
)


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda e: e.seed)
def test_each_seed_gets_its_expected_tags(tagger: Tagger, expectation: Expectation) -> None:
    title, text = split_plain_text((SEEDS / expectation.seed).read_text(encoding="utf-8"))
    tagging = tagger.tag(title=title, lead=None, text=text)
    got = _ids(tagging)
    assert set(expectation.must) - got == set()
    assert set(expectation.must_not) & got == set()
    assert tagging.relevant and tagging.language == "id"
    for tag in tagging.tags:
        assert tag.evidence, tag.id
        assert 0.0 < tag.score <= 1.0


def test_every_seed_is_listed_in_expected_yaml() -> None:
    assert {e.seed for e in EXPECTATIONS} == {p.name for p in SEEDS.glob("*.txt")}


# (sentence, partner it must not get) — the common-word reading of a country's name
COMMON_WORDS = [
    ("vi", "Anh ấy cho biết đội bóng sẽ thi đấu tốt hơn.", "partner/gb"),
    (
        "vi",
        "Chủ tịch Liên hiệp các tổ chức hữu nghị Việt Nam Phan Anh Sơn phát biểu.",
        "partner/gb",
    ),
    ("vi", "Sinh viên học tiếng Anh tại trung tâm ngoại ngữ ở Hà Nội.", "partner/gb"),
    ("vi", "Ngoại hạng Anh: Arsenal thắng đậm trên sân nhà.", "partner/gb"),
    ("vi", "Mùa hoa anh đào năm nay đến sớm.", "partner/gb"),
    ("vi", "Chị Nga cho biết gia đình đã chuyển tiền cho nhóm lừa đảo.", "partner/ru"),
    ("vi", "Bà Nguyễn Thị Nga phát biểu tại buổi lễ.", "partner/ru"),
    ("vi", "Thành phố siết chặt biện pháp xử lý vi phạm pháp luật.", "partner/fr"),
    ("vi", "Pháp luật quy định rõ trách nhiệm của các bên.", "partner/fr"),
    ("vi", "Xe khách va chạm trên cao tốc Pháp Vân – Cầu Giẽ.", "partner/fr"),
    ("vi", "Huấn luyện viên Mai Đức Chung hài lòng với các cầu thủ.", "partner/de"),
    ("vi", "Đức Giáo hoàng gửi thông điệp hòa bình.", "partner/de"),
    ("vi", "Triển lãm mỹ thuật thu hút đông đảo khách tham quan.", "partner/us"),
    ("vi", "Sân vận động Mỹ Đình kín khán giả.", "partner/us"),
    ("vi", "Hôm nay chủ nhật, chúng tôi cập nhật tin tức liên tục.", "partner/jp"),
    ("vi", "Ý kiến của người dân được lắng nghe.", "partner/it"),
    ("vi", "Các cô gái mặc áo dài dạo phố.", "partner/at"),
    ("vi", "Tuyến đường đi Lào Cai được nâng cấp.", "partner/la"),
    ("id", "Kursus bahasa Inggris gratis untuk anak-anak.", "partner/gb"),
    ("id", "Liga Inggris: Liverpool menang tipis atas Chelsea.", "partner/gb"),
    ("id", "Harga emas naik ke 4.150 dolar AS per ons.", "partner/us"),
    ("id", "Bahasa Indonesia: Menyajikan makalah tentang pilot luar angkasa.", "partner/id"),
    ("id", "Bunga kamboja bermekaran di halaman kuil.", "partner/kh"),
    ("id", "Provinsi Lao Cai memperluas gerbang perbatasan.", "partner/la"),
    ("en", "Foreign NGOs disbursed US$230 million in aid this year.", "partner/us"),
    ("en", "Where to find the best roast turkey in Saigon.", "partner/tr"),
    ("en", "A collector shows rare blue-and-white china at an antiques fair.", "partner/cn"),
    ("en", "Lao Cai province opens a new border market.", "partner/la"),
    ("en", "Let us meet the students at the university.", "partner/us"),
]

# (sentence, partner it must get) — the same names where they do mean the country
COUNTRY_READINGS = [
    ("vi", "Việt Nam và Anh ký thỏa thuận hợp tác giáo dục.", "partner/gb"),
    ("vi", "Đại sứ Anh tại Việt Nam thăm tỉnh Quảng Ninh.", "partner/gb"),
    ("vi", "Quan hệ Việt - Nga ngày càng phát triển.", "partner/ru"),
    ("vi", "Tổng thống Nga Putin thăm Việt Nam.", "partner/ru"),
    ("vi", "Quan hệ Việt Nam – Pháp được nâng cấp.", "partner/fr"),
    ("vi", "Thủ tướng Đức thăm Hà Nội.", "partner/de"),
    ("vi", "Doanh nghiệp Nhật đầu tư vào Việt Nam.", "partner/jp"),
    ("vi", "Việt Nam và Ý ký kết thỏa thuận.", "partner/it"),
    ("vi", "Việt Nam và Lào tăng cường hợp tác.", "partner/la"),
    ("vi", "Cục Dự trữ Liên bang Mỹ phát tín hiệu hạ lãi suất.", "partner/us"),
    ("id", "Duta Besar Inggris untuk Vietnam bertemu menteri.", "partner/gb"),
    ("id", "Duta Besar AS mengunjungi Hanoi.", "partner/us"),
    ("id", "Vietnam dan Kamboja memperkuat kerja sama.", "partner/kh"),
    ("id", "Vietnam dan Indonesia dorong kerja sama perikanan.", "partner/id"),
    ("en", "The US Ambassador visited Hanoi.", "partner/us"),
    ("en", "Turkey and Vietnam signed an agreement.", "partner/tr"),
    ("en", "China and Vietnam agreed to expand trade.", "partner/cn"),
    ("en", "The Lao Ambassador met Vietnamese leaders.", "partner/la"),
]


@pytest.mark.parametrize(("language", "sentence", "partner"), COMMON_WORDS)
def test_ambiguous_names_stay_quiet_in_their_common_reading(
    tagger: Tagger, language: str, sentence: str, partner: str
) -> None:
    tagging = _tag(tagger, sentence)
    assert tagging.language == language
    assert partner not in _ids(tagging)


@pytest.mark.parametrize(("language", "sentence", "partner"), COUNTRY_READINGS)
def test_ambiguous_names_fire_where_they_name_the_country(
    tagger: Tagger, language: str, sentence: str, partner: str
) -> None:
    tagging = _tag(tagger, sentence)
    assert tagging.language == language
    assert partner in _ids(tagging)


VIETNAMESE = (
    "Quan hệ Việt Nam – Nhật Bản và hợp tác địa phương với Liên bang Nga",
    "Đại sứ quán Hàn Quốc phối hợp với Liên hiệp các tổ chức hữu nghị Việt Nam tổ chức giao "
    "lưu nhân dân nhân kỷ niệm quan hệ Đối tác chiến lược toàn diện.",
)


def test_nfd_input_tags_like_nfc(tagger: Tagger) -> None:
    title, text = VIETNAMESE
    nfc = tagger.tag(title=title, lead=None, text=text)
    nfd = tagger.tag(
        title=unicodedata.normalize("NFD", title),
        lead=None,
        text=unicodedata.normalize("NFD", text),
    )
    assert nfd == nfc
    assert {"partner/jp", "partner/ru", "partner/kr", "org/vufo"} <= _ids(nfc)
    japan = next(tag for tag in nfd.tags if tag.id == "partner/jp")
    assert japan.evidence == ("Nhật Bản",)  # as written, in NFC


def test_vietnamese_without_diacritics_matches(tagger: Tagger) -> None:
    tagging = _tag(
        tagger,
        "Quan he Viet Nam - Nhat Ban va Lien bang Nga",
        "Hai nuoc day manh hop tac dia phuong va giao luu nhan dan, ngoai giao nhan dan.",
    )
    assert tagging.language == "vi"
    assert {"partner/jp", "partner/ru", "theme/local-cooperation"} <= _ids(tagging)
    russia = next(tag for tag in tagging.tags if tag.id == "partner/ru")
    assert russia.evidence == ("Lien bang Nga",)


def test_short_names_need_their_diacritics(tagger: Tagger) -> None:
    # bare "Phap", "Duc", "Nga" are ordinary syllables without their marks
    tagging = _tag(tagger, "Phap luat va Duc tinh cua chi Nga duoc ca ngoi o Viet Nam")
    assert _ids(tagging, "partner") == set()


def test_words_match_only_whole(tagger: Tagger) -> None:
    tagging = _tag(tagger, "Indiana Jones and the Romanesque chapels of Francesca", "")
    assert _ids(tagging, "partner") == set()


def test_title_and_lead_weigh_more_than_the_body(tagger: Tagger) -> None:
    body = "Các chuyên gia đến từ Nhật Bản và Hàn Quốc tham dự hội thảo về hợp tác."
    in_title = tagger.tag(title="Hợp tác với Nhật Bản", lead=None, text=body)
    japan = next(tag for tag in in_title.tags if tag.id == "partner/jp")
    korea = next(tag for tag in in_title.tags if tag.id == "partner/kr")
    assert japan.score > korea.score
    in_lead = tagger.tag(title="Hội thảo", lead="Chuyên gia Hàn Quốc phát biểu.", text=body)
    japan = next(tag for tag in in_lead.tags if tag.id == "partner/jp")
    korea = next(tag for tag in in_lead.tags if tag.id == "partner/kr")
    assert korea.score > japan.score


def test_repeats_raise_the_score(tagger: Tagger) -> None:
    once = _tag(tagger, "Hội thảo", "Chuyên gia Nhật Bản phát biểu.")
    thrice = _tag(tagger, "Hội thảo", "Nhật Bản. Doanh nghiệp Nhật Bản. Tỉnh của Nhật Bản.")
    score = {t.id: t.score for t in once.tags}["partner/jp"]
    assert {t.id: t.score for t in thrice.tags}["partner/jp"] > score


RELEVANCE = [
    (
        "Vietnam's women lose 2-0 to England in friendly ahead of World Cup qualifiers",
        "England scored twice in the first half. The coach tested new players.",
        "partner/gb",
        False,
    ),
    (
        "Liga Inggris: Liverpool menang tipis atas Chelsea",
        "Gol tunggal Salah membawa Liverpool naik ke posisi kedua klasemen.",
        None,  # "Liga Inggris" is a league, not the country
        False,
    ),
    (
        "Giá vàng hôm nay: vàng thế giới tăng khi Fed phát tín hiệu hạ lãi suất",
        "Giá vàng miếng SJC tăng; nhu cầu mua vàng của ngân hàng trung ương Trung Quốc tăng.",
        "partner/cn",
        False,
    ),
    (
        "Vietnam, UK to expand higher education links",
        "Vietnam and the United Kingdom signed a memorandum on higher education cooperation. "
        "British universities will expand joint programmes with Vietnamese partners.",
        "partner/gb",
        True,
    ),
    (
        "Tỉnh Nghệ An và vùng Bretagne (Pháp) thúc đẩy hợp tác phân cấp",
        "Lãnh đạo tỉnh đã tiếp đoàn công tác của Hội đồng vùng Bretagne, Cộng hòa Pháp.",
        "partner/fr",
        True,
    ),
]


@pytest.mark.parametrize(("title", "text", "partner", "relevant"), RELEVANCE)
def test_relevance_tells_foreign_relations_from_news_that_names_a_country(
    tagger: Tagger, title: str, text: str, partner: str | None, relevant: bool
) -> None:
    tagging = tagger.tag(title=title, lead=None, text=text)
    assert tagging.relevant is relevant
    assert (tagging.relevance >= 0.5) is relevant
    assert _ids(tagging, "partner") == ({partner} if partner else set())


def test_one_word_of_cooperation_is_not_enough(tagger: Tagger) -> None:
    tagging = _tag(tagger, "Kerja sama warga membersihkan selokan di kampung")
    assert not tagging.relevant
    assert 0.0 < tagging.relevance < 0.5


def test_a_document_without_any_alias(tagger: Tagger) -> None:
    tagging = tagger.tag(title="", lead=None, text="")
    assert tagging == Tagging(language="und", relevant=False, relevance=0.0, tags=())


def test_labels_follow_the_document_language(tagger: Tagger) -> None:
    vi = _tag(tagger, "Việt Nam và Nhật Bản tăng cường hợp tác")
    en = _tag(tagger, "Vietnam and Japan strengthen cooperation")
    assert {t.id: t.label for t in vi.tags}["partner/jp"] == "Nhật Bản"
    assert {t.id: t.label for t in en.tags}["partner/jp"] == "Japan"


def test_matches_reports_offsets_into_the_cleaned_text(tagger: Tagger) -> None:
    text = "Kerja sama Vietnam–Jepang"
    found = tagger.matches(text, "id")
    japan = next(m for m in found if m.owner == "partner/jp")
    assert text[japan.start : japan.end] == "Jepang" == japan.phrase


def test_punctuation_in_an_alias_must_be_there(tagger: Tagger) -> None:
    dotted = _tag(tagger, "The U.S. Ambassador met Vietnamese leaders in Hanoi")
    spaced = _tag(tagger, "The U S Ambassador met Vietnamese leaders in Hanoi")
    assert "partner/us" in _ids(dotted)
    assert "partner/us" not in _ids(spaced)


def test_a_match_inside_a_longer_one_of_its_kind_does_not_count(tagger: Tagger) -> None:
    tagging = _tag(
        tagger, "Vietnam and Japan upgrade ties to a Comprehensive Strategic Partnership"
    )
    upgrade = next(tag for tag in tagging.tags if tag.id == "event/partnership-upgrade")
    assert upgrade.evidence == ("Comprehensive Strategic Partnership",)


RARE = [
    ("Việt Nam – Nhật Bản 🇻🇳🇯🇵", "Việt Nam – Nhật Bản"),  # beyond the Basic Multilingual Plane
    ("Straße: Việt Nam – Nhật Bản", "Strasse: Việt Nam – Nhật Bản"),  # ß folds to two letters
    ("Привет: Việt Nam – Nhật Bản", "Salut: Việt Nam – Nhật Bản"),  # not among the common
]


@pytest.mark.parametrize(("rare", "common"), RARE)
def test_rare_characters_change_nothing_found(tagger: Tagger, rare: str, common: str) -> None:
    body = "Hai nước thúc đẩy hợp tác địa phương và giao lưu nhân dân, ngoại giao nhân dân."
    assert _ids(tagger.tag(title=rare, lead=None, text=body)) == _ids(
        tagger.tag(title=common, lead=None, text=body)
    )
    found = tagger.matches(f"{rare}. {body}", "vi")
    assert {m.owner for m in found} >= {"partner/jp", "theme/local-cooperation"}
    for match in found:  # offsets into the cleaned text, whatever came before
        assert f"{rare}. {body}"[match.start : match.end] == match.phrase


def test_every_piece_of_evidence_is_a_match(tagger: Tagger) -> None:
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        tagging = tagger.tag(title="", lead=None, text=text)
        found: dict[str, set[str]] = {}
        for match in tagger.matches(text, tagging.language):
            found.setdefault(match.owner, set()).add(match.phrase)
        assert tagging.tags
        for tag in tagging.tags:
            assert set(tag.evidence) <= found[tag.id], (seed.name, tag.id)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Kerja sama Vietnam dengan Jepang semakin erat di bidang pendidikan", "id"),
        ("Quan hệ hợp tác Việt Nam – Nhật Bản ngày càng phát triển", "vi"),
        ("Quan he hop tac Viet Nam - Nhat Ban ngay cang phat trien", "vi"),
        ("Vietnam and Japan strengthen cooperation in education", "en"),
    ],
)
def test_language_comes_from_the_words(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_plain_text_title_is_the_first_line_with_words() -> None:
    assert split_plain_text("![]() |\nJudul\nIsi pertama.\nIsi kedua.") == (
        "Judul",
        "Isi pertama.\nIsi kedua.",
    )
    assert split_plain_text("") == ("", "")
