"""Alerts, digests and message splitting as a Telegram chat would receive them.

Every output goes through `telegram_html`, an independent checker of what Telegram's
HTML parse mode accepts (allowed tags only, balanced, `<`, `>` and `&` escaped), which
also returns the text a reader sees. The splitting properties run over many inputs
generated from fixed seeds.
"""

from __future__ import annotations

import html
import itertools
import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.digest import DigestSection, sections
from bot.models import DigestEntry, StoredArticle, Tag
from bot.taxonomy import Taxonomy, load_taxonomy
from bot.telegram import render
from bot.telegram.split import MAX_ENTITIES, split_message
from bot.telegram.topics import topic_label

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 5, 2, 1, 0, tzinfo=UTC)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
ALLOWED_TAGS |= {"blockquote", "tg-spoiler", "span"}
HOSTILE = [
    "<script>alert('x')</script>",
    'Tom & Jerry "quoted" <b>bold</b>',
    "a < b > c && d",
    "*bold* _italic_ `code` [link](http://x) ~strike~",
    "&amp; &lt;already&gt; &#60;",
    "</a></b><a href='javascript:alert(1)'>",
    "Hà Nội — Tokyo ‘trích dẫn’ “ngoặc”",
]

_TELEGRAM_TOKEN = re.compile(
    r"<(?P<open>[a-z-]+)(?P<attrs>(?: [a-z-]+=\"[^\"<>]*\")*)>"
    r"|</(?P<close>[a-z-]+)>"
    r"|(?P<entity>&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);)"
    r"|(?P<text>[^<>&]+)"
)


def telegram_html(message: str) -> str:
    """The visible text of a valid Telegram HTML message; AssertionError when invalid."""
    stack: list[str] = []
    visible: list[str] = []
    position = 0
    while position < len(message):
        match = _TELEGRAM_TOKEN.match(message, position)
        assert match, f"unescaped markup at {position}: {message[position : position + 40]!r}"
        if match.group("open"):
            assert match.group("open") in ALLOWED_TAGS, match.group()
            stack.append(match.group("open"))
        elif match.group("close"):
            assert stack and stack[-1] == match.group("close"), f"unbalanced {match.group()}"
            stack.pop()
        else:
            visible.append(html.unescape(match.group()))
        position = match.end()
    assert not stack, f"tags left open: {stack}"
    return "".join(visible)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy(ROOT / "seeds" / "taxonomy.yaml")


def article(**changes: object) -> StoredArticle:
    """A stored article as the Thời Đại friendship section publishes them."""
    base = StoredArticle(
        id=1,
        story_id=1,
        source="thoidai-friendship",
        url="https://thoidai.com.vn/giao-luu-huu-nghi-viet-nam-nhat-ban-tai-ha-noi-212345.html",
        canonical_url="https://thoidai.com.vn/giao-luu-huu-nghi-viet-nam-nhat-ban-tai-ha-noi-212345.html",
        title="Giao lưu hữu nghị Việt Nam - Nhật Bản tại Hà Nội",
        text="Liên hiệp các tổ chức hữu nghị Việt Nam phối hợp tổ chức giao lưu nhân dân.",
        lead=None,
        published_at=datetime(2025, 5, 1, 23, 30, tzinfo=UTC),
        fetched_at=datetime(2025, 5, 1, 23, 45, tzinfo=UTC),
        language="vi",
        site="Thời Đại",
        relevant=True,
        relevance=0.82,
        summary="Hội hữu nghị Việt - Nhật tổ chức giao lưu văn hóa với sinh viên hai nước.",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def tag(node_id: str, score: float, *evidence: str) -> Tag:
    return Tag(node_id, node_id.split("/")[0], node_id, score, evidence)


JAPAN_TAGS = (
    tag("theme/people-to-people", 0.8, "giao lưu nhân dân"),
    tag("partner/jp", 0.9, "Nhật Bản"),
    tag("place/hanoi", 0.4, "Hà Nội"),
    tag("partner/fr", 0.2, "Pháp"),
)


def alert_for(taxonomy: Taxonomy, item: StoredArticle, **changes: object) -> str:
    options: dict[str, object] = {
        "also_in": (),
        "lang": "en",
        "tz": HANOI,
        "labels": partial(topic_label, taxonomy),
    }
    options.update(changes)
    tags = options.pop("tags", JAPAN_TAGS)
    return render.alert(item, tags, **options)  # type: ignore[arg-type]


# --- alerts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "tags_line"),
    [
        ("en", "🌏 Japan, France · 🤝 People-to-people diplomacy · 📍 Hanoi"),
        ("vi", "🌏 Nhật Bản, Pháp · 🤝 Ngoại giao nhân dân · 📍 Hà Nội"),
        ("id", "🌏 Jepang, Prancis · 🤝 Diplomasi antarmasyarakat · 📍 Hanoi"),
    ],
)
def test_alert_shows_title_site_date_summary_tags_and_link(
    taxonomy: Taxonomy, lang: str, tags_line: str
) -> None:
    message = alert_for(taxonomy, article(), lang=lang)
    lines = telegram_html(message).split("\n")
    assert message.startswith("<b>Giao lưu hữu nghị Việt Nam - Nhật Bản tại Hà Nội</b>\n")
    assert lines[1] == "Thời Đại · 02/05/2025 06:30"
    assert article().summary in lines
    assert tags_line in lines
    assert f'<a href="{article().url}">' in message


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("UTC", "01/05/2025 23:30"),
        ("Asia/Jakarta", "02/05/2025 06:30"),
        ("Asia/Tokyo", "02/05/2025 08:30"),
        ("Europe/Paris", "02/05/2025 01:30"),
    ],
)
def test_alert_date_is_in_the_chats_time_zone(taxonomy: Taxonomy, zone: str, shown: str) -> None:
    message = alert_for(taxonomy, article(), tz=ZoneInfo(zone))
    assert telegram_html(message).split("\n")[1].endswith(f" · {shown}")


