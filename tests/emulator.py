"""A local Telegram Bot API for tests: the emulator in tests/emulator/ and a typed client.

In: nothing — the session fixture starts `node tests/emulator/start.js` on a free port.
Out: `Emulator`, one fresh bot per test (its own token, chats and messages), with
`api_url` for TELEGRAM_API_URL (python-telegram-bot's `base_url` is `emulator.base_url`)
and the user's side: send messages, commands and button presses as a real client would,
then read what the bot sent, answered and registered.

The emulator's npm packages must be installed: `npm ci --prefix tests/emulator`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import secrets
import selectors
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

EMULATOR_DIR = Path(__file__).resolve().parent / "emulator"
START_JS = EMULATOR_DIR / "start.js"
READY = re.compile(r"telegram-emulator ready (http://\S+)")
POLL_S = 0.02
FIRST_BOT_ID = 7_000_000_001

ChatType = Literal["private", "group", "supergroup"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]
JSONDict = dict[str, Any]


class EmulatorError(RuntimeError):
    """The emulator refused a request; the message is its Bot-API-style description."""


@dataclass(frozen=True)
class User:
    """A human Telegram user, as the `from` of their messages shows them."""

    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None
    last_name: str | None = None

    def api(self) -> JSONDict:
        """The Bot API `User` object."""
        user: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        user.update({key: value for key, value in optional.items() if value is not None})
        return user


@dataclass(frozen=True)
class Chat:
    """A chat the bot is in: a user's private chat, a group or a supergroup (maybe a forum)."""

    id: int
    type: ChatType
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    is_forum: bool = False

    @classmethod
    def private(cls, user: User) -> Chat:
        """The private chat with `user` (its id is the user's id, as in Telegram)."""
        return cls(user.id, "private", first_name=user.first_name, username=user.username)

    @classmethod
    def group(cls, chat_id: int, title: str) -> Chat:
        """A basic group; Telegram gives groups negative ids."""
        return cls(-abs(chat_id), "group", title=title)

    @classmethod
    def supergroup(cls, chat_id: int, title: str, *, forum: bool = False) -> Chat:
        """A supergroup (ids look like -100…); `forum=True` has topics (message threads)."""
        return cls(-abs(chat_id), "supergroup", title=title, is_forum=forum)

    def api(self) -> JSONDict:
        """The Bot API `Chat` object."""
        chat: JSONDict = {"id": self.id, "type": self.type}
        optional = {"title": self.title, "first_name": self.first_name, "username": self.username}
        chat.update({key: value for key, value in optional.items() if value is not None})
        if self.is_forum:
            chat["is_forum"] = True
        return chat


