"""UI strings: complete in every language, same placeholders, valid Telegram HTML."""

from __future__ import annotations

import string

import pytest

from bot.models import UI_LANGUAGES
from bot.telegram import i18n
from bot.telegram.i18n import (
    COMMANDS,
    Html,
    command_descriptions,
    help_text,
    language_for,
    t,
    t_html,
)
from bot.telegram.locales import CATALOGS, is_plain
from bot.telegram.locales import vi as vietnamese
from tests.test_render import telegram_html

ENGLISH = CATALOGS["en"]
HOSTILE_VALUE = '<script>&"x"</script>'
# Keys whose text is the same in every language on purpose (names, pure layout).
SAME_EVERYWHERE = {
    "lang.en",
    "lang.id",
    "lang.vi",
    "help.line",
    "button.facet",
    "button.topic",
    "button.topic_on",
    "list.item",
    "settings.quiet_range",
    "sources.item",
    "why.tag",
}
VIETNAMESE_LETTERS = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_every_language_has_every_key_and_no_other(lang: str) -> None:
    assert set(CATALOGS[lang]) == set(ENGLISH)


@pytest.mark.parametrize("lang", ["id", "vi"])
def test_translations_keep_the_placeholders(lang: str) -> None:
    for key, template in CATALOGS[lang].items():
        assert placeholders(template) == placeholders(ENGLISH[key]), key


@pytest.mark.parametrize("lang", ["id", "vi"])
def test_every_sentence_is_translated(lang: str) -> None:
    same = {key for key, text in CATALOGS[lang].items() if text == ENGLISH[key]}
    assert same <= SAME_EVERYWHERE


def test_vietnamese_is_written_with_diacritics() -> None:
    for key, text in vietnamese.MESSAGES.items():
        words = [w for w in text.split() if w.isalpha()]
        if key in SAME_EVERYWHERE or len(words) < 3:
            continue
        assert set(text.lower()) & VIETNAMESE_LETTERS, key


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_html_strings_are_valid_telegram_html_with_hostile_values(lang: str) -> None:
    for key, template in CATALOGS[lang].items():
        values = dict.fromkeys(placeholders(template), HOSTILE_VALUE)
        text = t_html(lang, key, **values)
        if is_plain(key):
            assert "<" not in template and "&" not in template, key
            continue
        visible = telegram_html(text)  # raises on stray markup or unbalanced tags
        for _ in values:
            assert HOSTILE_VALUE in visible, key


def test_t_formats_and_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    assert t("vi", "subscribe.done", topics="Nhật Bản", mode=t("vi", "mode.daily")) == (
        "✅ Đã đăng ký Nhật Bản — bản tin hằng ngày."
    )
    assert t("fr", "render.other") == "Other"
    monkeypatch.delitem(vietnamese.MESSAGES, "render.other")
    assert t("vi", "render.other") == "Other"
    with pytest.raises(KeyError):
        t("en", "no.such.key")


def test_t_html_escapes_values_unless_marked_html() -> None:
    text = t_html("en", "unsubscribe.done", topics="<b>A & B</b>")
    assert text == "🔕 Unsubscribed from &lt;b&gt;A &amp; B&lt;/b&gt;."
    marked = t_html("en", "unsubscribe.done", topics=Html("<b>Japan</b>"))
    assert marked == "🔕 Unsubscribed from <b>Japan</b>."
    assert t_html("en", "unsubscribe.all", count=3) == "🔕 Unsubscribed from all topics (3)."


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("id", "id"),
        ("id-ID", "id"),
        ("in", "id"),
        ("vi", "vi"),
        ("vi-VN", "vi"),
        ("VI", "vi"),
        ("en", "en"),
        ("en-GB", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_language_for_telegram_language_codes(code: str | None, lang: str) -> None:
    assert language_for(code) == lang


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_command_menu_fits_telegram_rules(lang: str) -> None:
    public = command_descriptions(lang)
    admin = command_descriptions(lang, admin=True)
    assert [name for name, _ in admin] == list(COMMANDS)
    assert "status" not in [name for name, _ in public]
    for name, description in admin:
        assert name.islower() and 1 <= len(name) <= 32
        assert 3 <= len(description) <= 256 and "\n" not in description


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_help_lists_every_command(lang: str) -> None:
    visible = telegram_html(help_text(lang, admin=True))
    lines = visible.split("\n")
    for name, description in command_descriptions(lang, admin=True):
        matching = [line for line in lines if line.startswith(f"/{name}") and description in line]
        assert len(matching) == 1, name
    assert "/status" not in telegram_html(help_text(lang))


@pytest.mark.parametrize("command", i18n.COMMANDS_WITH_ARGS)
def test_usage_of_commands_with_arguments_shows_an_example(command: str) -> None:
    for lang in UI_LANGUAGES:
        usage = telegram_html(t(lang, f"usage.{command}"))
        assert f"/{command}" in usage
        assert usage.count(f"/{command}") >= 2, "no example"
