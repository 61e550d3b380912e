"""Telegram edge, delivery: the sender drains the outbox into Telegram chats.

In: pending outbox rows, leased from the store with `claim_messages`. Out: messages in
Telegram chats; every row ends sent (with Telegram's message id), due again later, or
failed. Messages to one chat leave one at a time, in outbox order, paced to Telegram's
limits (`bot.telegram.limits`); different chats are served concurrently.

What each answer does:
- 429 `retry_after`: only that chat is held (`hold_chat`) for that long; others go on.
- timeouts, resets and 5xx: the message is retried with exponential backoff (the
  chat's later messages wait behind it, keeping their order); given up after
  `max_attempts`.
- 403 (blocked, kicked) and 400 "chat not found": `record_chat_failure`, the message
  fails; the chat is switched off after `deactivate_after` consecutive failures.
- `migrate_to_chat_id`: the chat and its pending rows move to the supergroup's id
  (`migrate_chat`) and are sent there, in order, from the next claim on.
- 400 "message is too long": the row is replaced by its parts, sent in order.
- any other 400: the message fails and is never retried (it would fail again).

Delivery guarantee: at least once, with one narrow duplicate window. A row is marked
sent only after Telegram confirmed the message, and the confirmation (`mark_sent`, with
Telegram's message id) is committed in one transaction right after the reply, before
the chat's next message is sent. Until then the row stays pending under this sender's
lease; a lease that is never settled (the process died) expires after `lease_s` and the
row is sent again. So no message is lost, and the only duplicate window is between
Telegram's reply and the commit of `mark_sent`: a crash there (SIGKILL, power loss, or
the database refusing all three attempts of `mark_sent`) sends that one message once
more. The window is the commit of one row — under a millisecond on a local SQLite
file, one round trip more on PostgreSQL — and holds at most one message per chat.
Its network twin is a reply lost after Telegram accepted (read timeout, connection
reset): Telegram offers no idempotency key, so the retry sends that message again;
that is the price of never losing one. Stopping (`stopping` set, or the task
cancelled) does not open the window: requests in flight are awaited and recorded (up
to `shutdown_s`) and unsent leases are given back. Order within a chat holds across
several senders too: the store leases a chat's run of due messages to one sender at a
time (`claim_messages`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.errors import StoreError
from bot.models import OutboxMessage
from bot.store import Store
from bot.telegram.limits import ChatPacer, SendLimits
from bot.telegram.split import split_message

__all__ = ["SendLimits", "Sender"]

log = logging.getLogger(__name__)

# Lower-cased BadRequest descriptions meaning the bot can no longer post in the chat.
CHAT_GONE = (
    "chat not found",
    "not enough rights to send",
    "have no rights to send",
    "group chat was deactivated",
)
TOO_LONG = "message is too long"
MARK_SENT_TRIES = 3  # a database blip must not turn into a duplicate


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the chat's queue does after one delivery."""

    stop: bool = False  # the chat is held, moved or switched off: give its other rows back
    replacement: tuple[OutboxMessage, ...] = ()  # sent next, before the rest of the queue


NEXT = _Outcome()
STOP = _Outcome(stop=True)