def test_undated_article_shows_when_it_was_fetched(taxonomy: Taxonomy) -> None:
    message = alert_for(taxonomy, article(published_at=None), tz=ZoneInfo("UTC"))
    assert "01/05/2025 23:45" in telegram_html(message)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_alert_escapes_every_dynamic_string(taxonomy: Taxonomy, hostile: str) -> None:
    item = article(
        title=f"Title {hostile}",
        summary=f"Summary {hostile}",
        site=f"Site {hostile}",
        url=f"https://baoquocte.vn/a.html?q={hostile}",
    )
    message = alert_for(taxonomy, item, also_in=[f"Other {hostile}"])
    visible = telegram_html(message)  # raises on any unescaped markup
    squashed = " ".join(hostile.split())
    for field in ("Title", "Summary", "Site", "Other"):
        assert f"{field} {squashed}" in visible
    href = re.search(r'<a href="([^"]*)">', message)
    assert href and html.unescape(href.group(1)) == item.url


@pytest.mark.parametrize("url", ["javascript:alert(1)", "tg://resolve?domain=x", "ftp://a/b"])
def test_links_only_for_web_urls(taxonomy: Taxonomy, url: str) -> None:
    message = alert_for(taxonomy, article(url=url))
    assert "<a " not in message
    assert "Read on Thời Đại" in telegram_html(message)


def test_also_in_lists_other_copies_once_without_the_own_site(taxonomy: Taxonomy) -> None:
    also = ["VnExpress", "Thời Đại", "Nhân Dân", "VnExpress", "  "]
    visible = telegram_html(alert_for(taxonomy, article(), also_in=also, lang="vi"))
    assert visible.split("\n")[-1] == "cũng có trên: VnExpress, Nhân Dân"
    assert "also in" not in telegram_html(alert_for(taxonomy, article(), also_in=["Thời Đại"]))


def test_alert_falls_back_to_lead_host_and_no_tags(taxonomy: Taxonomy) -> None:
    item = article(summary=None, lead="Sapo của bài báo.", site=None)
    visible = telegram_html(alert_for(taxonomy, item, tags=()))
    assert "Sapo của bài báo." in visible
    assert "thoidai.com.vn · 02/05/2025 06:30" in visible
    assert "🌏" not in visible


def test_alert_of_huge_fields_fits_one_message(taxonomy: Taxonomy) -> None:
    item = article(title="Tiêu đề " * 500, summary="Tóm tắt dài " * 2000)
    message = alert_for(taxonomy, item, also_in=[f"site{i}" for i in range(20)])
    assert len(message) <= render.MESSAGE_LIMIT
    visible = telegram_html(message)
    assert "…" in visible
    assert split_message(message) == [message]


def test_why_lists_tags_with_their_evidence(taxonomy: Taxonomy) -> None:
    labels = partial(topic_label, taxonomy)
    visible = telegram_html(render.why(article(), JAPAN_TAGS, lang="en", labels=labels))
    lines = visible.split("\n")
    assert "About Vietnam's foreign relations (score 0.82)" in visible
    assert "• Japan (partner/jp, 0.90): “Nhật Bản”" in lines
    assert lines.index("• Japan (partner/jp, 0.90): “Nhật Bản”") < lines.index(
        "• France (partner/fr, 0.20): “Pháp”"
    )
    untagged = render.why(article(relevant=None), (), lang="vi", labels=labels)
    assert "chưa được gắn thẻ" in telegram_html(untagged)


