"""Telegram commands: argument parsing from tables, then the real bot against the emulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot import dedup
from bot.extract import extract
from bot.models import ChatSettings, NewArticle, Source, StoredArticle
from bot.pipeline import tag_article
from bot.settings import Settings
from bot.store import Store
from bot.tagging import Tagger
from bot.taxonomy import Taxonomy, load_taxonomy
from bot.telegram.app import DutaApplication, build_application, register_commands
from bot.telegram.commands import (
    MAX_WORDS,
    ArgumentError,
    Callback,
    DigestRequest,
    SettingsChange,
    SubscribeRequest,
    decode_callback,
    encode_callback,
    parse_digest,
    parse_settings,
    parse_subscribe,
    parse_url,
    shorten,
)
from bot.telegram.i18n import t
from bot.telegram.services import Services
from tests.emulator import Chat, Emulator, JSONDict, User

FACETS = ("theme", "partner", "org", "event", "place")
KNOWN = {"partner/jp", "theme/people-to-people", "theme/ngo"}


# --- argument parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["partner/jp"], SubscribeRequest(("partner/jp",), "instant")),
        (["partner/jp", "daily"], SubscribeRequest(("partner/jp",), "daily")),
        (["WEEKLY", "jepang", "ngo"], SubscribeRequest(("jepang", "ngo"), "weekly")),
        (["harian", "jepang"], SubscribeRequest(("jepang",), "daily")),
        (["x" * 4000, "japan"], SubscribeRequest(("japan",), "instant")),
    ],
)
def test_subscribe_arguments(args: list[str], expected: SubscribeRequest) -> None:
    assert parse_subscribe(args) == expected


@pytest.mark.parametrize("args", [[], ["daily"], ["x" * 4000], ["   "]])
def test_subscribe_without_a_topic_is_a_usage_error(args: list[str]) -> None:
    with pytest.raises(ArgumentError) as raised:
        parse_subscribe(args)
    assert raised.value.usage == "subscribe"


def test_subscribe_takes_a_bounded_number_of_words() -> None:
    assert len(parse_subscribe(["japan"] * 500).words) == MAX_WORDS


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], None),
        (["lang", "ID"], SettingsChange("lang", {"language": "id"})),
        (["tz", "Asia/Jakarta"], SettingsChange("tz", {"timezone": "Asia/Jakarta"})),
        (["tz", "asia/ho_chi_minh"], SettingsChange("tz", {"timezone": "Asia/Ho_Chi_Minh"})),
        (["digest", "7:30"], SettingsChange("digest", {"digest_time": "07:30"})),
        (["weekly", "Friday"], SettingsChange("weekly", {"digest_weekday": 4})),
        (["weekly", "minggu"], SettingsChange("weekly", {"digest_weekday": 6})),
        (
            ["quiet", "22:00-07:00"],
            SettingsChange("quiet", {"quiet_start": "22:00", "quiet_end": "07:00"}),
        ),
        (["quiet", "off"], SettingsChange("quiet", {"quiet_start": None, "quiet_end": None})),
    ],
)
def test_settings_arguments(args: list[str], expected: SettingsChange | None) -> None:
    assert parse_settings(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["lang", "fr"],
        ["tz", "Mars/Olympus"],
        ["tz", "../../etc/passwd"],
        ["tz", "Asia/Jakartа"],  # Cyrillic 'а'
        ["digest", "25:00"],
        ["digest", "٠٧:٣٠"],  # Arabic-Indic digits
        ["digest", "7.30"],
        ["weekly", "someday"],
        ["quiet", "22:00"],
        ["quiet", "08:00-08:00"],
        ["colour", "blue"],
        ["tz"],
        ["tz", "Asia/Jakarta", "extra"],
    ],
)
def test_bad_settings_are_usage_errors(args: list[str]) -> None:
    with pytest.raises(ArgumentError) as raised:
        parse_settings(args)
    assert raised.value.usage == "settings"


def test_shorten_drops_control_characters_and_cuts() -> None:
    assert shorten("a\u202eb\x00c") == "abc"
    text = shorten("<b>" * 2000)
    assert len(text) == 40 and text.endswith("…")


# --- callback data ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "callback",
    [
        Callback("home"),
        Callback("facet", "partner", "2"),
        Callback("subscribe", "partner/jp", "0"),
        Callback("unsubscribe", "theme/people-to-people", "q"),
    ],
)
def test_callbacks_round_trip(callback: Callback) -> None:
    data = encode_callback(callback)
    assert len(data.encode()) <= 64
    assert decode_callback(data, facets=FACETS, topics=KNOWN.__contains__) == callback


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "x",
        "s:partner/zz:0",  # unknown topic
        "s:partner/jp:999",  # page out of range of the format
        "f:colour:0",
        "f:partner:q",
        "h:partner",
        "s:partner/jp:0;DROP TABLE",
        "s:partner/jp:0:extra",
        "s:<b>x</b>:0",
        "s:pаrtner/jp:0",  # Cyrillic 'а'
        "s:" + "a" * 200 + ":0",
    ],
)
def test_forged_callbacks_are_rejected(data: str | None) -> None:
    assert decode_callback(data, facets=FACETS, topics=KNOWN.__contains__) is None


@pytest.mark.parametrize(
    ("args", "period", "words"),
    [
        ([], timedelta(hours=24), ()),
        (["3d"], timedelta(days=3), ()),
        (["1w", "partner/jp"], timedelta(weeks=1), ("partner/jp",)),
        (["jepang"], timedelta(hours=24), ("jepang",)),
        (["30d"], timedelta(days=30), ()),
    ],
)
def test_digest_arguments(args: list[str], period: timedelta, words: tuple[str, ...]) -> None:
    assert parse_digest(args) == DigestRequest(period, words)


@pytest.mark.parametrize("first", ["31d", "0h", "5w", "3x", "99999999d"])
def test_digest_periods_beyond_30_days_or_malformed_are_refused(first: str) -> None:
    with pytest.raises(ArgumentError) as raised:
        parse_digest([first])
    assert raised.value.usage == "digest" and raised.value.detail


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["https://baoquocte.vn/a.html"], "https://baoquocte.vn/a.html"),
        (["baoquocte.vn/a.html"], "https://baoquocte.vn/a.html"),
    ],
)
def test_why_takes_one_web_address(args: list[str], expected: str) -> None:
    assert parse_url(args) == expected


@pytest.mark.parametrize(
    "args",
    [[], ["a", "b"], ["javascript:alert(1)"], ["ftp://x.example/a"], ["https://" + "a" * 4000]],
)
def test_why_refuses_anything_else(args: list[str]) -> None:
    with pytest.raises(ArgumentError):
        parse_url(args)


# --- the real bot against the Bot API emulator -----------------------------------------

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ADMIN_CHAT_ID = 424242
TAXONOMY_PATH = Path(__file__).resolve().parent.parent / "seeds" / "taxonomy.yaml"
EXTRACT_DATA = Path(__file__).resolve().parent / "data" / "extract"
JAPAN_URL = (
    "https://en.baoquocte.vn/bright-spots-on-the-map-of-vietnam-japan-cooperation-335453.html"
)
ANNA = User(501, "Anna", language_code="en")
BUDI = User(502, "Budi", language_code="id")
CHI = User(503, "Chi", language_code="vi")


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    """The real taxonomy from seeds/."""
    return load_taxonomy(TAXONOMY_PATH)


@dataclass
class Running:
    """The bot, running against the emulator with long polling, and its store."""

    emulator: Emulator
    store: Store
    application: DutaApplication

    async def command(
        self, chat: Chat, user: User, text: str, *, replies: int = 1, thread_id: int | None = None
    ) -> list[JSONDict]:
        """Send a command as `user` and return the bot's `replies` new messages in `chat`."""
        before = len(self.emulator.bot_messages(chat.id))
        self.emulator.send_command(chat, user, text, thread_id=thread_id)
        messages = await self.emulator.wait_for_bot_messages(chat.id, before + replies)
        return messages[before:]

    async def press(self, chat: Chat, user: User, message_id: int, data: str) -> JSONDict:
        """Press a button and return the bot's answer to it."""
        before = len(self.emulator.callback_answers())
        self.emulator.send_callback(chat, user, message_id, data)
        answers = await self.emulator.wait_for_callback_answers(before + 1)
        return answers[before]

    async def settle(self, chat: Chat, user: User) -> int:
        """Wait until the bot has handled everything sent so far; how many messages it sent.

        Updates are handled in order, so once a /help sent now is answered, every earlier
        update has been too. The /help reply itself is not counted.
        """
        await self.command(chat, user, "/help")
        return len(self.emulator.bot_messages(chat.id)) - 1

    def message(self, chat: Chat, message_id: int) -> JSONDict:
        """The bot's message `message_id` in `chat` as the user sees it now (edits applied)."""
        found = [m for m in self.emulator.bot_messages(chat.id) if m["message_id"] == message_id]
        assert len(found) == 1
        return found[0]


