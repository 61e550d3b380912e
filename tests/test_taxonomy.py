"""The taxonomy file: the shipped one is complete and valid; every mistake names line,
node and field; `duta taxonomy show|check|suggest` work on real files."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import ConfigError
from bot.taxonomy import (
    FOLD_TABLE,
    LANGUAGES,
    PUNCTUATION,
    clean,
    fold,
    load_taxonomy,
    parse_taxonomy,
    scan_form,
)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TAXONOMY = SEEDS / "taxonomy.yaml"

GOOD = """\
version: 1
relevance:
  home: {id: [Vietnam], en: [Vietnam], vi: [Việt Nam]}
  cues: {id: [kerja sama], en: [cooperation], vi: [hợp tác]}
  off_topic: {id: [skor], en: [score], vi: [tỷ số]}
  signals: [org]
nodes:
  - id: partner/jp
    label: {id: Jepang, en: Japan, vi: Nhật Bản}
    seeds: []
    aliases:
      id: [Jepang]
      en: [Japan]
      vi: [Nhật Bản]
  - id: partner/fr
    label: {id: Prancis, en: France, vi: Pháp}
    aliases:
      id: [Prancis]
      en: [France]
      vi: [{text: Pháp, case_sensitive: true, forbids_context: [luật]}]
"""


def test_shipped_taxonomy_has_every_id_the_product_names() -> None:
    taxonomy = load_taxonomy(TAXONOMY)
    ids = set(taxonomy.ids())
    themes = {
        "people-to-people", "local-cooperation", "ngo", "science-technology",
        "digital-diplomacy", "integration", "foreign-policy", "culture", "education",
        "health", "economy", "green-transition", "youth", "women", "sports", "history-memory",
    }  # fmt: skip
    events = {"agreement", "forum", "visit", "anniversary", "festival", "partnership-upgrade"}
    partners = {
        "fr", "de", "gb", "ru", "jp", "fi", "pl", "nl", "at", "ie", "ch", "it", "am", "us",
        "eu", "asean", "un", "apec", "wto", "brics", "cn", "la", "kh", "kr", "in", "au", "id",
    }  # fmt: skip
    assert {f"theme/{slug}" for slug in themes} <= ids
    assert {f"event/{slug}" for slug in events} <= ids
    assert {f"partner/{slug}" for slug in partners} <= ids
    assert {"org/vufo", "org/comingo", "place/hanoi", "place/saint-petersburg"} <= ids


def test_every_node_speaks_three_languages_and_cites_real_seeds() -> None:
    seed_files = {path.name for path in SEEDS.glob("*.txt")}
    assert len(seed_files) == 5
    for node in load_taxonomy(TAXONOMY).nodes:
        assert all(node.label.get(language) for language in LANGUAGES), node.id
        assert {alias.language for alias in node.aliases} == set(LANGUAGES), node.id
        assert set(node.seeds) <= seed_files, node.id


def test_seed_files_are_the_shared_originals() -> None:
    originals = ROOT.parent / "shared" / "seeds"
    if not originals.is_dir():
        pytest.skip("the shared seed directory is not mounted here")
    for path in originals.glob("*.txt"):
        assert (SEEDS / path.name).read_bytes() == path.read_bytes()


def test_a_minimal_taxonomy_loads_with_its_flags() -> None:
    taxonomy = parse_taxonomy(GOOD)
    france = taxonomy.node("partner/fr")
    short = next(a for a in france.aliases if a.language == "vi")
    assert (short.text, short.case_sensitive, short.fold) == ("Pháp", True, False)
    assert short.forbids_context == ("luật",)
    assert taxonomy.node("partner/jp").label.get("vi") == "Nhật Bản"
    assert taxonomy.relevance.signals == ("org",)


@pytest.mark.parametrize(
    ("broken", "line", "field", "words"),
    [
        pytest.param(
            GOOD.replace("id: partner/fr", "id: partner/jp"),
            15,
            "id",
            "duplicate id `partner/jp` (first on line 8)",
            id="duplicate id",
        ),
        pytest.param(
            GOOD.replace("en: [France]", "en: [France, '  ']"),
            19,
            "partner/fr.aliases.en",
            "empty alias",
            id="empty alias",
        ),
        pytest.param(
            GOOD.replace("en: [France]", "en: [France, Japan]"),
            19,
            "partner/fr.aliases.en",
            "alias `Japan` of `partner/fr` is also an alias of `partner/jp`",
            id="alias on two nodes",
        ),
        pytest.param(
            GOOD.replace("en: [France]", "en: [France, Nhat Ban]"),
            19,
            "partner/fr.aliases.en",
            "alias `Nhat Ban` of `partner/fr` is also an alias of `partner/jp`",
            id="same alias without diacritics",
        ),
        pytest.param(
            GOOD.replace("{id: Prancis, en: France, vi: Pháp}", "{id: Prancis, en: France}"),
            16,
            "partner/fr.label.vi",
            "node `partner/fr` has no label in `vi`",
            id="missing label language",
        ),
        pytest.param(
            GOOD.replace("      en: [Japan]\n", ""),
            12,
            "partner/jp.aliases.en",
            "`partner/jp` has no aliases in `en`",
            id="missing alias language",
        ),
        pytest.param(
            GOOD.replace("id: partner/fr", "id: country/fr"),
            15,
            "id",
            "`country/fr` is not `facet/slug`",
            id="unknown facet",
        ),
        pytest.param(
            GOOD.replace("id: partner/fr", "id: partner/xx"),
            15,
            "id",
            "`xx` is not an ISO 3166-1 alpha-2 country code",
            id="not an ISO code",
        ),
        pytest.param(
            GOOD.replace("    seeds: []", "    seed: []"),
            10,
            "seed",
            "unknown field `seed` in node `partner/jp` (did you mean `seeds`?)",
            id="misspelt field",
        ),
        pytest.param(
            GOOD.replace("case_sensitive: true", "case_sensitive: maybe"),
            20,
            "partner/fr.aliases.vi.case_sensitive",
            "expected true or false",
            id="bad flag",
        ),
        pytest.param(
            GOOD.replace("signals: [org]", "signals: [theme/nothing]"),
            6,
            "relevance.signals",
            "`theme/nothing` is neither a facet nor a node id",
            id="unknown signal",
        ),
    ],
)
def test_mistakes_name_line_node_and_field(broken: str, line: int, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_taxonomy(broken, "taxonomy.yaml")
    error = caught.value
    assert (error.line, error.field) == (line, field)
    assert words in error.message
    assert str(error).startswith(f"taxonomy.yaml:{line} [{field}]: ")


def test_an_alias_marked_shared_on_both_nodes_may_repeat() -> None:
    shared = GOOD.replace("en: [Japan]", "en: [Japan, {text: Indochina, shared: true}]").replace(
        "en: [France]", "en: [France, {text: Indochina, shared: true}]"
    )
    taxonomy = parse_taxonomy(shared)
    owners = [n.id for n in taxonomy.nodes for a in n.aliases if fold(a.text) == "indochina"]
    assert owners == ["partner/jp", "partner/fr"]
    one_sided = GOOD.replace("en: [Japan]", "en: [Japan, {text: Indochina, shared: true}]")
    one_sided = one_sided.replace("en: [France]", "en: [France, Indochina]")
    with pytest.raises(ConfigError, match="mark both `shared: true`"):
        parse_taxonomy(one_sided)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read taxonomy"):
        load_taxonomy(tmp_path / "nope.yaml")


def test_taxonomy_check_passes_on_the_shipped_seeds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DUTA_TAXONOMY", str(TAXONOMY))
    assert main(["taxonomy", "check"]) == 0
    out = capsys.readouterr().out
    assert "valid, " in out
    assert out.count("  ok   ") == 5
    assert "all 5 seeds get their expected tags; every citation holds" in out


def _copy_seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def test_taxonomy_check_reports_a_seed_that_misses_its_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = _copy_seeds(tmp_path)
    expected = seeds / "expected.yaml"
    text = expected.read_text(encoding="utf-8")
    text = text.replace("must: [theme/ngo,", "must: [theme/ngo, partner/jp,")
    text = text.replace("must_not: [partner/us]", "must_not: [org/vufo]")
    expected.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DUTA_TAXONOMY", str(seeds / "taxonomy.yaml"))
    assert main(["taxonomy", "check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL 004_fa3bd44e9612663f.txt: missing partner/jp" in out
    assert "FAIL 004_fa3bd44e9612663f.txt: unexpected org/vufo" in out
    assert "Persatuan Organisasi Persahabatan Vietnam" in out  # the evidence of the surprise


def test_taxonomy_check_reports_a_false_citation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = _copy_seeds(tmp_path)
    taxonomy = seeds / "taxonomy.yaml"
    text = taxonomy.read_text(encoding="utf-8")
    marker = "  - id: partner/kr\n    label: {id: Korea Selatan, en: South Korea, vi: Hàn Quốc}\n"
    assert marker in text
    cited = marker + "    seeds: [003_8abcc2aa43217efd.txt]"
    taxonomy.write_text(text.replace(marker + "    seeds: []", cited), encoding="utf-8")
    monkeypatch.setenv("DUTA_TAXONOMY", str(taxonomy))
    assert main(["taxonomy", "check"]) == 1
    out = capsys.readouterr().out
    assert "partner/kr cites 003_8abcc2aa43217efd.txt, but none of its aliases occurs there" in out


def test_taxonomy_check_names_node_field_and_line_of_a_broken_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = _copy_seeds(tmp_path)
    taxonomy = seeds / "taxonomy.yaml"
    lines = taxonomy.read_text(encoding="utf-8").splitlines()
    number = lines.index("      id: [Jepang]") + 1
    lines[number - 1] = "      id: [Jepang, Prancis]"
    taxonomy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("DUTA_TAXONOMY", str(taxonomy))
    assert main(["taxonomy", "check"]) == 1
    err = capsys.readouterr().err
    assert f"taxonomy.yaml:{number} [partner/jp.aliases.id]" in err
    assert "alias `Prancis` of `partner/jp` is also an alias of `partner/fr`" in err


def test_taxonomy_show_lists_ids_and_labels(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DUTA_TAXONOMY", str(TAXONOMY))
    assert main(["taxonomy", "show", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    japan = next(node for node in listed["nodes"] if node["id"] == "partner/jp")
    assert japan["facet"] == "partner"
    assert japan["label"] == {"id": "Jepang", "en": "Japan", "vi": "Nhật Bản"}
    assert len(listed["nodes"]) == len(load_taxonomy(TAXONOMY).nodes)
    assert main(["taxonomy", "show"]) == 0
    out = capsys.readouterr().out
    assert "partner/jp" in out
    assert "Jepang · Japan · Nhật Bản" in out


def test_taxonomy_suggest_proposes_recurring_uncovered_phrases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "new.txt"
    document.write_text(
        "Program Beasiswa Mekong untuk mahasiswa Vietnam.\n"
        "Program Beasiswa Mekong dibuka lagi tahun ini bersama Jepang.\n"
        "Peserta Program Beasiswa Mekong belajar di Tokyo.\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DUTA_TAXONOMY", str(TAXONOMY))
    assert main(["taxonomy", "suggest", str(document)]) == 0
    out = capsys.readouterr().out
    assert "   3×  1 doc(s)  Mekong" in out
    # aliases ("Beasiswa", "Jepang", "Tokyo") are covered already, and so is what they cut
    for covered in ("Beasiswa", "Jepang", "Tokyo", "Program Beasiswa"):
        assert covered not in out


def test_taxonomy_check_names_the_line_of_an_unknown_id_in_expected_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = _copy_seeds(tmp_path)
    expected = seeds / "expected.yaml"
    lines = expected.read_text(encoding="utf-8").splitlines()
    number = lines.index("    must: [theme/ngo,") + 1
    lines[number - 1] = "    must: [theme/ngo, partner/zz,"
    expected.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("DUTA_TAXONOMY", str(seeds / "taxonomy.yaml"))
    assert main(["taxonomy", "check"]) == 1
    err = capsys.readouterr().err
    assert "expected.yaml:" in err
    assert "[004_fa3bd44e9612663f.txt.must]: unknown tag ids: partner/zz" in err


def _reference_clean(text: str) -> str:
    """clean() as first written: one regular expression over every run of white space."""
    nfc = unicodedata.normalize("NFC", text)
    return re.sub(r"\s+", lambda m: "\n" if "\n" in m.group() else " ", nfc).strip()


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t ",
        "Hà Nội",
        "Hà Nội  và\tHuế",
        "  Tiêu đề \n\n Đoạn một.\r\n\r\nĐoạn hai. ",
        "Việt Nam\u00a0–\u2009Nhật Bản\u2028mới",
        "Vie\u0302\u0323t Nam",  # NFD
        "a\x0bb\x0cc\x1cd\x85e",
        "line\n \nline\n",
        "Москва\u3000и  Ханой",
    ],
)
def test_clean_collapses_white_space_as_its_first_definition(text: str) -> None:
    assert clean(text) == _reference_clean(text)


def _expected_scan(char: str) -> str | None:
    folded = FOLD_TABLE[ord(char)]
    if len(folded) != 1:
        return None
    return folded if folded.isalnum() or folded == " " else PUNCTUATION


def test_scan_form_reads_every_character_as_its_fold() -> None:
    # one by one, over the whole Basic Multilingual Plane (surrogates aside)
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        assert scan_form(char) == _expected_scan(char), hex(code)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Quan hệ Việt – Nga “U.S.” ĐÀ NẴNG, Ủy ban", True),  # common characters: fast
        ("Quan hệ Việt Nam – Москва, 東京 and Zürich", True),  # rarer ones: table by table
        ("Việt Nam 🇻🇳 Nhật Bản", False),  # beyond the table: left to the tagger's own road
    ],
)
def test_scan_form_of_a_text_is_the_scan_of_each_character(text: str, read: bool) -> None:
    form = scan_form(text)
    assert (form is not None) is read
    if form is not None:
        assert form == "".join(str(_expected_scan(char)) for char in text)


def test_scan_form_gives_up_where_folding_changes_the_length() -> None:
    assert scan_form("Straße in Đà Nẵng") is None  # ß folds to "ss"
