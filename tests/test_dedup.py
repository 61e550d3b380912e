"""Canonical URLs, fingerprints and story linking, with the threshold's evidence from the seeds."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.dedup import (
    NEAR_DUPLICATE_BITS,
    canonical_url,
    choose_canonical,
    fingerprint,
    hamming,
    pick_story,
)
from bot.extract import extract
from tests.httpserver import LocalSite

ROOT = Path(__file__).resolve().parents[1]
EXTRACT_DATA = Path(__file__).parent / "data" / "extract"
# "Far outside" the threshold: distinct articles must clear it by this many bits.
MARGIN_BITS = 8


def seed_dir() -> Path:
    """The seed articles: in the tree if copied there, else shared/ beside the clone."""
    for folder in (ROOT / "seeds", ROOT.parent / "shared" / "seeds"):
        if len(list(folder.glob("*.txt"))) >= 5:
            return folder
    raise AssertionError("the seed articles (seeds/*.txt) are missing")


SEEDS = {
    path.name[:3]: path.read_text(encoding="utf-8") for path in sorted(seed_dir().glob("*.txt"))
}
CAPTION = re.compile(r"\((?:Foto|Sumber)[^)]*\)\s*\|?\s*$|_Foto:|^!\[\]|^\|")


def paragraphs(text: str) -> list[str]:
    """The seed's body paragraphs: long lines that are not photo captions."""
    return [line for line in text.splitlines() if len(line) > 150 and not CAPTION.search(line)]


def without_boilerplate(text: str) -> str:
    return "\n".join(paragraphs(text))


def with_other_boilerplate(text: str) -> str:
    return "\n".join(
        [
            "Vietnam.vn - Nền tảng quảng bá Việt Nam",
            "Bagikan ke Facebook",
            *paragraphs(text),
            "Komentar (12)",
            "Baca juga",
            "Dalam kategori yang sama",
            "Cuaca Hanoi hari ini cerah berawan dengan suhu 18-24 derajat",
        ]
    )


def trimmed_last_paragraph(text: str) -> str:
    return "\n".join(paragraphs(text)[:-1])


def recaptioned(text: str) -> str:
    return "\n".join(
        line + " (Foto: VNA)" if CAPTION.search(line) else line for line in text.splitlines()
    )


def decomposed_upper_case(text: str) -> str:
    return unicodedata.normalize("NFD", text).upper().replace("\n", "\n\n  ")


COPIES = [
    without_boilerplate,
    with_other_boilerplate,
    trimmed_last_paragraph,
    recaptioned,
    decomposed_upper_case,
]


@pytest.mark.parametrize("copy", COPIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_copies_of_a_seed_are_near_duplicates(seed: str, copy: Callable[[str], str]) -> None:
    original = SEEDS[seed]

    assert hamming(fingerprint(original), fingerprint(copy(original))) <= NEAR_DUPLICATE_BITS


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(sorted(SEEDS), 2)))
def test_distinct_seeds_are_far_apart(a: str, b: str) -> None:
    distance = hamming(fingerprint(SEEDS[a]), fingerprint(SEEDS[b]))

    assert distance >= NEAR_DUPLICATE_BITS + MARGIN_BITS


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_two_halves_of_one_seed_are_distinct_articles(seed: str) -> None:
    """Same outlet, topic, names and vocabulary, different text."""
    body = paragraphs(SEEDS[seed])
    half = len(body) // 2
    first, second = "\n".join(body[:half]), "\n".join(body[half:])

    assert hamming(fingerprint(first), fingerprint(second)) >= NEAR_DUPLICATE_BITS + MARGIN_BITS


def extracted_text(name: str) -> str:
    return extract((EXTRACT_DATA / name).read_bytes(), "https://example.vn/a-1.html").text


def test_republication_extracted_from_html_matches_its_seed() -> None:
    text = extracted_text("vietnamvn_id_ngo_conference.html")
    seed = next(body for body in SEEDS.values() if "post928020" in body)  # credits Nhân Dân

    assert hamming(fingerprint(text), fingerprint(seed)) <= NEAR_DUPLICATE_BITS


