"""Fault injection, bad user input: every command and button attacked through the Bot API
emulator, against the real Application and a real SQLite store.

Each exchange is checked the same way: the bot answers exactly once (one message for a
command, one callback answer for a button), nothing is logged as failed, every reply is
Telegram HTML the emulator accepted (it refuses bad HTML the way Telegram does), short,
with anything the user typed shown as text and never as formatting, and the store holds
exactly what the command should have changed — usually nothing.

One Application serves the whole module (starting one per case would dominate the run);
every case talks from chats of its own, so cases cannot see each other's state.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot.models import ChatSettings
from bot.settings import Settings
from bot.store import Store
from bot.taxonomy import Taxonomy, load_taxonomy
from bot.telegram.app import build_application
from bot.telegram.i18n import help_text, message, t
from bot.telegram.services import Services
from tests.emulator import Chat, Emulator, EmulatorServer, JSONDict, MemberStatus, User

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
TAXONOMY_PATH = Path(__file__).resolve().parents[2] / "seeds" / "taxonomy.yaml"
ADMIN_CHAT_ID = 880_000
MAX_REPLY_CHARS = 1000  # a reply longer than this must be a list the user asked for
FIRST_ID = 610_000
HUGE = 4000  # characters in a "huge" argument (Telegram allows 4096 per message)
_FRESH = ChatSettings(0)
DEFAULTS = {  # a new chat's stored settings
    "timezone": _FRESH.timezone,
    "digest_time": _FRESH.digest_time,
    "digest_weekday": _FRESH.digest_weekday,
    "quiet_start": _FRESH.quiet_start,
    "quiet_end": _FRESH.quiet_end,
}


# --- the running bot, and what one exchange with it showed -------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Every chat's settings and every subscription, as stored."""

    chats: dict[int, dict[str, Any]]
    subscriptions: frozenset[tuple[int, int, str, str]]  # chat, thread (0: none), topic, mode

    def follows(self, chat_id: int) -> set[tuple[str, str]]:
        """(topic, mode) of every subscription of `chat_id`."""
        return {(topic, mode) for chat, _, topic, mode in self.subscriptions if chat == chat_id}


@dataclass
class Exchange:
    """What one command or button press did."""

    replies: list[JSONDict]
    answers: list[JSONDict]
    failures: list[str]
    before: Snapshot
    after: Snapshot


class Failures(logging.Handler):
    """Every ERROR record of the process, for 'nothing failed' checks."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(f"{record.name}: {record.getMessage()}")


@dataclass
class Bot:
    """The real bot polling the emulator, its store file, and fresh ids for every case."""

    emulator: Emulator
    store: Store
    taxonomy: Taxonomy
    database: Path
    failures: Failures
    probe_chat: Chat
    probe_user: User
    probe_message: int = 0
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(FIRST_ID))

    def label(self, topic: str) -> str:
        """A topic's English name."""
        return self.taxonomy.node(topic).label.en

    def user(self, language: str = "en") -> User:
        """A user nobody has seen yet."""
        uid = next(self.ids)
        return User(uid, f"User{uid}", language_code=language)

    def group(self) -> Chat:
        """A new group the bot was added to."""
        chat = Chat.group(next(self.ids), "Hội hữu nghị")
        self.emulator.add_chat(chat)
        return chat

    def snapshot(self) -> Snapshot:
        """Read the whole store's chats and subscriptions."""
        with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            chats = {
                row["chat_id"]: dict(row)
                for row in db.execute(
                    "SELECT chat_id, kind, language, timezone, digest_time, digest_weekday,"
                    " quiet_start, quiet_end, active, migrated_to FROM chats"
                )
            }
            subs = frozenset(
                (row[0], row[1], row[2], row[3])
                for row in db.execute("SELECT chat_id, thread_id, topic, mode FROM subscriptions")
            )
        return Snapshot(chats, subs)

    async def send(
        self, chat: Chat, user: User, text: str, *, thread_id: int | None = None
    ) -> Exchange:
        """Send `text` as a command and collect everything it caused."""
        return await self._exchange(
            chat, lambda: self.emulator.send_command(chat, user, text, thread_id=thread_id)
        )

    async def send_raw(self, chat: Chat, update: JSONDict) -> Exchange:
        """Post a user message with fields `send_command` does not set (e.g. sender_chat)."""

        def post() -> None:
            response = httpx.post(f"{self.emulator.api_url}/sendCommand", json=update, timeout=10)
            assert response.json()["ok"], response.text

        return await self._exchange(chat, post)

    async def press(self, chat: Chat, user: User, message_id: int, data: str) -> Exchange:
        """Press a button carrying `data` under the bot's message `message_id`."""
        return await self._exchange(
            chat, lambda: self.emulator.send_callback(chat, user, message_id, data)
        )

    async def _exchange(self, chat: Chat, act: Any) -> Exchange:
        sent_before = len(self.emulator.bot_messages(chat.id))
        answers_before = len(self.emulator.callback_answers())
        failed_before = len(self.failures.seen)
        before = self.snapshot()
        await asyncio.to_thread(act)
        probe = await self._settle()
        answers = self.emulator.callback_answers()[answers_before:]
        return Exchange(
            replies=self.emulator.bot_messages(chat.id)[sent_before:],
            answers=[a for a in answers if a["callback_query_id"] != probe],
            failures=self.failures.seen[failed_before:],
            before=before,
            after=self.snapshot(),
        )

    async def _settle(self) -> str:
        """Wait until everything sent so far is handled; the id of the probe that told.

        The bot handles updates one at a time, in order, so once a button pressed now is
        answered, every earlier update has been handled too. The probe is a press on the
        probe chat's message with data no button has: answered, it adds no message.
        """
        update = self.emulator.send_callback(
            self.probe_chat, self.probe_user, self.probe_message, "probe"
        )
        probe = str(update["callback_query"]["id"])
        for _ in range(500):
            answers = await asyncio.to_thread(self.emulator.callback_answers)
            if any(a["callback_query_id"] == probe for a in answers):
                return probe
            await asyncio.sleep(0.01)
        raise TimeoutError("the bot stopped answering")