# --- digests ---------------------------------------------------------------------------


def digest_entries(count: int, themes: tuple[str, ...]) -> list[DigestEntry]:
    entries = []
    for number in range(count):
        item = article(
            id=number + 1,
            story_id=number + 1,
            url=f"https://baoquocte.vn/tin-{number}-{number * 7919}.html",
            title=f"Tin số {number}: hợp tác <Việt Nam> & đối tác",
            published_at=NOW - timedelta(hours=number),
            summary=f"Tóm tắt tin {number}. " * 12,
            site="Báo Quốc tế" if number % 2 else "VnExpress",
        )
        theme = themes[number % len(themes)]
        tags = (tag(theme, 0.5 + (number % 5) / 10),) if theme else ()
        entries.append(DigestEntry(item, (*tags, tag("partner/jp", 0.9))))
    return entries


def render_digest(taxonomy: Taxonomy, groups: list[DigestSection], lang: str = "en") -> list[str]:
    return render.digest(
        groups,
        title=render.digest_title(lang, date(2025, 5, 2)),  # type: ignore[arg-type]
        lang=lang,  # type: ignore[arg-type]
        tz=HANOI,
        labels=partial(topic_label, taxonomy),
    )


def test_digest_has_title_theme_headings_and_items(taxonomy: Taxonomy) -> None:
    entries = digest_entries(5, ("theme/ngo", "theme/ngo", ""))
    [message] = render_digest(taxonomy, sections(entries, now=NOW), lang="en")
    lines = telegram_html(message).split("\n")
    assert message.startswith("<b>Duta digest — 02/05/2025</b>\n\n<b>Foreign NGOs</b>\n• <a href=")
    assert [line for line in lines if line in ("Foreign NGOs", "Other")] == [
        "Foreign NGOs",
        "Other",
    ]
    assert "• Tin số 1: hợp tác <Việt Nam> & đối tác — Báo Quốc tế, 02/05/2025" in lines
    summary = lines[
        lines.index("• Tin số 1: hợp tác <Việt Nam> & đối tác — Báo Quốc tế, 02/05/2025") + 1
    ]
    assert summary.startswith("Tóm tắt tin 1.") and len(summary) <= render.MAX_DIGEST_SUMMARY_CHARS


def test_digest_in_vietnamese_names_sections_in_vietnamese(taxonomy: Taxonomy) -> None:
    entries = digest_entries(2, ("theme/people-to-people", ""))
    [message] = render_digest(taxonomy, sections(entries, now=NOW), lang="vi")
    lines = telegram_html(message).split("\n")
    assert lines[0] == "Bản tin Duta — 02/05/2025"
    assert "Ngoại giao nhân dân" in lines and "Tin khác" in lines


def test_long_digest_splits_between_items_and_keeps_every_item_once(taxonomy: Taxonomy) -> None:
    themes = ("theme/ngo", "theme/culture", "theme/education", "")
    entries = digest_entries(150, themes)
    messages = render_digest(taxonomy, sections(entries, now=NOW))
    assert len(messages) > 1
    shown: list[str] = []
    for message in messages:
        assert len(message) <= render.MESSAGE_LIMIT
        lines = telegram_html(message).split("\n")
        assert lines[-1].startswith("Tóm tắt"), "a part ends inside an item or on a heading"
        shown += [line for line in lines if line.startswith("• ")]
        assert message.count("<a ") <= MAX_ENTITIES
    assert sorted(shown) == sorted({line for line in shown})
    assert len(shown) == 150


def test_empty_digest_renders_no_message(taxonomy: Taxonomy) -> None:
    assert render_digest(taxonomy, []) == []
    assert render_digest(taxonomy, [DigestSection("theme/ngo", ())]) == []


# --- split_message ---------------------------------------------------------------------


def random_text(rng: random.Random, *, markup: bool) -> str:
    """Paragraphs of lines of words, some overlong; with links, bold spans and entities."""
    words = ["hữu", "nghị", "Việt", "Nam", "&amp;", "&lt;x&gt;", "😀", "Jepang", "&#8212;"]
    words += ["a" * rng.randint(20, 300)]  # a long URL-like word
    paragraphs = []
    for _ in range(rng.randint(1, 25)):
        lines = []
        for _ in range(rng.randint(1, 6)):
            line = " ".join(rng.choice(words) for _ in range(rng.randint(1, 40)))
            if markup and rng.random() < 0.5:
                href = html.escape(f'https://x.vn/{rng.random()}?a=1&b="2"', quote=True)
                line = f'<b>{line}</b> <a href="{href}">{rng.choice(words)} link</a>'
            lines.append(line)
        paragraphs.append("\n".join(lines))
    text = "\n\n".join(paragraphs)
    if markup and rng.random() < 0.3:
        text = f"<i>{text}</i>"  # a span across every boundary
    return text


