"""A local Bot API server for tests and benchmarks: Telegram's limits and faults, over real HTTP.

`BotApi` listens on 127.0.0.1 and answers python-telegram-bot's `Bot` pointed at it with
`base_url=api.base_url`: `getMe` (with `is_bot`) and `sendMessage` (a complete Message with
`message_id` per chat, `date` in seconds, `chat`), and what an `Application` needs to start
and poll: `setMyCommands` (validated and recorded per scope and language), `deleteWebhook`,
and `getUpdates` (long polling: held for its `timeout`, then an empty list, as Telegram does
when nothing happened). It enforces Telegram's flood limits the
way the real API does — about 30 messages per second overall, one per second per chat, 20
per minute per group (negative chat ids) — answering HTTP 429 with `retry_after` beyond
them, and the message rules: text of 1–4096 characters after entity parsing, HTML parse
mode with only Telegram's tags. Faults are scripted per chat (`fail`, `block`, `migrate`):
403 blocked, 400 chat not found, `migrate_to_chat_id`, 502 bursts, connection resets and
slow answers. Every accepted message is recorded (`messages`) and every 429 counted.
"""

from __future__ import annotations

import html
import json
import math
import re
import socket
import struct
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from telegram import Bot
from telegram.request import HTTPXRequest

BOT_ID = 7_000_000_001
TOKEN = f"{BOT_ID}:AAE-duta-local-test-token"
MAX_TEXT = 4096
MAX_COMMANDS = 100  # per scope and language
MAX_COMMAND_DESCRIPTION = 256
MAX_POLL_TIMEOUT_S = 50.0  # Telegram holds a long poll at most about this long
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
# Tags Telegram accepts in parse_mode=HTML (https://core.telegram.org/bots/api#html-style).
HTML_TAGS = frozenset(
    {
        *("b", "strong", "i", "em", "u", "ins", "s", "strike", "del"),
        *("a", "code", "pre", "blockquote", "tg-spoiler", "span", "tg-emoji"),
    }
)


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour for one request to a chat."""

    status: int = 0  # HTTP error to answer; 0 = none
    description: str = ""
    parameters: dict[str, int] | None = None
    reset: bool = False  # close the connection without answering, nothing delivered
    delay_s: float = 0.0  # wait this long before answering
    accept: bool = False  # deliver the message anyway (with delay_s: a late reply)


def retry_after(seconds: int) -> Fault:
    """429 flood control for this request."""
    return Fault(
        429, f"Too Many Requests: retry after {seconds}", parameters={"retry_after": seconds}
    )


def blocked() -> Fault:
    """403: the user blocked the bot."""
    return Fault(403, "Forbidden: bot was blocked by the user")


def kicked() -> Fault:
    """403: the bot was removed from the group."""
    return Fault(403, "Forbidden: bot was kicked from the group chat")


def chat_not_found() -> Fault:
    """400: the chat does not exist (deleted, or never seen by the bot)."""
    return Fault(400, "Bad Request: chat not found")


def migrated(new_chat_id: int) -> Fault:
    """400: the group became a supergroup with a new id."""
    return Fault(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": new_chat_id},
    )


def bad_gateway() -> Fault:
    """502 from Telegram's front end."""
    return Fault(502, "Bad Gateway")


def bad_request(description: str) -> Fault:
    """Any other 400."""
    return Fault(400, f"Bad Request: {description}")


def reset() -> Fault:
    """The connection is torn down before an answer; the message is not delivered."""
    return Fault(reset=True)


def slow(delay_s: float) -> Fault:
    """The message is delivered but the answer comes `delay_s` late."""
    return Fault(delay_s=delay_s, accept=True)


@dataclass(frozen=True)
class SentMessage:
    """A message the server accepted, as the bot sent it."""

    chat_id: int
    message_id: int
    text: str  # as sent (HTML source when parse_mode is HTML)
    thread_id: int | None
    parse_mode: str | None
    link_preview: dict[str, Any] | None
    at: float  # time.monotonic() when accepted