class Emulator:
    """One bot on the emulator, seen from its users' side."""

    def __init__(self, api_url: str, token: str, client: httpx.Client) -> None:
        self.api_url = api_url  # the server root: what TELEGRAM_API_URL holds
        self.token = token
        self._client = client
        me = self._call(f"/bot{token}/getMe", {})
        self.bot_id: int = me["id"]
        self.bot_username: str = me["username"]

    @property
    def base_url(self) -> str:
        """python-telegram-bot's `base_url` (it appends the token)."""
        return f"{self.api_url}/bot"

    def send_message(
        self, chat: Chat, user: User, text: str, *, thread_id: int | None = None
    ) -> JSONDict:
        """`user` writes `text` in `chat`; returns the update the bot will receive."""
        update: JSONDict = self._call(
            "/sendMessage", self._user_message(chat, user, text, thread_id)
        )
        return update

    def send_command(
        self, chat: Chat, user: User, text: str, *, thread_id: int | None = None
    ) -> JSONDict:
        """`user` sends a command such as "/subscribe asean" (with its bot_command entity)."""
        if not text.startswith("/"):
            raise ValueError(f"a command starts with '/': {text!r}")
        message = self._user_message(chat, user, text, thread_id)
        command = text.split(maxsplit=1)[0]
        length = len(command.encode("utf-16-le")) // 2  # Telegram counts UTF-16 code units
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        update: JSONDict = self._call("/sendCommand", message)
        return update

    def send_callback(self, chat: Chat, user: User, message_id: int, data: str) -> JSONDict:
        """`user` presses a button carrying `data` on the bot's message `message_id`."""
        payload = {
            "botToken": self.token,
            "from": user.api(),
            "chat_id": chat.id,
            "message_id": message_id,
            "data": data,
        }
        update: JSONDict = self._call("/sendCallback", payload)
        return update

    def bot_messages(self, chat_id: int) -> list[JSONDict]:
        """What the bot sent to `chat_id`, oldest first, as Bot API `Message` objects.

        `text` and `entities` are what the user sees (HTML parsed, edits applied);
        `sent` holds the parameters of the sendMessage call (the HTML source, parse_mode, …).
        """
        result: list[JSONDict] = self._call(
            "/getBotMessages", {"token": self.token, "chatId": chat_id}
        )
        return result

    async def wait_for_bot_messages(
        self, chat_id: int, count: int, timeout_s: float = 5.0
    ) -> list[JSONDict]:
        """All bot messages in `chat_id` once there are at least `count`; TimeoutError if not."""
        return await self._wait(lambda: self.bot_messages(chat_id), count, timeout_s, chat_id)

    def callback_answers(self) -> list[JSONDict]:
        """The bot's answerCallbackQuery calls: callback_query_id, text, show_alert, …"""
        result: list[JSONDict] = self._call("/getCallbackAnswers", {"token": self.token})
        return result

    async def wait_for_callback_answers(self, count: int, timeout_s: float = 5.0) -> list[JSONDict]:
        """All callback answers once there are at least `count`; TimeoutError if not."""
        return await self._wait(self.callback_answers, count, timeout_s, "callback answers")

    def bot_commands(self) -> list[JSONDict]:
        """The command lists the bot set: each with `scope`, `language_code` and `commands`."""
        result: list[JSONDict] = self._call("/getBotCommands", {"token": self.token})
        return result

    def add_chat(self, chat: Chat) -> None:
        """Make `chat` known to the bot without a message (the bot was added to it earlier)."""
        self._call("/addChat", {"token": self.token, "chat": chat.api()})

    def set_member(self, chat: Chat, user: User, status: MemberStatus) -> None:
        """Give `user` a status in `chat` (what getChatMember answers); users default to member."""
        payload = {"token": self.token, "chat": chat.api(), "user": user.api(), "status": status}
        self._call("/setChatMember", payload)

    def block(self, chat: Chat) -> None:
        """The user blocked the bot (or the bot was kicked): sends to `chat` answer 403."""
        self._call("/setChatState", {"token": self.token, "chat_id": chat.id, "blocked": True})

    def flood(self, chat: Chat, retry_after_s: int) -> None:
        """Sends to `chat` answer 429 with retry_after for the next `retry_after_s` seconds."""
        payload = {"token": self.token, "chat_id": chat.id, "retry_after": retry_after_s}
        self._call("/setChatState", payload)

    def migrate(self, chat: Chat, new_chat_id: int) -> Chat:
        """The group became a supergroup: sends to it answer 400 with migrate_to_chat_id."""
        payload = {"token": self.token, "chat_id": chat.id, "migrate_to_chat_id": new_chat_id}
        self._call("/setChatState", payload)
        return Chat(new_chat_id, "supergroup", title=chat.title)

    def _user_message(self, chat: Chat, user: User, text: str, thread_id: int | None) -> JSONDict:
        message: JSONDict = {
            "botToken": self.token,
            "chat": chat.api(),
            "from": user.api(),
            "date": int(time.time()),
            "text": text,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.is_forum:
                message["is_topic_message"] = True
        return message

    async def _wait(
        self, read: Callable[[], list[JSONDict]], count: int, timeout_s: float, what: object
    ) -> list[JSONDict]:
        deadline = time.monotonic() + timeout_s
        while True:
            # The bot runs on this event loop: read in a thread so it keeps working.
            items = await asyncio.to_thread(read)
            if len(items) >= count:
                return items
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{what}: wanted {count} within {timeout_s}s, got {len(items)}: {items!r}"
                )
            await asyncio.sleep(POLL_S)

    def _call(self, path: str, payload: JSONDict) -> Any:
        response = self._client.post(f"{self.api_url}{path}", json=payload)
        body = response.json()
        if not body.get("ok"):
            raise EmulatorError(f"{path}: {body.get('description', response.text)}")
        return body["result"]


class EmulatorServer:
    """The emulator's node process; it serves any number of bots, one per token."""

    def __init__(self, process: subprocess.Popen[bytes], api_url: str, log_path: Path) -> None:
        self.process = process
        self.api_url = api_url
        self.log_path = log_path
        self._client = httpx.Client(timeout=10.0)
        self._bot_ids = itertools.count(FIRST_BOT_ID)

    @classmethod
    def start(cls, log_path: Path, timeout_s: float = 15.0) -> EmulatorServer:
        """Start `node start.js` on a free port and wait for its ready line."""
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("the Telegram emulator needs Node.js (`node` is not on PATH)")
        if not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
            raise RuntimeError(
                "the Telegram emulator is not installed: run `npm ci --prefix tests/emulator`"
            )
        env = {**os.environ, "EMULATOR_EXIT_ON_STDIN_CLOSE": "1"}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [node, str(START_JS), "0"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
            )
        try:
            api_url = _ready_url(process, timeout_s)
        except BaseException:
            _stop_process(process)
            raise RuntimeError(f"the Telegram emulator did not start: {_tail(log_path)}") from None
        return cls(process, api_url, log_path)

    def new_bot(self) -> Emulator:
        """A bot with a fresh token, so nothing of another test's state is visible."""
        token = f"{next(self._bot_ids)}:AA{secrets.token_urlsafe(24)}"
        return Emulator(self.api_url, token, self._client)

    def stop(self) -> None:
        """Stop the node process and close the client."""
        self._client.close()
        _stop_process(self.process)


def _ready_url(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                break
            line = process.stdout.readline().decode("utf-8", "replace")
            if not line:
                break  # the process ended
            if match := READY.search(line):
                return match.group(1)
    raise RuntimeError("no ready line")


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:] or "(no output)"


@pytest.fixture(name="emulator_server", scope="session")
def emulator_server_fixture(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmulatorServer]:
    """The emulator's node process, shared by the whole test session."""
    server = EmulatorServer.start(tmp_path_factory.mktemp("emulator") / "node.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="emulator")
def emulator_fixture(emulator_server: EmulatorServer) -> Emulator:
    """A fresh bot on the emulator for one test."""
    return emulator_server.new_bot()