@pytest.fixture
async def bot(emulator: Emulator, taxonomy: Taxonomy, tmp_path: Path) -> AsyncIterator[Running]:
    """The real Application with a SQLite store and the seed taxonomy, polling the emulator."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/duta.db",
        telegram_token=emulator.token,
        telegram_api_url=emulator.api_url,
        admin_chat_ids=(ADMIN_CHAT_ID,),
    )
    store = Store.open(settings.database_url)
    services = Services(settings=settings, store=store, taxonomy=taxonomy, clock=lambda: NOW)
    application = build_application(services)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield Running(emulator, store, application)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        store.close()


def html_of(message: JSONDict) -> str:
    """The HTML the bot sent (the emulator's `text` is what the user sees)."""
    return str(message["sent"]["text"])


def buttons(message: JSONDict) -> list[JSONDict]:
    """Every inline button under a message."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def button_for(message: JSONDict, data_prefix: str) -> JSONDict:
    """The one button whose callback data starts with `data_prefix`."""
    found = [b for b in buttons(message) if b["callback_data"].startswith(data_prefix)]
    assert len(found) == 1, [b["callback_data"] for b in buttons(message)]
    return found[0]


def subscriptions(store: Store, chat: Chat) -> set[tuple[str, str, int | None]]:
    """(topic, mode, thread) of every subscription of `chat`."""
    return {(s.topic, s.mode, s.thread_id) for s in store.subscriptions(chat.id)}


def store_article(store: Store, taxonomy: Taxonomy, page: str, url: str) -> StoredArticle:
    """Extract, store and tag a fixture page the way the pipeline does."""
    extracted = extract((EXTRACT_DATA / page).read_bytes(), url)
    canonical = dedup.choose_canonical(extracted.url, extracted.canonical_url)
    new = NewArticle(
        source="baoquocte-en",
        url=extracted.url,
        canonical_url=canonical,
        title=extracted.title,
        text=extracted.text,
        lead=extracted.lead,
        published_at=extracted.published_at,
        author=extracted.author,
        site=extracted.site,
        language=extracted.language,
        image=extracted.image,
        fingerprint=dedup.fingerprint(extracted.text),
        credit_url=None,
    )
    stored = store.add_article(new, story_id=None, now=NOW)
    assert stored is not None
    tagging, summary = tag_article(Tagger(taxonomy), stored)
    store.set_tagging(stored.id, tagging, summary, now=NOW)
    return stored


# /start, /help and the command menu


async def test_start_welcomes_in_the_users_language_with_quick_picks(bot: Running) -> None:
    english, indonesian = Chat.private(ANNA), Chat.private(BUDI)

    [welcome_en] = await bot.command(english, ANNA, "/start")
    [welcome_id] = await bot.command(indonesian, BUDI, "/start")

    assert html_of(welcome_en).startswith(t("en", "start.welcome")[:40])
    assert html_of(welcome_id).startswith(t("id", "start.welcome")[:40])
    assert html_of(welcome_en) != html_of(welcome_id)
    assert bot.store.chat(english.id) == ChatSettings(english.id, kind="private", language="en")
    stored_id = bot.store.chat(indonesian.id)
    assert stored_id is not None and stored_id.language == "id"
    picks = [b["callback_data"] for b in buttons(welcome_en)]
    assert "s:theme/people-to-people:q" in picks and "h" in picks


async def test_help_lists_every_command(bot: Running) -> None:
    chat = Chat.private(CHI)

    [help_vi] = await bot.command(chat, CHI, "/help")

    assert html_of(help_vi).startswith(t("vi", "help.intro"))
    for name in ("subscribe", "unsubscribe", "digest", "why", "settings", "topics", "list"):
        assert f"/{name}" in help_vi["text"]
    assert "/status" not in help_vi["text"]


async def test_register_commands_publishes_a_menu_per_language(bot: Running) -> None:
    await register_commands(bot.application.bot, admin_chat_ids=[ADMIN_CHAT_ID])

    menus = {
        (m["scope"]["type"], m.get("language_code") or ""): m for m in bot.emulator.bot_commands()
    }
    default = [c["command"] for c in menus[("default", "")]["commands"]]
    assert default[:3] == ["start", "help", "topics"] and "status" not in default
    descriptions = {
        lang: menus[("default", lang)]["commands"][0]["description"] for lang in ("en", "id", "vi")
    }
    assert descriptions == {lang: t(lang, "cmd.start") for lang in ("en", "id", "vi")}
    assert len(set(descriptions.values())) == 3
    admin = [m for m in bot.emulator.bot_commands() if m["scope"]["type"] == "chat"]
    assert [m["scope"]["chat_id"] for m in admin] == [ADMIN_CHAT_ID]
    assert "status" in [c["command"] for c in admin[0]["commands"]]


# /subscribe, /list, /unsubscribe


async def test_subscribe_by_id_with_a_mode_is_confirmed_and_stored(bot: Running) -> None:
    chat = Chat.private(ANNA)

    [reply] = await bot.command(chat, ANNA, "/subscribe partner/jp instant")

    assert "Japan" in reply["text"] and t("en", "mode.instant") in reply["text"]
    assert subscriptions(bot.store, chat) == {("partner/jp", "instant", None)}


async def test_subscribe_by_an_indonesian_name_resolves_the_topic(bot: Running) -> None:
    chat = Chat.private(BUDI)

    [reply] = await bot.command(chat, BUDI, "/subscribe jepang harian")

    assert "Jepang" in reply["text"]
    assert subscriptions(bot.store, chat) == {("partner/jp", "daily", None)}


async def test_a_misspelt_topic_gets_a_suggestion_and_stores_nothing(bot: Running) -> None:
    chat = Chat.private(ANNA)

    [reply] = await bot.command(chat, ANNA, "/subscribe japn")

    assert "japn" in reply["text"] and "partner/jp" in reply["text"]
    assert subscriptions(bot.store, chat) == set()


async def test_subscribe_without_a_topic_shows_the_usage(bot: Running) -> None:
    chat = Chat.private(ANNA)

    [reply] = await bot.command(chat, ANNA, "/subscribe daily")

    assert html_of(reply) == t("en", "usage.subscribe")
    assert subscriptions(bot.store, chat) == set()


async def test_list_then_unsubscribe_one_then_all(bot: Running) -> None:
    chat = Chat.private(ANNA)
    await bot.command(chat, ANNA, "/subscribe partner/jp theme/ngo")
    await bot.command(chat, ANNA, "/subscribe asean weekly")

    [listing] = await bot.command(chat, ANNA, "/list")
    [one] = await bot.command(chat, ANNA, "/unsubscribe japan")
    remaining = subscriptions(bot.store, chat)
    [everything] = await bot.command(chat, ANNA, "/unsubscribe")
    [empty] = await bot.command(chat, ANNA, "/list")

    lines = listing["text"].splitlines()
    assert any("partner/jp" in line and t("en", "mode.instant") in line for line in lines)
    assert any("partner/asean" in line and t("en", "mode.weekly") in line for line in lines)
    assert "Japan" in one["text"]
    assert remaining == {("theme/ngo", "instant", None), ("partner/asean", "weekly", None)}
    assert html_of(everything) == t("en", "unsubscribe.all", count=2)
    assert html_of(empty) == t("en", "list.empty")
    assert subscriptions(bot.store, chat) == set()


async def test_huge_and_html_arguments_get_a_short_escaped_reply(bot: Running) -> None:
    chat = Chat.private(ANNA)
    attack = "<b>x</b><a href='javascript:alert(1)'>y</a>"

    [huge] = await bot.command(chat, ANNA, "/subscribe " + "ж" * 4000)
    [html] = await bot.command(chat, ANNA, f"/subscribe {attack}")
    [confusable] = await bot.command(chat, ANNA, "/subscribe pаrtner/jр")  # Cyrillic а, р
    [many] = await bot.command(chat, ANNA, "/subscribe " + " ".join(f"q{i}zx" for i in range(300)))

    assert html_of(huge) == t("en", "usage.subscribe")
    assert len(html["text"]) < 300 and "<b>x</b>" in html["text"]  # shown as text, not markup
    assert not any(e["type"] in ("bold", "text_link") for e in html.get("entities", []))
    assert "partner/jp" in confusable["text"]  # suggested, not taken
    assert len(many["text"]) < 1000
    assert subscriptions(bot.store, chat) == set()


# groups and forum topics


async def test_in_a_group_only_administrators_change_subscriptions(bot: Running) -> None:
    group = Chat.group(9001, "Hội hữu nghị")
    bot.emulator.set_member(group, ANNA, "administrator")
    bot.emulator.set_member(group, BUDI, "member")

    [refused] = await bot.command(group, BUDI, "/subscribe partner/jp")
    [settings_refused] = await bot.command(group, BUDI, "/settings tz Asia/Jakarta")
    [accepted] = await bot.command(group, ANNA, "/subscribe partner/jp")
    [listing] = await bot.command(group, BUDI, "/list")

    assert html_of(refused) == t("id", "error.admins_only")  # the group speaks Budi's language
    assert html_of(settings_refused) == t("id", "error.admins_only")
    assert "Jepang" in accepted["text"]
    assert "partner/jp" in listing["text"]  # reading is for everyone
    assert subscriptions(bot.store, group) == {("partner/jp", "instant", None)}
    stored = bot.store.chat(group.id)
    assert stored is not None and stored.timezone == "Asia/Ho_Chi_Minh"


async def test_a_subscription_in_a_forum_topic_remembers_the_thread(bot: Running) -> None:
    forum = Chat.supergroup(1009002, "Diplomasi", forum=True)
    bot.emulator.set_member(forum, ANNA, "creator")

    [reply] = await bot.command(forum, ANNA, "/subscribe theme/ngo", thread_id=77)

    assert reply["message_thread_id"] == 77
    assert t("en", "subscribe.thread") in reply["text"]
    assert subscriptions(bot.store, forum) == {("theme/ngo", "instant", 77)}


async def test_a_group_upgraded_to_a_supergroup_keeps_its_subscriptions(bot: Running) -> None:
    group = Chat.group(9003, "Friends")
    bot.emulator.set_member(group, ANNA, "creator")
    await bot.command(group, ANNA, "/subscribe partner/fr daily")
    supergroup = Chat.supergroup(1009003, "Friends")

    # Telegram's service message in the old group: "upgraded to a supergroup"
    service = {
        "botToken": bot.emulator.token,
        "chat": group.api(),
        "from": ANNA.api(),
        "date": int(NOW.timestamp()),
        "migrate_to_chat_id": supergroup.id,
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{bot.emulator.api_url}/sendMessage", json=service)
    assert response.json()["ok"]
    bot.emulator.set_member(supergroup, ANNA, "creator")
    await bot.settle(supergroup, ANNA)

    assert subscriptions(bot.store, supergroup) == {("partner/fr", "daily", None)}
    assert subscriptions(bot.store, group) == set()


# /settings, /why, /digest, /sources, /status


async def test_settings_change_the_time_zone_and_refuse_bad_values(bot: Running) -> None:
    chat = Chat.private(ANNA)

    [done] = await bot.command(chat, ANNA, "/settings tz Asia/Jakarta")
    [bad] = await bot.command(chat, ANNA, "/settings tz Asia/<b>Jakarta</b>")
    [shown] = await bot.command(chat, ANNA, "/settings")
    [quiet] = await bot.command(chat, ANNA, "/settings quiet 22:00-06:30")
    [language] = await bot.command(chat, ANNA, "/settings lang vi")

    assert html_of(done) == t("en", "settings.tz_done", timezone="Asia/Jakarta")
    assert "Asia/<b>Jakarta</b>" in bad["text"] and bad["text"].startswith("“")
    assert "Asia/Jakarta" in shown["text"]
    assert "22:00" in quiet["text"] and "06:30" in quiet["text"]
    assert html_of(language) == t("vi", "settings.lang_done")
    stored = bot.store.chat(chat.id)
    assert stored is not None
    assert (stored.timezone, stored.quiet_start, stored.quiet_end, stored.language) == (
        "Asia/Jakarta",
        "22:00",
        "06:30",
        "vi",
    )


async def test_why_explains_a_stored_article_and_says_when_it_has_none(
    bot: Running, taxonomy: Taxonomy
) -> None:
    chat = Chat.private(ANNA)
    article = store_article(bot.store, taxonomy, "baoquocte_en_japan.html", JAPAN_URL)
    tags = bot.store.article_tags(article.id)

    [unknown] = await bot.command(chat, ANNA, "/why https://example.org/never-seen.html")
    [known] = await bot.command(chat, ANNA, f"/why {JAPAN_URL}?utm_source=facebook")

    assert html_of(unknown) == t("en", "why.not_found", url="https://example.org/never-seen.html")
    assert tags and "partner/jp" in {tag.id for tag in tags}
    assert article.title in known["text"]
    japan = next(tag for tag in tags if tag.id == "partner/jp")
    assert japan.evidence[0] in known["text"]


async def test_digest_on_demand_lists_stored_articles_or_says_there_are_none(
    bot: Running, taxonomy: Taxonomy
) -> None:
    chat = Chat.private(ANNA)
    [empty] = await bot.command(chat, ANNA, "/digest 3d")
    article = store_article(bot.store, taxonomy, "baoquocte_en_japan.html", JAPAN_URL)

    [digest] = await bot.command(chat, ANNA, "/digest 3d japan")
    [too_long] = await bot.command(chat, ANNA, "/digest 90d")

    assert html_of(empty) == t("en", "digest.empty", period="3d")
    assert article.title in digest["text"]
    assert any(e["type"] == "text_link" and e["url"] == article.url for e in digest["entities"])
    assert "90d" in too_long["text"]


async def test_sources_flags_failing_sources_with_their_error(bot: Running) -> None:
    chat = Chat.private(ANNA)
    sources = [
        Source("nhandan-world", "https://nhandan.vn/rss/thegioi-1231.rss", "rss", "vi"),
        Source("baoquocte", "https://baoquocte.vn/rss/thegioi.rss", "rss", "vi"),
    ]
    bot.store.sync_sources(sources)
    bot.store.record_error(
        "baoquocte",
        now=NOW - timedelta(days=2),
        next_check_at=NOW,
        error="HTTP 503 <Service Unavailable>",
        failing_after=timedelta(days=1),
    )

    [reply] = await bot.command(chat, ANNA, "/sources")

    assert "baoquocte" in reply["text"] and "HTTP 503 <Service Unavailable>" in reply["text"]
    assert "nhandan-world" not in reply["text"].split(t("en", "sources.failing"))[-1]


async def test_status_is_for_admin_chats_only(bot: Running) -> None:
    admin = Chat(ADMIN_CHAT_ID, "private", first_name="Ops")
    ops = User(ADMIN_CHAT_ID, "Ops")
    other = Chat.private(ANNA)

    [refused] = await bot.command(other, ANNA, "/status")
    [status] = await bot.command(admin, ops, "/status")

    assert html_of(refused) == t("en", "error.admin_chats_only")
    assert "0 pending" in status["text"] and t("en", "status.no_cycle") in status["text"]


# /topics and its buttons


async def test_topics_buttons_browse_and_toggle_a_subscription(bot: Running) -> None:
    chat = Chat.private(ANNA)
    [menu] = await bot.command(chat, ANNA, "/topics")

    await bot.press(chat, ANNA, menu["message_id"], button_for(menu, "f:partner:")["callback_data"])
    await bot.settle(chat, ANNA)
    page = bot.message(chat, menu["message_id"])
    japan = button_for(page, "s:partner/jp:")
    answer_on = await bot.press(chat, ANNA, page["message_id"], japan["callback_data"])
    await bot.settle(chat, ANNA)
    page_on = bot.message(chat, menu["message_id"])
    followed = subscriptions(bot.store, chat)
    unfollow = button_for(page_on, "u:partner/jp:")
    answer_off = await bot.press(chat, ANNA, page["message_id"], unfollow["callback_data"])

    assert page["text"].startswith(t("en", "facet.partner"))
    assert button_for(page, "f:partner:1")["text"] == t("en", "button.next")
    assert answer_on["text"] == t("en", "toggle.on", topic="Japan")
    assert followed == {("partner/jp", "instant", None)}
    assert unfollow["text"] == t("en", "button.topic_on", label="Japan")
    assert answer_off["text"] == t("en", "toggle.off", topic="Japan")
    assert subscriptions(bot.store, chat) == set()


@pytest.mark.parametrize(
    "data", ["s:partner/zz:0", "s:partner/jp:0;DROP", "x", "f:../../etc:0", "s:pаrtner/jp:0"]
)
async def test_forged_button_data_is_answered_and_changes_nothing(bot: Running, data: str) -> None:
    chat = Chat.private(ANNA)
    [menu] = await bot.command(chat, ANNA, "/topics")

    answer = await bot.press(chat, ANNA, menu["message_id"], data)

    assert answer["text"] == t("en", "error.button_expired")
    assert subscriptions(bot.store, chat) == set()


async def test_in_a_group_a_member_cannot_toggle_topics(bot: Running) -> None:
    group = Chat.group(9004, "Members")
    bot.emulator.set_member(group, ANNA, "administrator")
    bot.emulator.set_member(group, BUDI, "member")
    [welcome] = await bot.command(group, ANNA, "/start")

    data = button_for(welcome, "s:theme/people-to-people:")["callback_data"]
    answer = await bot.press(group, BUDI, welcome["message_id"], data)

    assert answer["text"] == t("en", "error.admins_only") and answer["show_alert"] is True
    assert subscriptions(bot.store, group) == set()


# unknown commands


async def test_unknown_commands_get_a_pointer_to_help(bot: Running) -> None:
    chat, group = Chat.private(ANNA), Chat.group(9005, "Mixed")
    bot.emulator.set_member(group, ANNA, "member")

    [reply] = await bot.command(chat, ANNA, "/frobnicate now")
    [addressed] = await bot.command(group, ANNA, f"/frobnicate@{bot.emulator.bot_username}")
    before = len(bot.emulator.bot_messages(group.id))
    bot.emulator.send_command(group, ANNA, "/frobnicate")  # maybe for another bot
    bot.emulator.send_command(group, ANNA, "/ping@other_bot")
    after = await bot.settle(group, ANNA)

    assert html_of(reply) == t("en", "error.unknown_command")
    assert html_of(addressed) == t("en", "error.unknown_command")
    assert after == before


# failures


async def test_a_failed_update_is_logged_with_its_chat_and_never_the_token(
    bot: Running, caplog: pytest.LogCaptureFixture
) -> None:
    chat = Chat.private(ANNA)
    await bot.command(chat, ANNA, "/list")
    bot.emulator.block(chat)  # the reply to the next command answers 403

    with caplog.at_level(logging.DEBUG, logger="bot.telegram"):
        bot.emulator.send_command(chat, ANNA, "/list")
        for _ in range(250):
            failures = [r for r in caplog.records if r.getMessage().startswith("update failed")]
            if failures:
                break
            await asyncio.sleep(0.02)

    assert len(failures) == 1
    logged = caplog.text + "".join(logging.Formatter().format(r) for r in caplog.records)
    assert f"chat={chat.id}" in failures[0].getMessage()
    assert "'/list'" in failures[0].getMessage() and "Forbidden" in failures[0].getMessage()
    assert bot.emulator.token not in logged
    assert bot.emulator.token.split(":", 1)[1] not in logged