class Sender:
    """Delivers the outbox: paced, in order per chat, each row settled in the store."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        *,
        worker: str,
        clock: Callable[[], datetime],
        limits: SendLimits = SendLimits(),  # noqa: B008  (frozen, shared safely)
    ) -> None:
        self._bot = bot
        self._store = store
        self._worker = worker
        self._clock = clock
        self._limits = limits
        self._pacer = ChatPacer(limits)
        self._queues: dict[int, deque[OutboxMessage]] = {}  # per chat: claimed, not yet taken
        self._tasks: dict[int, asyncio.Task[None]] = {}  # per chat: the task sending its queue
        self._claimed: set[int] = set()  # rows leased to us and not settled yet
        self._sending: set[int] = set()  # rows whose request is in flight
        self._deliveries: set[asyncio.Task[_Outcome]] = set()
        self._healthy: set[int] = set()  # chats whose failure count is known to be zero
        self._sent = 0

    @property
    def sent(self) -> int:
        """Messages Telegram confirmed since this sender was made."""
        return self._sent

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver due messages until `stopping` is set; give unsent leases back on the way out."""
        try:
            while not stopping.is_set():
                try:
                    _taken, more = await self._poll()
                except StoreError as exc:
                    log.warning("outbox unavailable: %s", exc)
                    more = False
                if not more:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), self._limits.poll_s)
        finally:
            await self._shutdown()

    async def drain(self) -> int:
        """Send everything due now, waiting for it; return how many messages Telegram confirmed."""
        before = self._sent
        try:
            while True:
                taken, _more = await self._poll()
                tasks = list(self._tasks.values())
                if not tasks and not taken:
                    break
                if tasks:
                    await asyncio.wait(tasks)
        finally:
            await self._shutdown()
        return self._sent - before

    # --- claiming ----------------------------------------------------------------------

    async def _poll(self) -> tuple[int, bool]:
        """Claim due rows into the chat queues; (rows taken, whether more may be due)."""
        room = self._limits.batch - len(self._claimed)
        if room <= 0:
            return 0, False
        rows = await self._claim(room)
        taken, overflow = self._take(rows)
        if overflow:
            # The chat's head stays leased to us, so the store will not hand these rows to
            # anyone before the ones we kept are sent: they come back with a later claim.
            await asyncio.to_thread(self._store.release, overflow)
        self._pacer.prune()
        return taken, taken > 0 and len(rows) >= room

    async def _claim(self, limit: int) -> list[OutboxMessage]:
        """Lease due rows; if cancelled meanwhile, the lease is still taken: give it back."""
        claim = asyncio.ensure_future(
            asyncio.to_thread(
                self._store.claim_messages,
                worker=self._worker,
                now=self._clock(),
                limit=limit,
                lease_s=self._limits.lease_s,
            )
        )
        try:
            return await asyncio.shield(claim)
        except asyncio.CancelledError:
            with contextlib.suppress(StoreError):
                rows = await claim
                await asyncio.to_thread(self._store.release, [m.id for m in rows])
            raise

    def _take(self, rows: Sequence[OutboxMessage]) -> tuple[int, list[int]]:
        """Queue claimed rows per chat, up to what each chat can send within half a lease."""
        taken = 0
        overflow: list[int] = []
        for message in rows:
            if message.id in self._claimed:
                continue  # already ours: its lease ran out while it waited in a queue
            queue = self._queues.setdefault(message.chat_id, deque())
            if len(queue) >= self._pacer.backlog(message.chat_id, self._limits.lease_s / 2):
                overflow.append(message.id)
                continue
            queue.append(message)
            self._claimed.add(message.id)
            taken += 1
            if message.chat_id not in self._tasks:
                self._tasks[message.chat_id] = asyncio.create_task(
                    self._serve(message.chat_id), name=f"send:{message.chat_id}"
                )
        return taken, overflow

    # --- one chat ----------------------------------------------------------------------

    async def _serve(self, chat_id: int) -> None:
        """Send one chat's queue in order, one message at a time."""
        queue = self._queues[chat_id]
        head: OutboxMessage | None = None
        try:
            while queue:
                head = queue.popleft()
                await self._pacer.wait(chat_id)
                outcome = await self._deliver_shielded(head)
                head = None
                if outcome.stop:
                    await self._give_back_all(queue)
                    break
                queue.extendleft(reversed(outcome.replacement))
        except Exception as exc:
            # Usually the store failing mid-way. These rows are forgotten here; their leases
            # expire and they are claimed again later. One chat's trouble stops no other chat.
            log.error("chat %s: sending stopped: %s", chat_id, exc, exc_info=not _expected(exc))
            lost = [m.id for m in queue] + ([head.id] if head is not None else [])
            self._claimed.difference_update(lost)
            queue.clear()
        finally:
            if self._tasks.get(chat_id) is asyncio.current_task():
                del self._tasks[chat_id]
                if not queue:
                    self._queues.pop(chat_id, None)

    async def _give_back_all(self, queue: deque[OutboxMessage]) -> None:
        # Rows may be queued while a release is under way; loop until none is left.
        while queue:
            ids = [m.id for m in queue]
            queue.clear()
            await self._give_back(ids)

    async def _give_back(self, ids: Sequence[int]) -> None:
        await asyncio.to_thread(self._store.release, ids)
        self._claimed.difference_update(ids)

    # --- one message -------------------------------------------------------------------

    async def _deliver_shielded(self, message: OutboxMessage) -> _Outcome:
        """Deliver and record one message; cancelling the caller does not interrupt it."""
        task = asyncio.create_task(self._deliver(message), name=f"deliver:{message.id}")
        self._deliveries.add(task)
        self._sending.add(message.id)

        def settled(done: asyncio.Task[_Outcome]) -> None:
            self._deliveries.discard(done)
            self._sending.discard(message.id)

        task.add_done_callback(settled)
        return await asyncio.shield(task)

    async def _deliver(self, message: OutboxMessage) -> _Outcome:
        """Send one message and settle its row according to Telegram's answer."""
        try:
            sent = await self._bot.send_message(
                chat_id=message.chat_id,
                text=message.text,
                parse_mode=ParseMode.HTML,
                message_thread_id=message.thread_id or None,
                link_preview_options=_preview(message.preview_url),
            )
        except RetryAfter as exc:
            return await self._hold(message, _retry_after_s(exc))
        except ChatMigrated as exc:
            return await self._migrate(message, exc.new_chat_id)
        except Forbidden as exc:
            return await self._chat_gone(message, exc)
        except BadRequest as exc:  # before NetworkError, which it subclasses
            return await self._refused(message, exc)
        except TelegramError as exc:  # TimedOut, NetworkError (resets, 5xx), anything else
            return await self._retry(message, exc)
        await self._mark_sent(message, sent.message_id)
        return NEXT

    async def _mark_sent(self, message: OutboxMessage, telegram_id: int) -> None:
        for attempt in range(MARK_SENT_TRIES):
            try:
                await asyncio.to_thread(
                    self._store.mark_sent,
                    message.id,
                    telegram_message_id=telegram_id,
                    now=self._clock(),
                )
                break
            except StoreError as exc:
                if attempt + 1 == MARK_SENT_TRIES:
                    log.error(
                        "message %s reached chat %s as %s but could not be recorded: %s",
                        message.id,
                        message.chat_id,
                        telegram_id,
                        exc,
                    )
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
        self._claimed.discard(message.id)
        self._sent += 1
        if message.chat_id not in self._healthy:
            try:
                await asyncio.to_thread(self._store.record_chat_success, message.chat_id)
            except StoreError as exc:  # bookkeeping only: the message is sent and recorded
                log.warning("chat %s: success not recorded: %s", message.chat_id, exc)
            else:
                self._healthy.add(message.chat_id)

    async def _hold(self, message: OutboxMessage, seconds: float) -> _Outcome:
        until = self._clock() + timedelta(seconds=seconds)
        log.info("chat %s: flood control, holding it for %.0f s", message.chat_id, seconds)
        await asyncio.to_thread(self._store.hold_chat, message.chat_id, until=until)
        await self._give_back([message.id])
        return STOP

    async def _migrate(self, message: OutboxMessage, new_id: int) -> _Outcome:
        if new_id == message.chat_id:
            await self._fail(message, f"chat {new_id} migrated to itself")
            return NEXT
        log.info("chat %s became supergroup %s", message.chat_id, new_id)
        await asyncio.to_thread(self._store.migrate_chat, message.chat_id, new_id)
        # The moved rows are claimed again under the new id, in their order.
        await self._give_back([message.id])
        return STOP

    async def _chat_gone(self, message: OutboxMessage, exc: TelegramError) -> _Outcome:
        error = _describe(exc)
        chat = await asyncio.to_thread(
            self._store.record_chat_failure,
            message.chat_id,
            error=error,
            deactivate_after=self._limits.deactivate_after,
        )
        self._healthy.discard(message.chat_id)
        await self._fail(message, error)
        if chat.active:
            return NEXT
        log.warning(
            "chat %s switched off after %d failures: %s",
            message.chat_id,
            chat.consecutive_failures,
            error,
        )
        return STOP

    async def _refused(self, message: OutboxMessage, exc: BadRequest) -> _Outcome:
        reason = exc.message.lower()
        if any(phrase in reason for phrase in CHAT_GONE):
            return await self._chat_gone(message, exc)
        if TOO_LONG in reason:
            return await self._split(message)
        log.warning("message %s to chat %s refused: %s", message.id, message.chat_id, exc)
        await self._fail(message, _describe(exc))
        return NEXT

    async def _split(self, message: OutboxMessage) -> _Outcome:
        parts = split_message(message.text)
        if len(parts) < 2:
            await self._fail(message, "message is too long and has no place to split")
            return NEXT
        # The parts inherit the row's lease and its place in the chat's order.
        ids = await asyncio.to_thread(self._store.split_message, message.id, parts)
        self._claimed.update(ids)
        self._claimed.discard(message.id)
        pieces = tuple(
            replace(message, id=part_id, text=part)
            for part_id, part in zip(ids, parts, strict=True)
        )
        return _Outcome(replacement=pieces)

    async def _retry(self, message: OutboxMessage, exc: TelegramError) -> _Outcome:
        error = _describe(exc)
        if message.attempts + 1 >= self._limits.max_attempts:
            log.warning("message %s to chat %s given up: %s", message.id, message.chat_id, error)
            await self._fail(message, error)
            return NEXT
        delay = min(self._limits.backoff_max_s, self._limits.backoff_base_s * 2**message.attempts)
        not_before = self._clock() + timedelta(seconds=delay)
        log.info(
            "message %s to chat %s: %s; again in %.0f s", message.id, message.chat_id, error, delay
        )
        await asyncio.to_thread(
            self._store.mark_retry, message.id, error=error, not_before=not_before
        )
        self._claimed.discard(message.id)
        # The store claims a chat's messages only up to the first one not due: the ones
        # behind this message wait for it and keep their order.
        return STOP

    async def _fail(self, message: OutboxMessage, error: str) -> None:
        await asyncio.to_thread(self._store.mark_failed, message.id, error=error, now=self._clock())
        self._claimed.discard(message.id)

    # --- stopping ----------------------------------------------------------------------

    async def _shutdown(self) -> None:
        """Stop the chat tasks, let requests in flight finish and record, release the rest."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._deliveries:
            done, pending = await asyncio.wait(
                set(self._deliveries), timeout=self._limits.shutdown_s
            )
            for delivery in pending:
                delivery.cancel()  # the documented window: these may be sent again
            for delivery in done:
                if not delivery.cancelled() and delivery.exception() is not None:
                    log.error("delivery failed while stopping: %s", delivery.exception())
        unsent = sorted(self._claimed - self._sending)
        self._queues.clear()
        self._tasks.clear()
        self._claimed.clear()
        if unsent:
            try:
                await asyncio.to_thread(self._store.release, unsent)
            except StoreError as exc:
                log.warning("could not give back %d leases: %s", len(unsent), exc)


def _preview(url: str | None) -> LinkPreviewOptions:
    """Preview the article's link, or nothing at all."""
    if url is None:
        return LinkPreviewOptions(is_disabled=True)
    return LinkPreviewOptions(url=url)


def _retry_after_s(exc: RetryAfter) -> float:
    """`retry_after` in seconds, whichever type this PTB version gives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _describe(exc: TelegramError) -> str:
    """`Kind: Telegram's description`, once (403 descriptions already start 'Forbidden:')."""
    kind = type(exc).__name__
    if exc.message.startswith(f"{kind}:"):
        return exc.message
    return f"{kind}: {exc.message}"


def _expected(exc: Exception) -> bool:
    """Errors of the running system (database, Telegram), as opposed to bugs."""
    return isinstance(exc, StoreError | TelegramError)
