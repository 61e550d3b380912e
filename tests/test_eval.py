"""The evaluation set, its loader, the scoring maths, and the tagger's targets on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import ConfigError
from bot.evaluation import (
    TARGETS,
    EvalDoc,
    EvalReport,
    evaluate,
    format_misses,
    format_report,
    load_eval_set,
    missed_targets,
    report_to_dict,
)
from bot.models import Tag, Tagging
from bot.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT / "tests" / "data" / "eval"
TAXONOMY = ROOT / "seeds" / "taxonomy.yaml"
THEMES = {
    f"theme/{slug}"
    for slug in (
        "people-to-people",
        "local-cooperation",
        "ngo",
        "science-technology",
        "digital-diplomacy",
        "integration",
        "foreign-policy",
        "culture",
        "education",
        "health",
        "economy",
        "green-transition",
        "youth",
        "women",
        "sports",
        "history-memory",
    )
}


# --- the scoring maths, on hand-built tables -------------------------------------------


def _doc(
    doc_id: str, relevant: bool, partners: str = "", themes: str = "", lang: str = "en"
) -> EvalDoc:
    return EvalDoc(
        id=doc_id,
        language=lang,
        title=doc_id,
        lead=None,
        text=doc_id,
        relevant=relevant,
        partners=tuple(f"partner/{p}" for p in partners.split()),
        themes=tuple(f"theme/{t}" for t in themes.split()),
    )


def _tagging(relevant: bool, ids: str = "", score: float = 0.5) -> Tagging:
    tags = tuple(
        Tag(id=i, facet=i.split("/")[0], label=i, score=1.0, evidence=(f"«{i}»",))
        for i in ids.split()
    )
    return Tagging(language="en", relevant=relevant, relevance=score, tags=tags)


def _answers(table: dict[str, Tagging]) -> Callable[[EvalDoc], Tagging]:
    """A tagger that answers from a table: the scoring is under test, not the tagger."""
    return lambda doc: table[doc.id]


# (gold docs, answers, expected (rel P, rel R, partner P, partner R, theme P, theme R, theme F1))
SCORING_CASES = {
    "all right": (
        [_doc("a", True, "jp", "culture"), _doc("b", False)],
        {"a": _tagging(True, "partner/jp theme/culture"), "b": _tagging(False)},
        (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    ),
    "relevance half right": (
        [_doc("a", True), _doc("b", True), _doc("c", False), _doc("d", False)],
        {"a": _tagging(True), "b": _tagging(False), "c": _tagging(True), "d": _tagging(False)},
        (0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0),
    ),
    "partners micro-averaged over documents": (
        [_doc("a", True, "jp fr"), _doc("b", True, "ru"), _doc("c", True, "la kh")],
        {
            "a": _tagging(True, "partner/jp"),
            "b": _tagging(True, "partner/ru partner/gb"),
            "c": _tagging(True, "partner/la partner/kh"),
        },
        (1.0, 1.0, 4 / 5, 4 / 5, 1.0, 1.0, 1.0),
    ),
    "tags of irrelevant documents are not scored": (
        [_doc("a", True, "jp"), _doc("b", False)],
        {"a": _tagging(True, "partner/jp"), "b": _tagging(False, "partner/gb theme/sports")},
        (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    ),
    "a relevant document judged irrelevant still scores its tags": (
        [_doc("a", True, "jp", "culture"), _doc("b", True, "fr", "education")],
        {"a": _tagging(False, "partner/jp theme/culture"), "b": _tagging(True)},
        (1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 2 / 3),
    ),
    "themes: precision, recall and F1": (
        [_doc("a", True, "", "culture education"), _doc("b", True, "", "health")],
        {
            "a": _tagging(True, "theme/culture theme/youth theme/women"),
            "b": _tagging(True, "theme/health"),
        },
        (1.0, 1.0, 1.0, 1.0, 2 / 4, 2 / 3, 2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3)),
    ),
    "nothing predicted, nothing expected": (
        [_doc("a", False)],
        {"a": _tagging(False)},
        (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    ),
    "nothing predicted for relevant documents": (
        [_doc("a", True, "jp", "culture")],
        {"a": _tagging(False)},
        (1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0),
    ),
}


@pytest.mark.parametrize("case", SCORING_CASES.values(), ids=SCORING_CASES.keys())
def test_scores(case: tuple[list[EvalDoc], dict[str, Tagging], tuple[float, ...]]) -> None:
    docs, answers, expected = case
    s = evaluate(docs, _answers(answers)).overall
    got = (
        s.relevance.precision,
        s.relevance.recall,
        s.partner.precision,
        s.partner.recall,
        s.theme.precision,
        s.theme.recall,
        s.theme.f1,
    )
    assert got == pytest.approx(expected)
    assert s.documents == len(docs)


def _mixed_report() -> EvalReport:
    docs = [
        _doc("en-1", True, "jp", "culture", lang="en"),
        _doc("en-2", False, lang="en"),
        _doc("vi-1", True, "fr", "education", lang="vi"),
        _doc("vi-2", False, lang="vi"),
    ]
    answers = {
        "en-1": _tagging(True, "partner/jp theme/culture"),
        "en-2": _tagging(True, "partner/gb", score=0.81),
        "vi-1": _tagging(True, "partner/fr partner/gb theme/education"),
        "vi-2": _tagging(False),
    }
    return evaluate(docs, _answers(answers))


def test_scores_per_language_add_up_to_the_overall_scores() -> None:
    report = _mixed_report()
    assert list(report.by_language) == ["en", "vi"]
    en, vi = report.by_language["en"], report.by_language["vi"]
    assert (en.documents, vi.documents) == (2, 2)
    assert en.relevance.precision == 0.5 and vi.relevance.precision == 1.0
    assert en.partner.precision == 1.0 and vi.partner.precision == 0.5
    assert report.overall == en + vi
    assert report.overall.partner.precision == pytest.approx(2 / 3)


def test_misses_name_the_document_what_was_expected_and_why() -> None:
    misses = {(m.doc_id, m.facet): m for m in _mixed_report().misses}
    assert set(misses) == {("en-2", "relevance"), ("vi-1", "partner")}
    relevance = misses["en-2", "relevance"]
    assert (relevance.expected, relevance.got) == (("not relevant",), ("relevant",))
    assert "0.81" in relevance.detail
    partner = misses["vi-1", "partner"]
    assert (partner.expected, partner.got) == (("partner/fr",), ("partner/fr", "partner/gb"))
    assert "partner/gb" in partner.detail and "«partner/gb»" in partner.detail


def test_missed_targets_name_each_missed_target() -> None:
    missed = missed_targets(_mixed_report())
    assert [line.split(" 0.")[0] for line in missed] == ["relevance precision", "partner precision"]
    perfect = SCORING_CASES["all right"]
    assert missed_targets(evaluate(perfect[0], _answers(perfect[1]))) == ()


def test_report_table_is_aligned_and_shows_every_slice() -> None:
    text = format_report(_mixed_report())
    table, verdict = text.split("\n\n")
    lines = table.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["all", "en", "vi", "target"]
    assert len({len(line) for line in lines}) == 1, "columns must line up"
    assert "0.667" in lines[1]  # overall partner precision
    assert verdict.startswith("targets missed: relevance precision")


def test_misses_and_json_render_the_same_report() -> None:
    report = _mixed_report()
    lines = format_misses(report).splitlines()
    assert [line.split()[:2] for line in lines] == [["en-2", "relevance"], ["vi-1", "partner"]]
    data = json.loads(json.dumps(report_to_dict(report)))
    assert data["overall"]["documents"] == 4
    assert data["languages"]["vi"]["partner"] == {
        "precision": 0.5, "recall": 1.0, "f1": 0.6667, "tp": 1, "fp": 1, "fn": 0
    }  # fmt: skip
    met = {t["name"]: t["met"] for t in data["targets"]}
    assert met == {
        t.name: t.name not in ("relevance precision", "partner precision") for t in TARGETS
    }
    assert [m["id"] for m in data["misses"]] == ["en-2", "vi-1"]


# --- the loader ----------------------------------------------------------------------

GOOD = """\
documents:
  - id: en-1
    language: en
    title: "Vietnam, Japan sign local cooperation deals"
    lead: Fifteen agreements were signed.
    text: >-
      The agreements cover agriculture
      and training.
    relevant: true
    partners: [partner/jp]
    themes: [theme/local-cooperation]
  - id: en-2
    language: en
    title: England win
    lead: null
    text: England beat Serbia.
    relevant: false