@pytest.fixture(scope="module")
def emulator(emulator_server: EmulatorServer) -> Emulator:
    """One bot on the emulator for the whole module."""
    return emulator_server.new_bot()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bot]:
    """The real Application with a SQLite store and the seed taxonomy, polling the emulator."""
    database = tmp_path_factory.mktemp("user-input") / "duta.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        telegram_token=emulator.token,
        telegram_api_url=emulator.api_url,
        admin_chat_ids=(ADMIN_CHAT_ID,),
    )
    store = Store.open(settings.database_url)
    taxonomy = load_taxonomy(TAXONOMY_PATH)
    application = build_application(Services(settings, store, taxonomy, clock=lambda: NOW))
    failures = Failures()
    logging.getLogger().addHandler(failures)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    probe_user = User(FIRST_ID - 1, "Probe")
    running = Bot(
        emulator, store, taxonomy, database, failures, Chat.private(probe_user), probe_user
    )
    emulator.send_command(running.probe_chat, probe_user, "/help")
    [help_message] = await emulator.wait_for_bot_messages(running.probe_chat.id, 1)
    running.probe_message = help_message["message_id"]
    try:
        yield running
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        logging.getLogger().removeHandler(failures)
        store.close()


# --- what every reply must be -----------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """Markup a user types; `marker` is its text, `literal` what must show around it."""

    text: str
    marker: str
    literal: tuple[str, ...]


PAYLOADS = {
    "html-bold": Payload("<b>INJB</b>", "INJB", ("<b>INJB", "INJB</b>")),
    "html-js-link": Payload("<a href=javascript:alert(1)>INJA</a>", "INJA", ("INJA</a>",)),
    "html-breakout": Payload("</code></b>INJC<b>", "INJC", ("</b>INJC", "INJC<b>")),
    "html-spoiler": Payload("<tg-spoiler>INJS</tg-spoiler>", "INJS", ("INJS</tg",)),
    "entity": Payload("&amp;INJE", "INJE", ("&amp;INJE",)),
    "numeric-entity": Payload("&#60;b&#62;INJN", "INJN", ("&#60;b&#62;INJN",)),
    "md-bold": Payload("*INJM*", "INJM", ("*INJM*",)),
    "md-link": Payload("[INJL](tg://user?id=1)", "INJL", ("INJL](tg",)),
}


def html_of(reply: JSONDict) -> str:
    """The HTML the bot sent (the emulator's `text` is what the user sees)."""
    return str(reply["sent"]["text"])


def entity_text(text: str, entity: JSONDict) -> str:
    """The text an entity covers; offsets count UTF-16 code units, as Telegram's do."""
    units = text.encode("utf-16-le")
    start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
    return units[start:end].decode("utf-16-le")