@pytest.mark.parametrize(
    ("a", "b"),
    list(
        itertools.combinations(
            [
                "nhandan_ngo_conference.html",
                "thoidai_viet_nga.html",
                "legacy_windows1258.html",
                "baoquocte_en_japan.html",
            ],
            2,
        )
    ),
)
def test_distinct_friendship_articles_are_far_apart(a: str, b: str) -> None:
    distance = hamming(fingerprint(extracted_text(a)), fingerprint(extracted_text(b)))

    assert distance >= NEAR_DUPLICATE_BITS + MARGIN_BITS


def test_fingerprint_is_a_signed_int64_and_deterministic() -> None:
    values = [fingerprint(text) for text in SEEDS.values()]

    assert all(-(2**63) <= value < 2**63 for value in values)
    assert min(values) < 0 < max(values)  # the whole signed range is used
    assert values == [fingerprint(text) for text in SEEDS.values()]
    assert len(set(values)) == len(values)


def test_fingerprint_ignores_normal_form_case_and_spacing() -> None:
    text = "Hội nghị quốc tế lần thứ 5 về hợp tác giữa Việt Nam và các tổ chức phi chính phủ"
    variant = "  " + unicodedata.normalize("NFD", text).upper().replace(" ", " \n\t ") + "\n"

    assert fingerprint(variant) == fingerprint(text)


@pytest.mark.parametrize(
    ("a", "b", "bits"),
    [(0, 0, 0), (0, -1, 64), (1, 3, 1), (-1, 2**63 - 1, 1), (0b1011, 0b0110, 3), (-(2**63), 0, 1)],
)
def test_hamming(a: int, b: int, bits: int) -> None:
    assert hamming(a, b) == bits
    assert hamming(b, a) == bits


def bits_set(count: int) -> int:
    return (1 << count) - 1


@pytest.mark.parametrize(
    ("credited", "crediting", "candidates", "expected"),
    [
        (7, 8, [(9, 0)], 7),  # the original it credits comes first
        (None, 8, [(9, 0)], 8),  # then a translation that credits it
        (None, None, [(9, bits_set(NEAR_DUPLICATE_BITS))], 9),  # at the threshold: joins
        (None, None, [(9, bits_set(NEAR_DUPLICATE_BITS + 1))], None),  # past it: new story
        (None, None, [(3, bits_set(5)), (4, bits_set(2)), (5, bits_set(40))], 4),  # nearest
        (None, None, [(3, bits_set(2)), (4, bits_set(2))], 3),  # a tie goes to the first
        (None, None, [], None),
    ],
    ids=["credited", "crediting", "at-threshold", "past-threshold", "nearest", "tie", "none"],
)
def test_pick_story(
    credited: int | None,
    crediting: int | None,
    candidates: list[tuple[int, int]],
    expected: int | None,
) -> None:
    assert (
        pick_story(0, credited_story=credited, crediting_story=crediting, candidates=candidates)
        == expected
    )