@dataclass(frozen=True)
class Throttle:
    """A 429 the server answered."""

    chat_id: int
    retry_after: int
    rule: str  # overall | chat | group | scripted
    at: float  # time.monotonic() when answered


@dataclass
class _Limits:
    """Telegram's flood limits with a little slack for network jitter."""

    overall_per_s: int = 30
    chat_interval_s: float = 1.0
    group_per_min: int = 20
    group_window_s: float = 60.0  # "per minute"; tests may shrink time
    slack_s: float = 0.25
    enabled: bool = True


@dataclass
class _State:
    messages: list[SentMessage] = field(default_factory=list)
    throttles: list[Throttle] = field(default_factory=list)
    requests: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    next_id: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    chat_next_at: dict[int, float] = field(default_factory=dict)  # per chat: earliest next send
    group_recent: dict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    overall_recent: deque[float] = field(default_factory=deque)
    faults: dict[int, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    standing: dict[int, Fault] = field(default_factory=dict)  # answered until cleared
    # (scope, language_code) → [(command, description)], as set with setMyCommands
    commands: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, parameters: dict[str, int] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class BotApi:
    """A threaded Bot API server with flood limits, scripted faults and a record of messages."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        overall_per_s: int = 30,
        chat_interval_s: float = 1.0,
        group_per_min: int = 20,
        group_window_s: float = 60.0,
        slack_s: float = 0.25,
        enforce_limits: bool = True,
    ) -> None:
        self.token = token
        self.limits = _Limits(
            overall_per_s,
            chat_interval_s,
            group_per_min,
            group_window_s,
            slack_s,
            enabled=enforce_limits,
        )
        self._state = _State()
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # ends long polls when the server stops
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- lifecycle -------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        """The server root, as TELEGRAM_API_URL names it."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """PTB's `base_url`: the root plus `/bot` (PTB appends the token)."""
        return f"{self.root_url}/bot"

    def start(self) -> BotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def bot(self, *, read_timeout_s: float = 5.0, pool_size: int = 64) -> Bot:
        """A python-telegram-bot `Bot` pointed at this server (enter it with `async with`)."""
        request = HTTPXRequest(
            connection_pool_size=pool_size, read_timeout=read_timeout_s, pool_timeout=30.0
        )
        return Bot(self.token, base_url=self.base_url, request=request)

    # --- scripting -------------------------------------------------------------------

    def fail(self, chat_id: int, fault: Fault, times: int = 1) -> None:
        """Answer the next `times` messages to `chat_id` with `fault`."""
        with self._lock:
            self._state.faults[chat_id].extend([fault] * times)

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: every message to `chat_id` answers 403 until `unblock`."""
        with self._lock:
            self._state.standing[chat_id] = blocked()

    def migrate(self, old_id: int, new_id: int) -> None:
        """The group becomes a supergroup: the old id answers `migrate_to_chat_id` from now on."""
        with self._lock:
            self._state.standing[old_id] = migrated(new_id)

    def unblock(self, chat_id: int) -> None:
        """Clear every fault scripted for `chat_id`."""
        with self._lock:
            self._state.standing.pop(chat_id, None)
            self._state.faults.pop(chat_id, None)

    # --- what happened ---------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        """Every accepted message, in the order the server accepted them."""
        with self._lock:
            return list(self._state.messages)

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """The accepted messages of one chat, in order."""
        return [m for m in self.messages if m.chat_id == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        """The texts one chat received, in order."""
        return [m.text for m in self.messages_to(chat_id)]

    @property
    def throttles(self) -> list[Throttle]:
        """Every 429 answered, scripted ones included."""
        with self._lock:
            return list(self._state.throttles)

    @property
    def too_many_requests(self) -> int:
        """How many 429s the flood limits (not the script) answered."""
        return sum(1 for t in self.throttles if t.rule != "scripted")

    @property
    def requests(self) -> int:
        """How many sendMessage requests arrived (accepted or not)."""
        with self._lock:
            return sum(self._state.requests.values())

    def requests_to(self, chat_id: int) -> int:
        """How many sendMessage requests to one chat arrived (accepted or not)."""
        with self._lock:
            return self._state.requests.get(chat_id, 0)

    def clear(self) -> None:
        """Forget recorded messages, throttles and request counts (limits state stays)."""
        with self._lock:
            self._state.messages.clear()
            self._state.throttles.clear()
            self._state.requests.clear()

    # --- the API ---------------------------------------------------------------------

    def commands(self, scope: str = "default", language_code: str = "") -> list[tuple[str, str]]:
        """The command menu last set for a scope ('default', 'chat:<id>', …) and language."""
        with self._lock:
            return list(self._state.commands.get((scope, language_code), []))

    def set_my_commands(self, params: dict[str, Any]) -> bool:
        """Validate and record a command menu, as Telegram checks it."""
        commands = params.get("commands")
        if not isinstance(commands, list) or not commands:
            raise ApiError(400, "Bad Request: commands must be a non-empty array")
        if len(commands) > MAX_COMMANDS:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        menu = []
        for entry in commands:
            name = str(entry.get("command", "")) if isinstance(entry, dict) else ""
            text = str(entry.get("description", "")) if isinstance(entry, dict) else ""
            if not COMMAND_NAME.fullmatch(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(text) <= MAX_COMMAND_DESCRIPTION:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            menu.append((name, text))
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        with self._lock:
            self._state.commands[key] = menu
        return True

    def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long polling with nothing to report: held for `timeout` seconds, then []."""
        try:
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: invalid timeout") from None
        self._stopping.wait(min(max(timeout, 0.0), MAX_POLL_TIMEOUT_S))
        return []

    def get_me(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Duta",
            "username": "duta_local_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def send_message(self, params: dict[str, Any]) -> tuple[dict[str, Any], Fault | None]:
        """Validate, rate-limit and record one message; the fault to act out, if any."""
        chat_id = _chat_id(params.get("chat_id"))
        with self._lock:
            self._state.requests[chat_id] += 1
        text = str(params.get("text") or "")
        visible = _visible_text(text, params.get("parse_mode"))
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        with self._lock:
            fault = self._next_fault(chat_id)
            if fault is not None and fault.status:
                if fault.status == 429 and fault.parameters:
                    seconds = fault.parameters["retry_after"]
                    throttle = Throttle(chat_id, seconds, "scripted", time.monotonic())
                    self._state.throttles.append(throttle)
                raise ApiError(fault.status, fault.description, fault.parameters)
            if fault is not None and fault.reset:
                return {}, fault
            if len(visible) > MAX_TEXT:
                raise ApiError(400, "Bad Request: message is too long")
            now = time.monotonic()
            self._check_limits(chat_id, now)
            sent = self._record(chat_id, text, visible, params, now)
        return sent, fault

    def _next_fault(self, chat_id: int) -> Fault | None:
        standing = self._state.standing.get(chat_id)
        if standing is not None:
            return standing
        queue = self._state.faults.get(chat_id)
        return queue.popleft() if queue else None

    def _check_limits(self, chat_id: int, now: float) -> None:
        limits, state = self.limits, self._state
        if not limits.enabled:
            return
        recent = state.overall_recent
        while recent and recent[0] <= now - (1.0 - limits.slack_s):
            recent.popleft()
        if len(recent) >= limits.overall_per_s:
            self._throttle(chat_id, 1, "overall", now)
        next_at = state.chat_next_at.get(chat_id, 0.0)
        if now < next_at - limits.slack_s:
            self._throttle(chat_id, math.ceil(next_at - now), "chat", now)
        if chat_id < 0:
            window = limits.group_window_s - limits.slack_s
            group = state.group_recent[chat_id]
            while group and group[0] <= now - window:
                group.popleft()
            if len(group) >= limits.group_per_min:
                self._throttle(chat_id, math.ceil(group[0] + window - now), "group", now)
            group.append(now)
        recent.append(now)
        state.chat_next_at[chat_id] = max(next_at, now) + limits.chat_interval_s

    def _throttle(self, chat_id: int, seconds: int, rule: str, now: float) -> None:
        seconds = max(1, seconds)
        self._state.throttles.append(Throttle(chat_id, seconds, rule, now))
        raise ApiError(
            429, f"Too Many Requests: retry after {seconds}", parameters={"retry_after": seconds}
        )

    def _record(
        self, chat_id: int, text: str, visible: str, params: dict[str, Any], now: float
    ) -> dict[str, Any]:
        state = self._state
        state.next_id[chat_id] += 1
        thread_id = _optional_int(params.get("message_thread_id"))
        preview = params.get("link_preview_options")
        message = SentMessage(
            chat_id=chat_id,
            message_id=state.next_id[chat_id],
            text=text,
            thread_id=thread_id,
            parse_mode=params.get("parse_mode"),
            link_preview=preview if isinstance(preview, dict) else None,
            at=now,
        )
        state.messages.append(message)
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Duta"},
            "text": visible,
        }
        if thread_id is not None:
            result["message_thread_id"] = thread_id
            result["is_topic_message"] = True
        if message.link_preview is not None:
            result["link_preview_options"] = message.link_preview
        return result


def _chat_id(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ApiError(400, "Bad Request: chat not found") from None


def _optional_int(value: object) -> int | None:
    return None if value in (None, "") else int(str(value))


def _scope_key(scope: object) -> str:
    """'default', 'all_private_chats', … or 'chat:<id>' for a BotCommandScope."""
    if not isinstance(scope, dict):
        return "default"
    kind = str(scope.get("type") or "default")
    chat_id = scope.get("chat_id")
    return f"{kind}:{chat_id}" if chat_id is not None else kind


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}


class _Entities(HTMLParser):
    """Telegram's HTML entity parsing: only its tags, properly nested; collects the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise ApiError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
            )
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unexpected end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible_text(text: str, parse_mode: object) -> str:
    """The message text after entity parsing (what Telegram counts against 4096)."""
    if str(parse_mode).upper() != "HTML":
        return text
    parser = _Entities()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ApiError(
            400,
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            f'"{parser.open[-1]}"',
        )
    return html.unescape("".join(parser.text))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    api: BotApi

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (timeouts under test) are expected, not news."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        api = self.server.api
        parts = urlsplit(self.path)
        prefix, _, method = parts.path.rpartition("/")
        params = {**_params(parts.query), **self._body()}
        if prefix != f"/bot{api.token}":
            self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        try:
            result: Any
            fault: Fault | None = None
            if method.lower() == "getme":
                result = api.get_me()
            elif method.lower() == "setmycommands":
                result = api.set_my_commands(params)
            elif method.lower() == "deletewebhook":
                result = True
            elif method.lower() == "getupdates":
                result = api.get_updates(params)
            elif method.lower() == "sendmessage":
                result, fault = api.send_message(params)
            else:
                raise ApiError(404, "Not Found")
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.status,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            self._answer(exc.status, body)
            return
        if fault is not None and fault.reset:
            self._reset()
            return
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        self._answer(200, {"ok": True, "result": result})

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/json" and raw:
            loaded = json.loads(raw)
            return loaded if isinstance(loaded, dict) else {}
        return _params(raw.decode("utf-8"))

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees a reset, not a clean answer.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


def _params(encoded: str) -> dict[str, Any]:
    """Form or query parameters; PTB sends non-string values JSON-encoded."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        params[key] = _json_or_text(value) if key != "text" else value
    return params


def _json_or_text(value: str) -> Any:
    if value[:1] in ("{", "[") or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def iter_chats(count: int, *, groups_every: int = 0) -> Iterator[int]:
    """Distinct chat ids for load tests: private ids, and a group id every `groups_every`."""
    for i in range(1, count + 1):
        if groups_every and i % groups_every == 0:
            yield -(1_000_000 + i)
        else:
            yield 100_000 + i