def check_reply(reply: JSONDict, typed: str, *, long_ok: bool = False) -> None:
    """Short, HTML, not the internal-error apology, user text shown as text."""
    text = reply["text"]
    assert reply["sent"].get("parse_mode") == "HTML", reply["sent"]
    assert long_ok or len(text) < MAX_REPLY_CHARS, text
    assert text not in {t(lang, "error.internal") for lang in ("en", "id", "vi")}
    for entity in reply.get("entities", []):
        if "url" in entity:
            assert entity["url"].startswith(("http://", "https://")), entity
    for payload in PAYLOADS.values():
        if payload.marker not in typed:
            continue
        covered = [entity_text(text, e) for e in reply.get("entities", [])]
        assert payload.marker not in covered, f"{payload.text} became formatting: {reply}"
        if payload.marker in text:
            assert any(piece in text for piece in payload.literal), (payload.text, text)


def says(reply: JSONDict, lang: str, keys: tuple[str, ...]) -> bool:
    """True when the reply is, paragraph by paragraph, the UI strings `keys` with any values."""
    one = "|".join(_pattern(message(lang, key)) for key in keys)
    return re.fullmatch(f"(?:{one})(?:\\n+(?:{one}))*", html_of(reply), re.DOTALL) is not None


def _pattern(template: str) -> str:
    """A template as a regular expression: each {placeholder} stands for some text."""
    fixed = re.split(r"\{[a-z_]+\}", template)
    return "(?:" + ".+?".join(re.escape(piece) for piece in fixed) + ")"


def check_others_unchanged(exchange: Exchange, chat_id: int) -> None:
    """Nothing of any other chat changed."""
    before, after = exchange.before, exchange.after
    assert {k: v for k, v in after.chats.items() if k != chat_id} == {
        k: v for k, v in before.chats.items() if k != chat_id
    }
    assert {s for s in after.subscriptions if s[0] != chat_id} == {
        s for s in before.subscriptions if s[0] != chat_id
    }


# --- commands with missing, malformed, huge, confusable and injected arguments ------------


@dataclass(frozen=True)
class Case:
    """A command, the UI strings its one reply is made of, and what is stored afterwards."""

    text: str
    expect: tuple[str, ...]
    follows: frozenset[tuple[str, str]] = frozenset()  # the chat's subscriptions afterwards
    settings: Mapping[str, object] = field(default_factory=dict)  # stored, beyond DEFAULTS
    setup: tuple[str, ...] = ()  # commands sent first (their replies are checked too)
    exact: str | None = None  # the whole reply, when no template describes it
    replies: int = 1
    long_ok: bool = False
    language: str = "en"  # the user's Telegram language, so the chat's