def test_pick_story_links_a_copy_of_a_seed_to_its_story() -> None:
    stored = [(story, fingerprint(text)) for story, text in enumerate(SEEDS.values(), start=1)]
    seed_three = list(SEEDS.values())[2]

    copy = trimmed_last_paragraph(seed_three)

    assert (
        pick_story(fingerprint(copy), credited_story=None, crediting_story=None, candidates=stored)
        == 3
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://NhanDan.VN/a-post1.html", "https://nhandan.vn/a-post1.html"),
        ("https://nhandan.vn:443/a-post1.html", "https://nhandan.vn/a-post1.html"),
        ("http://nhandan.vn:80/a-post1.html", "http://nhandan.vn/a-post1.html"),
        ("http://nhandan.vn/a-post1.html", "http://nhandan.vn/a-post1.html"),  # no https guess
        ("https://nhandan.vn/a-post1.html#comments", "https://nhandan.vn/a-post1.html"),
        (
            "https://baoquocte.vn/a-335453.html?utm_source=zalo&utm_medium=share&utm_campaign=x",
            "https://baoquocte.vn/a-335453.html",
        ),
        (
            "https://vietnam.vn/id/x?fbclid=IwAR0abc&gclid=Cj0K&mc_cid=1a&mc_eid=2b&zarsrc=30",
            "https://vietnam.vn/id/x",
        ),
        (
            "https://x.vn/search?q=viet+nga&page=2&utm_term=a",
            "https://x.vn/search?page=2&q=viet+nga",
        ),
        ("https://x.vn/list?b=2&a=1", "https://x.vn/list?a=1&b=2"),
        (
            "https://tapchicongsan.org.vn/web/guest/-/2018/1141602/doc-lap%2c-tu-chu.aspx",
            "https://tapchicongsan.org.vn/web/guest/-/2018/1141602/doc-lap,-tu-chu.aspx",
        ),
        (
            "https://tapchicongsan.org.vn/web/guest/-/2018/1141602/doc-lap%2C-tu-chu.aspx",
            "https://tapchicongsan.org.vn/web/guest/-/2018/1141602/doc-lap,-tu-chu.aspx",
        ),
        (
            "https://vietnam.vn/vi/ti%e1%ba%bfng-vi%E1%BB%87t",
            "https://vietnam.vn/vi/ti%E1%BA%BFng-vi%E1%BB%87t",
        ),
        ("https://x.vn/a%2fb%7e", "https://x.vn/a%2Fb~"),
        ("https://x.vn", "https://x.vn/"),
        ("  https://x.vn/a  ", "https://x.vn/a"),
        (
            "http://127.0.0.1:8931/news/a.html?utm_source=rss#top",
            "http://127.0.0.1:8931/news/a.html",
        ),
        ("http://127.0.0.1:8931/item?id=5&fbclid=1", "http://127.0.0.1:8931/item?id=5"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected  # idempotent


def test_canonical_url_of_a_local_site(site: LocalSite) -> None:
    assert canonical_url(site.url("/tin/a-1.html?utm_medium=rss#x")) == site.url("/tin/a-1.html")
    assert canonical_url(site.url("/tin/a-1.html")) != canonical_url(site.url("/tin/a-2.html"))


FETCHED = "https://nhandan.vn/thegioi/viet-nga-post928020.html?utm_source=rss"
CLEAN = "https://nhandan.vn/thegioi/viet-nga-post928020.html"


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (None, CLEAN),
        ("", CLEAN),
        (
            "https://nhandan.vn/viet-nga-post928020.html",
            "https://nhandan.vn/viet-nga-post928020.html",
        ),
        (
            "https://www.nhandan.vn/viet-nga-post928020.html?utm_source=fb",
            "https://www.nhandan.vn/viet-nga-post928020.html",
        ),
        ("/viet-nga-post928020.html#top", "https://nhandan.vn/viet-nga-post928020.html"),
        ("https://en.nhandan.vn/viet-nga-post928020.html", CLEAN),  # another site
        ("https://baomoi.com/viet-nga-post928020.html", CLEAN),
        ("ftp://nhandan.vn/viet-nga-post928020.html", CLEAN),
        ("https://nhandan.vn/", CLEAN),  # site root
        ("https://nhandan.vn", CLEAN),
        ("https://nhandan.vn/thegioi/", CLEAN),  # the article's own section
        ("https://nhandan.vn/chinhtri/", CLEAN),  # another section
        ("https://nhandan.vn/tag/doi-ngoai", CLEAN),
        (
            "https://nhandan.vn/viet-nga-post928020.html?utm_medium=social",
            "https://nhandan.vn/viet-nga-post928020.html",
        ),
    ],
)
def test_choose_canonical(declared: str | None, expected: str) -> None:
    assert choose_canonical(FETCHED, declared) == expected


def test_choose_canonical_on_a_local_site(site: LocalSite) -> None:
    fetched = site.url("/tin/viet-nga-216676.html?utm_source=rss")

    assert choose_canonical(fetched, site.url("/tin/viet-nga-216676.html")) == site.url(
        "/tin/viet-nga-216676.html"
    )
    assert choose_canonical(fetched, site.url("/")) == site.url("/tin/viet-nga-216676.html")
    assert choose_canonical(fetched, "http://127.0.0.1:1/tin/viet-nga-216676.html") == site.url(
        "/tin/viet-nga-216676.html"
    )