def assert_slices(parts: list[str], text: str) -> None:
    """The parts are the text in order, cut only where white space (or nothing) was dropped."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0 and text[position:found].strip() == "", "text lost or reordered"
        position = found + len(part)
    assert text[position:].strip() == ""


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("seed", range(120))
def test_split_plain_text_parts_are_slices_under_the_limit(seed: int) -> None:
    rng = random.Random(seed)
    text = random_text(rng, markup=False)
    limit = rng.choice([64, 200, 1000, 4096])
    parts = split_message(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert all(part.strip() for part in parts)
    for part in parts:
        telegram_html(part)  # no entity was cut
    assert_slices(parts, text)


@pytest.mark.parametrize("seed", range(120))
def test_split_html_parts_are_balanced_and_keep_all_text(seed: int) -> None:
    rng = random.Random(1000 + seed)
    text = random_text(rng, markup=True)
    limit = rng.choice([400, 1000, 4096])
    parts = split_message(text, limit)
    visible = [telegram_html(part) for part in parts]  # balanced, nothing cut
    assert all(len(part) <= limit for part in parts)
    assert squashed("".join(visible)) == squashed(telegram_html(text))


@pytest.mark.parametrize("seed", range(60))
def test_split_cuts_only_between_paragraphs_when_they_fit(seed: int) -> None:
    rng = random.Random(2000 + seed)
    limit = 500
    paragraphs = [
        "\n".join(" ".join("từ" for _ in range(rng.randint(1, 30))) for _ in range(3))
        for _ in range(rng.randint(1, 40))
    ]
    paragraphs = [p for p in paragraphs if len(p) <= limit]
    text = "\n\n".join(paragraphs)
    parts = split_message(text, limit)
    assert [p for part in parts for p in part.split("\n\n")] == paragraphs
    for first, second in itertools.pairwise(parts):
        assert len(first) + 2 + len(second.split("\n\n")[0]) > limit, "could have packed more"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_split_of_rendered_hostile_titles_stays_escaped(taxonomy: Taxonomy, hostile: str) -> None:
    entries = [
        DigestEntry(article(id=n, story_id=n, title=f"{hostile} {n}", site=hostile), ())
        for n in range(80)
    ]
    messages = render_digest(taxonomy, sections(entries, now=NOW))
    assert len(messages) > 1
    for message in messages:
        assert "<script" not in message
        assert " ".join(hostile.split()) in telegram_html(message)


def test_split_hard_cuts_a_word_longer_than_the_limit() -> None:
    text = "start " + "x&amp;y" * 700 + " end"
    parts = split_message(text, 100)
    assert all(len(part) <= 100 for part in parts)
    for part in parts:
        telegram_html(part)
    assert "".join(parts).replace("startx", "start x").replace("yend", "y end") == text


def test_split_reopens_a_link_cut_in_the_middle() -> None:
    text = '<a href="https://thoidai.com.vn/a.html">' + "chữ " * 100 + "</a>"
    parts = split_message(text, 120)
    assert len(parts) > 1
    for part in parts:
        assert part.startswith('<a href="https://thoidai.com.vn/a.html">')
        assert part.endswith("</a>")
        telegram_html(part)


def test_split_limits_formatted_spans_per_message() -> None:
    text = "\n".join(f'<a href="https://x.vn/{n}">{n}</a>' for n in range(350))
    parts = split_message(text)
    assert len(parts) == 4
    assert all(part.count("<a ") <= MAX_ENTITIES for part in parts)


def test_split_counts_characters_as_telegram_does() -> None:
    text = "😀 " * 2000  # 4000 characters, but 6000 UTF-16 code units
    assert len(text) <= render.MESSAGE_LIMIT
    parts = split_message(text)
    assert len(parts) == 2
    assert all(len(part.encode("utf-16-le")) // 2 <= render.MESSAGE_LIMIT for part in parts)


def test_split_leaves_short_messages_alone_and_drops_empty_ones() -> None:
    assert split_message("<b>Duta</b>\n\nhello") == ["<b>Duta</b>\n\nhello"]
    assert split_message("") == []
    assert split_message(" \n\n <b></b> ") == []


def test_split_refuses_markup_longer_than_the_limit() -> None:
    text = f'<a href="https://x.vn/{"p" * 200}">link text</a>'
    with pytest.raises(ValueError, match="cannot split"):
        split_message(text, 100)