"""

# (file content, expected line, expected field, words the message must contain)
BAD_FILES = {
    "missing relevant": (GOOD.replace("    relevant: false\n", ""), 12, "relevant", "missing"),
    "relevant not a boolean": (
        GOOD.replace("relevant: true", "relevant: perhaps"),
        9,
        "relevant",
        "true or false",
    ),
    "unknown field": (GOOD.replace("    themes:", "    theme:"), 11, "theme", "unknown field"),
    "partner id without facet": (
        GOOD.replace("[partner/jp]", "[jp]"),
        10,
        "partners",
        "partner/slug",
    ),
    "theme listed under partners": (
        GOOD.replace("[partner/jp]", "[theme/culture]"),
        10,
        "partners",
        "partner/slug",
    ),
    "id listed twice": (
        GOOD.replace("[partner/jp]", "[partner/jp, partner/jp]"),
        10,
        "partners",
        "twice",
    ),
    "labels on an irrelevant document": (
        GOOD + "    partners: [partner/gb]\n",
        12,
        None,
        "irrelevant",
    ),
    "language of another file": (
        GOOD.replace("language: en\n    title: England", "language: vi\n    title: England"),
        13,
        "language",
        "`vi`",
    ),
    "empty title": (
        GOOD.replace('"Vietnam, Japan sign local cooperation deals"', '""'),
        4,
        "title",
        "non-empty",
    ),
    "not YAML": (GOOD.replace("  - id: en-2", "  - id: [en-2"), 13, None, "not valid YAML"),
    "no documents list": ("- id: en-1\n", 1, None, "documents"),
}


@pytest.mark.parametrize("case", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_loader_names_file_line_and_field(
    tmp_path: Path, case: tuple[str, int, str | None, str]
) -> None:
    content, line, field, words = case
    (tmp_path / "en.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_eval_set(tmp_path)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(tmp_path / "en.yaml"), line, field)
    assert words in error.message
    assert str(error).startswith(f"{tmp_path / 'en.yaml'}:{line}")


def test_loader_reads_documents(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text(GOOD, encoding="utf-8")
    first, second = load_eval_set(tmp_path)
    assert first.text == "The agreements cover agriculture and training."
    assert (first.relevant, first.partners, first.themes) == (
        True,
        ("partner/jp",),
        ("theme/local-cooperation",),
    )
    assert (first.line, second.line) == (2, 12)
    assert (second.lead, second.partners, second.themes) == (None, (), ())


def test_loader_rejects_an_id_used_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "vi.yaml").write_text(
        GOOD.replace("language: en", "language: vi").replace("id: en-1", "id: vi-1"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"duplicate document id `en-2`.*en\.yaml:12") as caught:
        load_eval_set(tmp_path)
    assert (caught.value.path, caught.value.line) == (str(tmp_path / "vi.yaml"), 12)


def test_loader_needs_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no evaluation files") as caught:
        load_eval_set(tmp_path / "missing")
    assert caught.value.path == str(tmp_path / "missing")


# --- the real evaluation set -----------------------------------------------------------


@pytest.fixture(scope="module")
def eval_set() -> list[EvalDoc]:
    return load_eval_set(EVAL_DIR)


def test_the_set_is_large_balanced_and_trilingual(eval_set: list[EvalDoc]) -> None:
    assert len(eval_set) >= 60
    for language in ("id", "en", "vi"):
        docs = [d for d in eval_set if d.language == language]
        assert len(docs) >= 20, language
        share = sum(d.relevant for d in docs) / len(docs)
        assert 0.5 <= share <= 0.7, f"{language}: {share:.0%} relevant"
    partners = {p for d in eval_set for p in d.partners}
    assert len(partners) >= 15, "relevant documents should spread over many partners"


def test_the_set_uses_product_themes_sparingly(eval_set: list[EvalDoc]) -> None:
    for doc in eval_set:
        assert set(doc.themes) <= THEMES, doc.id
        assert not doc.relevant or 1 <= len(doc.themes) <= 3, doc.id
        assert "partner/vn" not in doc.partners, doc.id
    assert {t for d in eval_set for t in d.themes} == THEMES, "every theme has an example"


def test_every_label_exists_in_the_taxonomy(eval_set: list[EvalDoc]) -> None:
    known = {node.id for node in load_taxonomy(TAXONOMY).nodes}
    unknown = {(d.id, i) for d in eval_set for i in (*d.partners, *d.themes) if i not in known}
    assert not unknown


def test_the_tagger_meets_the_targets(eval_set: list[EvalDoc]) -> None:
    tagging = pytest.importorskip("bot.tagging")
    tagger = tagging.Tagger(load_taxonomy(TAXONOMY))
    report = evaluate(eval_set, lambda d: tagger.tag(title=d.title, lead=d.lead, text=d.text))
    assert not missed_targets(report), f"\n{format_report(report)}\n\n{format_misses(report)}"


# --- `duta eval` ---------------------------------------------------------------------


def test_duta_eval_prints_the_table_and_exits_on_the_targets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("bot.tagging")
    monkeypatch.setenv("DUTA_TAXONOMY", str(TAXONOMY))
    status = main(["eval", "--data", str(EVAL_DIR), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["documents"] == len(load_eval_set(EVAL_DIR))
    assert sorted(data["languages"]) == ["en", "id", "vi"]
    assert status == (0 if all(t["met"] for t in data["targets"]) else 1)

    assert main(["eval", "--data", str(EVAL_DIR)]) == status
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines()[1:6]]
    assert rows == ["all", "en", "id", "vi", "target"]
    assert ("all targets met" in out) == (status == 0)


def test_duta_eval_reports_a_missing_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("bot.tagging")
    monkeypatch.setenv("DUTA_TAXONOMY", str(TAXONOMY))
    assert main(["eval", "--data", str(tmp_path)]) == 1
    assert f"{tmp_path}: no evaluation files" in capsys.readouterr().err


def test_the_held_out_set_loads_and_is_balanced() -> None:
    """The blind set (never tuned on) stays well-formed; its scores are reported, not asserted."""
    docs = load_eval_set(Path(__file__).parent / "data" / "holdout")
    assert len(docs) == 60
    assert {d.language for d in docs} == {"id", "en", "vi"}
    assert 0.5 <= sum(d.relevant for d in docs) / len(docs) <= 0.7