UNKNOWN = ("error.unknown_topic", "error.unknown_topic_suggest")
JAPAN = frozenset({("partner/jp", "instant")})
# Commands that take no arguments: whatever follows them, the same one reply.
PLAIN: dict[str, Case] = {
    "/start": Case("/start", ("start.welcome",)),
    "/help": Case("/help", (), exact=help_text("en")),
    "/topics": Case("/topics", ("topics.title",)),
    "/list": Case("/list", ("list.empty",)),
    "/sources": Case("/sources", ("sources.title", "sources.all_ok")),
    "/status": Case("/status", ("error.admin_chats_only",)),
    "/frobnicate": Case("/frobnicate", ("error.unknown_command",)),
}
MISSING = {
    **{name: case for name, case in PLAIN.items()},
    "/subscribe": Case("/subscribe", ("usage.subscribe",)),
    "/unsubscribe": Case("/unsubscribe", ("unsubscribe.nothing",)),
    "/digest": Case("/digest", ("digest.empty",)),
    "/why": Case("/why", ("usage.why",)),
    "/settings": Case("/settings", ("settings.current",)),
    "bare-slash": Case("/", ("error.unknown_command",)),
}
MALFORMED = {
    "subscribe-only-a-mode": Case("/subscribe daily", ("usage.subscribe",)),
    "subscribe-only-modes": Case("/subscribe daily weekly instant", ("usage.subscribe",)),
    "subscribe-only-punctuation": Case("/subscribe ,,, ;; ()", ("usage.subscribe",)),
    "subscribe-facet-only": Case("/subscribe partner/", UNKNOWN),
    "subscribe-too-deep": Case("/subscribe partner/jp/tokyo", UNKNOWN),
    "subscribe-known-and-junk": Case(
        "/subscribe japan qqxzv", ("subscribe.done", *UNKNOWN), follows=JAPAN
    ),
    "unsubscribe-only-punctuation": Case("/unsubscribe ,,, ;;", ("usage.unsubscribe",)),
    "unsubscribe-a-mode": Case("/unsubscribe daily", UNKNOWN),
    "digest-zero": Case("/digest 0h", ("error.bad_period",)),
    "digest-too-long": Case("/digest 31d", ("error.bad_period",)),
    "digest-bad-unit": Case("/digest 3x", ("error.bad_period",)),
    "digest-overflow": Case("/digest 99999999999999999999999999d", ("error.bad_period",)),
    "digest-negative": Case("/digest -1d", UNKNOWN),
    "digest-two-periods": Case("/digest 1d 2d", UNKNOWN),
    "digest-known-and-junk": Case("/digest 1d japan qqxzv", (*UNKNOWN, "digest.empty_topics")),
    "why-not-a-url": Case("/why not-a-url", ("usage.why",)),
    "why-ftp": Case("/why ftp://example.org/a", ("usage.why",)),
    "why-javascript": Case("/why javascript:alert(1)", ("usage.why",)),
    "why-two-urls": Case("/why https://example.org/a https://example.org/b", ("usage.why",)),
    "why-broken-ipv6": Case("/why https://[::1/a", ("usage.why",)),
    "why-bad-port": Case("/why https://example.org:99999999/a", ("why.not_found",)),
    "why-no-host": Case("/why https:///a.b", ("usage.why",)),
    "settings-name-only": Case("/settings tz", ("usage.settings",)),
    "settings-unknown-name": Case("/settings colour blue", ("usage.settings",)),
    "settings-extra-word": Case("/settings tz Asia/Jakarta extra", ("usage.settings",)),
    "settings-hour-25": Case("/settings digest 25:00", ("error.bad_time",)),
    "settings-arabic-digits": Case("/settings digest ٠٧:٣٠", ("error.bad_time",)),
    "settings-quiet-one-end": Case("/settings quiet 22:00", ("error.bad_quiet",)),
    "settings-quiet-empty": Case("/settings quiet 08:00-08:00", ("error.bad_quiet",)),
    "settings-language": Case("/settings lang fr", ("error.bad_language",)),
    "settings-weekday": Case("/settings weekly someday", ("error.bad_weekday",)),
    "settings-tz-path": Case("/settings tz ../../etc/passwd", ("error.bad_timezone",)),
    "command-for-this-bot": Case("/frobnicate@{bot} now", ("error.unknown_command",)),
    "command-for-another-bot": Case("/start@other_bot", (), replies=0),
    "upper-case-command": Case("/SUBSCRIBE japan", ("subscribe.done",), follows=JAPAN),
}
HUGE_WORD = "ж" * HUGE
HUGE_CASES = {
    **{
        f"{name}-huge": replace(case, text=f"{case.text} {HUGE_WORD}")
        for name, case in PLAIN.items()
    },
    "subscribe-huge": Case(f"/subscribe {HUGE_WORD}", ("usage.subscribe",)),
    "subscribe-huge-emoji": Case("/subscribe " + "😀" * (HUGE // 2), ("usage.subscribe",)),
    "subscribe-huge-then-topic": Case(
        f"/subscribe {HUGE_WORD[:-20]} japan", ("subscribe.done",), follows=JAPAN
    ),
    "subscribe-many-unknown-words": Case(
        "/subscribe " + " ".join(f"q{i}zx" for i in range(HUGE // 6)), UNKNOWN
    ),
    "subscribe-one-topic-many-times": Case(
        "/subscribe " + " ".join(["japan"] * (HUGE // 6)), ("subscribe.done",), follows=JAPAN
    ),
    "subscribe-topic-after-newlines": Case(
        "/subscribe" + "\n" * (HUGE - 10) + "japan", ("subscribe.done",), follows=JAPAN
    ),
    "unsubscribe-huge": Case(f"/unsubscribe {HUGE_WORD}", ("usage.unsubscribe",)),
    "digest-huge": Case(f"/digest {HUGE_WORD}", ("digest.empty",)),
    "digest-huge-period": Case("/digest " + "9" * HUGE + "d", ("error.bad_period",)),
    "why-huge": Case(f"/why https://example.org/{HUGE_WORD[:-30]}", ("usage.why",)),
    "why-long-but-allowed": Case("/why https://example.org/" + "a" * 2000, ("why.not_found",)),
    "settings-huge": Case(f"/settings {HUGE_WORD}", ("usage.settings",)),
    "settings-tz-huge": Case(f"/settings tz {HUGE_WORD[:-20]}", ("error.bad_timezone",)),
    "settings-lang-huge": Case(f"/settings lang {HUGE_WORD[:-20]}", ("error.bad_language",)),
    "settings-quiet-huge": Case("/settings quiet 22:00-" + "9" * (HUGE - 30), ("error.bad_time",)),
    "unknown-command-huge": Case("/" + "x" * HUGE, ("error.unknown_command",)),
}
CYRILLIC_A, CYRILLIC_JE, GREEK_ALPHA = "\u0430", "\u0458", "\u03b1"
CONFUSABLE = {
    "cyrillic-topic": Case(f"/subscribe {CYRILLIC_JE}{CYRILLIC_A}pan", UNKNOWN),
    "greek-topic": Case(f"/subscribe J{GREEK_ALPHA}p{GREEK_ALPHA}n", UNKNOWN),
    "cyrillic-topic-id": Case(f"/subscribe p{CYRILLIC_A}rtner/jp", UNKNOWN),
    "fullwidth-topic": Case("/subscribe ｊａｐａｎ", UNKNOWN),
    "rtl-override-topic": Case("/subscribe \u202enapaj", UNKNOWN),
    # what the user cannot see does not count; accents never do (Nhật Bản = Nhat Ban)
    "zero-width-joiner-topic": Case("/subscribe ja\u200dpan", ("subscribe.done",), follows=JAPAN),
    "zero-width-space-topic": Case(
        "/subscribe \u200bjapan\u200b", ("subscribe.done",), follows=JAPAN
    ),
    "bidi-isolated-topic": Case("/subscribe \u2066japan\u2069", ("subscribe.done",), follows=JAPAN),
    "combining-marks-topic": Case(
        "/subscribe j\u0301a\u0308pan", ("subscribe.done",), follows=JAPAN
    ),
    "zalgo-topic": Case("/subscribe japan" + "\u0336" * 30, ("subscribe.done",), follows=JAPAN),
    "cyrillic-unsubscribe": Case(
        f"/unsubscribe {CYRILLIC_JE}{CYRILLIC_A}pan",
        UNKNOWN,
        setup=("/subscribe japan",),
        follows=JAPAN,
    ),
    "zero-width-unsubscribe": Case(
        "/unsubscribe ja\u200dpan", ("unsubscribe.done",), setup=("/subscribe japan",)
    ),
    "invisible-only-unsubscribe": Case(
        "/unsubscribe \u200b\u202e",
        ("usage.unsubscribe",),
        setup=("/subscribe japan",),
        follows=JAPAN,
    ),
    "cyrillic-timezone": Case(f"/settings tz Asia/Jakart{CYRILLIC_A}", ("error.bad_timezone",)),
    "zero-width-timezone": Case(
        "/settings tz Asia/Jakarta\u200b",
        ("settings.tz_done",),
        settings={"timezone": "Asia/Jakarta"},
    ),
    "rtl-override-timezone": Case("/settings tz \u202eatrakaJ/aisA", ("error.bad_timezone",)),
    "cyrillic-language": Case("/settings lang \u0435n", ("error.bad_language",)),
    "fullwidth-time": Case("/settings digest ０７:３０", ("error.bad_time",)),
    "cyrillic-weekday": Case("/settings weekly m\u043en", ("error.bad_weekday",)),
    "fullwidth-period": Case("/digest ３d", UNKNOWN),
    "cyrillic-host": Case("/why https://\u0435x\u0430mple.org/a", ("why.not_found",)),
    "cyrillic-command": Case("/\u0455tart", ("error.unknown_command",)),
    "cyrillic-command-letter": Case("/subscr\u0456be japan", ("error.unknown_command",)),
}


def _injected(payload: Payload) -> dict[str, Case]:
    """Every place a command echoes a word, with `payload` as that word."""
    text, spaced = payload.text, " " in payload.text
    cases = {
        "subscribe": Case(f"/subscribe {text}", UNKNOWN),
        "unsubscribe": Case(f"/unsubscribe {text}", UNKNOWN),
        "digest": Case(f"/digest {text}", UNKNOWN),
        "digest-after-period": Case(f"/digest 3d {text}", UNKNOWN),
        "why": Case(
            f"/why https://example.org/{text}", ("usage.why",) if spaced else ("why.not_found",)
        ),
    }
    for name, key in (
        ("tz", "error.bad_timezone"),
        ("lang", "error.bad_language"),
        ("weekly", "error.bad_weekday"),
        ("digest", "error.bad_time"),
        # a dash makes it a range, whose ends are then not times
        ("quiet", "error.bad_time" if "-" in text else "error.bad_quiet"),
    ):
        expect = ("usage.settings",) if spaced else (key,)
        cases[f"settings-{name}"] = Case(f"/settings {name} {text}", expect)
    for name, case in PLAIN.items():
        cases[name.strip("/")] = replace(case, text=f"{case.text} {text}")
    return cases


INJECTED = {
    f"{kind}-{where}": case
    for kind, payload in PAYLOADS.items()
    for where, case in _injected(payload).items()
}
# The other UI languages' templates must hold injected text as well as English ones do.
LOCALIZED = {
    f"{name}-{language}": replace(INJECTED[name], language=language)
    for name in INJECTED
    if name.endswith(("-subscribe", "-settings-tz", "-why", "-frobnicate"))
    for language in ("id", "vi")
}
CASES = {**MISSING, **MALFORMED, **HUGE_CASES, **CONFUSABLE, **INJECTED, **LOCALIZED}


@pytest.mark.parametrize("case", [pytest.param(c, id=name) for name, c in CASES.items()])
async def test_a_command_with_bad_arguments_gets_one_short_escaped_correct_reply(
    bot: Bot, case: Case
) -> None:
    user = bot.user(case.language)
    chat = Chat.private(user)
    for text in case.setup:
        done = await bot.send(chat, user, text)
        assert len(done.replies) == 1 and not done.failures, done
    text = case.text.replace("{bot}", bot.emulator.bot_username)

    exchange = await bot.send(chat, user, text)

    assert exchange.failures == []
    assert len(exchange.replies) == case.replies, [r["text"][:200] for r in exchange.replies]
    for reply in exchange.replies:
        check_reply(reply, text, long_ok=case.long_ok)
        assert (
            html_of(reply) == case.exact if case.exact else says(reply, case.language, case.expect)
        ), (
            case.expect,
            html_of(reply),
        )
    assert exchange.after.follows(chat.id) == case.follows
    check_others_unchanged(exchange, chat.id)
    stored = exchange.after.chats.get(chat.id)
    if stored is not None:
        wanted = {**DEFAULTS, **case.settings}
        assert {k: stored[k] for k in wanted} == wanted


# --- a group member who is not an administrator -----------------------------------------

ADMIN_ACTIONS = {
    "subscribe": "/subscribe partner/fr",
    "subscribe-addressed-to-the-bot": "/subscribe@{bot} partner/fr",
    "subscribe-new-mode": "/subscribe partner/jp weekly",
    "subscribe-junk": "/subscribe <b>x</b>",
    "unsubscribe-all": "/unsubscribe",
    "unsubscribe-one": "/unsubscribe partner/jp",
    "settings-tz": "/settings tz Asia/Jakarta",
    "settings-lang": "/settings lang vi",
    "settings-digest": "/settings digest 06:00",
    "settings-weekly": "/settings weekly fri",
    "settings-quiet": "/settings quiet 22:00-07:00",
    "settings-quiet-off": "/settings quiet off",
}
GROUP_SETUP = ("/subscribe partner/jp", "/settings quiet 23:00-06:00")


async def _group_with(bot: Bot, status: MemberStatus) -> tuple[Chat, User, User]:
    """A group whose administrator follows Japan and set quiet hours, and one more user."""
    group, admin, other = bot.group(), bot.user("en"), bot.user("id")
    bot.emulator.set_member(group, admin, "administrator")
    bot.emulator.set_member(group, other, status)
    for text in GROUP_SETUP:
        done = await bot.send(group, admin, text)
        assert len(done.replies) == 1 and not done.failures, done
    return group, admin, other


# "left" and "kicked": the user wrote, then left or was banned before the bot asked.
@pytest.mark.parametrize("status", ["member", "left", "kicked"])
@pytest.mark.parametrize(
    "text", [pytest.param(text, id=name) for name, text in ADMIN_ACTIONS.items()]
)
async def test_a_group_member_cannot_change_subscriptions_or_settings(
    bot: Bot, text: str, status: MemberStatus
) -> None:
    group, _, member = await _group_with(bot, status)

    exchange = await bot.send(group, member, text.replace("{bot}", bot.emulator.bot_username))

    assert exchange.failures == []
    [reply] = exchange.replies
    check_reply(reply, text)
    assert html_of(reply) == t("en", "error.admins_only")  # the group speaks its admin's language
    assert exchange.after == exchange.before


async def test_a_group_member_may_read_the_settings(bot: Bot) -> None:
    group, _, member = await _group_with(bot, "member")

    exchange = await bot.send(group, member, "/settings")

    [reply] = exchange.replies
    assert says(reply, "en", ("settings.current",)) and "23:00" in reply["text"]
    assert exchange.after == exchange.before


def _as_chat(bot: Bot, group: Chat, sender: JSONDict, text: str) -> JSONDict:
    """A command written on behalf of a chat (anonymous admin, or a linked channel)."""
    return {
        "botToken": bot.emulator.token,
        "chat": group.api(),
        "from": {
            "id": 136817688,
            "is_bot": True,
            "first_name": "Channel",
            "username": "Channel_Bot",
        },
        "sender_chat": sender,
        "text": text,
    }


async def test_a_message_on_behalf_of_another_chat_is_not_an_administrator(bot: Bot) -> None:
    group, _, _ = await _group_with(bot, "member")
    channel = {"id": -1_009_999_000, "type": "channel", "title": "Look-alike"}

    refused = await bot.send_raw(group, _as_chat(bot, group, channel, "/subscribe partner/fr"))
    accepted = await bot.send_raw(group, _as_chat(bot, group, group.api(), "/subscribe partner/fr"))

    assert [html_of(r) for r in refused.replies] == [t("en", "error.admins_only")]
    assert refused.after == refused.before
    [done] = accepted.replies
    assert says(done, "en", ("subscribe.done",))
    assert accepted.after.follows(group.id) == {
        ("partner/jp", "instant"),
        ("partner/fr", "instant"),
    }


@pytest.mark.parametrize(
    "words",
    [pytest.param(p.text, id=name) for name, p in PAYLOADS.items()]
    + [pytest.param(HUGE_WORD, id="huge")],
)
async def test_status_in_an_admin_chat_ignores_its_arguments(bot: Bot, words: str) -> None:
    admin = User(ADMIN_CHAT_ID, "Ops")
    chat = Chat.private(admin)

    exchange = await bot.send(chat, admin, f"/status {words}")

    assert exchange.failures == []
    [reply] = exchange.replies
    check_reply(reply, words)
    assert says(reply, "en", ("status.text",)) and t("en", "status.no_cycle") in reply["text"]
    check_others_unchanged(exchange, chat.id)


@pytest.mark.parametrize("data", ["s:theme/people-to-people:q", "u:partner/jp:0", "s:partner/fr:0"])
async def test_a_group_member_cannot_toggle_topics_with_buttons(bot: Bot, data: str) -> None:
    group, admin, member = await _group_with(bot, "member")
    [welcome] = (await bot.send(group, admin, "/start")).replies

    exchange = await bot.press(group, member, welcome["message_id"], data)

    assert exchange.failures == [] and exchange.replies == []
    [answer] = exchange.answers
    assert answer["text"] == t("en", "error.admins_only") and answer["show_alert"] is True
    assert exchange.after == exchange.before


# --- buttons: forged, oversized, of another version, replayed ----------------------------

_RANDOM = random.Random(20250301)  # fixed: the same forged data on every run
RANDOM_DATA = [
    "".join(_RANDOM.choice("hfsu:/-_0123456789abcxyzжα<>&;\u200d") for _ in range(n))
    for n in (2, 5, 9, 17, 33, 64)
]
FORGED = {
    "empty": "",
    "unknown-action": "x",
    **{f"random-{len(data)}": data for data in RANDOM_DATA},
    "oversized-65": "s:partner/jp:0" + "x" * 51,
    "oversized-300": "s:" + "a" * 300 + ":0",
    "oversized-4000": "h" * 4000,
    "versioned": "v2:s:partner/jp:0",
    "old-long-names": "subscribe:partner/jp",
    "other-separator": "s|partner/jp|0",
    "upper-case": "S:partner/jp:0",
    "empty-view": "s:partner/jp:",
    "extra-field": "s:partner/jp:0:1",
    "unknown-topic": "s:partner/zz:0",
    "unknown-facet": "f:colour:0",
    "path-facet": "f:../../etc:0",
    "facet-quick-view": "f:partner:q",
    "page-too-big-for-the-format": "f:partner:100",
    "negative-page": "u:partner/jp:-1",
    "home-with-target": "h:partner",
    "cyrillic-topic": "s:p\u0430rtner/jp:0",
    "zero-width-topic": "s:partner/jp\u200b:0",
    "markup-topic": "s:<b>x</b>:0",
    "sql": "s:partner/jp:0;DROP TABLE subscriptions",
}


@pytest.mark.parametrize("data", [pytest.param(d, id=name) for name, d in FORGED.items()])
async def test_forged_button_data_is_answered_and_changes_nothing(bot: Bot, data: str) -> None:
    user = bot.user()
    chat = Chat.private(user)
    [menu] = (await bot.send(chat, user, "/topics")).replies

    exchange = await bot.press(chat, user, menu["message_id"], data)

    assert exchange.failures == [] and exchange.replies == []
    assert [a["text"] for a in exchange.answers] == [t("en", "error.button_expired")]
    assert exchange.after == exchange.before
    [shown] = [
        m for m in bot.emulator.bot_messages(chat.id) if m["message_id"] == menu["message_id"]
    ]
    assert (shown["text"], shown.get("reply_markup")) == (menu["text"], menu.get("reply_markup"))


def _button(message: JSONDict, prefix: str) -> str:
    """The callback data of the one button under `message` whose data starts with `prefix`."""
    markup = message.get("reply_markup") or {}
    found = [
        str(b["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for b in row
        if b["callback_data"].startswith(prefix)
    ]
    assert len(found) == 1, markup
    return found[0]


def _current(bot: Bot, chat: Chat, message_id: int) -> JSONDict:
    [found] = [m for m in bot.emulator.bot_messages(chat.id) if m["message_id"] == message_id]
    return found


async def test_the_same_button_pressed_twice_follows_once(bot: Bot) -> None:
    user = bot.user()
    chat = Chat.private(user)
    [welcome] = (await bot.send(chat, user, "/start")).replies
    data = _button(welcome, "s:theme/ngo:")

    first = await bot.press(chat, user, welcome["message_id"], data)
    second = await bot.press(chat, user, welcome["message_id"], data)

    for exchange in (first, second):
        assert exchange.failures == [] and exchange.replies == []
        assert [a["text"] for a in exchange.answers] == [
            t("en", "toggle.on", topic=bot.label("theme/ngo"))
        ]
    assert second.after.follows(chat.id) == {("theme/ngo", "instant")}
    assert second.after == first.after
    assert _button(_current(bot, chat, welcome["message_id"]), "u:theme/ngo:")


async def test_a_stale_button_after_unsubscribing_shows_the_truth(bot: Bot) -> None:
    user = bot.user()
    chat = Chat.private(user)
    [welcome] = (await bot.send(chat, user, "/start")).replies
    await bot.press(chat, user, welcome["message_id"], _button(welcome, "s:theme/ngo:"))
    stale = _button(_current(bot, chat, welcome["message_id"]), "u:theme/ngo:")
    await bot.send(chat, user, "/unsubscribe")

    exchange = await bot.press(chat, user, welcome["message_id"], stale)

    assert exchange.failures == [] and exchange.replies == []
    assert [a["text"] for a in exchange.answers] == [
        t("en", "toggle.off", topic=bot.label("theme/ngo"))
    ]
    assert exchange.after == exchange.before and exchange.after.follows(chat.id) == set()
    assert _button(_current(bot, chat, welcome["message_id"]), "s:theme/ngo:")  # no ✓ any more


async def test_another_chats_button_data_acts_only_where_it_is_pressed(bot: Bot) -> None:
    anna, budi = bot.user(), bot.user()
    chat_a, chat_b = Chat.private(anna), Chat.private(budi)
    await bot.send(chat_b, budi, "/subscribe japan")
    [menu_b] = (await bot.send(chat_b, budi, "/topics")).replies
    await bot.press(chat_b, budi, menu_b["message_id"], "f:partner:0")
    copied = _button(_current(bot, chat_b, menu_b["message_id"]), "u:partner/jp:")
    [menu_a] = (await bot.send(chat_a, anna, "/topics")).replies

    exchange = await bot.press(chat_a, anna, menu_a["message_id"], copied)

    assert exchange.failures == [] and len(exchange.answers) == 1
    assert exchange.after == exchange.before  # Budi still follows Japan; Anna never did
    assert exchange.after.follows(chat_b.id) == JAPAN


async def test_a_button_in_a_forum_topic_changes_that_topic_only(bot: Bot) -> None:
    forum, admin = Chat.supergroup(next(bot.ids), "Diplomasi", forum=True), bot.user()
    bot.emulator.set_member(forum, admin, "creator")
    await bot.send(forum, admin, "/subscribe japan", thread_id=5)
    [welcome] = (await bot.send(forum, admin, "/start", thread_id=9)).replies

    exchange = await bot.press(forum, admin, welcome["message_id"], "s:theme/ngo:q")

    assert exchange.failures == [] and len(exchange.answers) == 1
    assert exchange.after.subscriptions - exchange.before.subscriptions == {
        (forum.id, 9, "theme/ngo", "instant")
    }
    assert (forum.id, 5, "partner/jp", "instant") in exchange.after.subscriptions
