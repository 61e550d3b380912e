"""Telegram edge, sending: Telegram's flood limits as pacing, before a request leaves.

In: the chat a message is about to go to. Out: `ChatPacer.wait(chat_id)` returns when
sending now keeps within the overall rate, one message per second per private chat and 20
per minute per group (negative chat ids). Messages are spaced evenly instead of
bursting up to a limit: the overall limit is an aiolimiter bucket of capacity one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiolimiter import AsyncLimiter


@dataclass(frozen=True, slots=True)
class SendLimits:
    """How fast and how persistently the sender delivers."""

    # Telegram allows about 30 per second across all chats; 28 keeps a margin for replies
    overall_per_s: float = 28.0
    private_per_s: float = 1.0  # one message per second per chat
    group_per_min: float = 20.0  # groups, supergroups and channels
    batch: int = 200  # outbox rows leased and held in memory at most
    lease_s: float = 120.0  # how long a claimed row stays ours before others may take it
    poll_s: float = 1.0  # pause between outbox polls when nothing more is due
    backoff_base_s: float = 5.0  # first retry delay after a network error or 5xx
    backoff_max_s: float = 1800.0
    max_attempts: int = 12  # a message failing this often is given up (about 6 hours)
    deactivate_after: int = 3  # consecutive 403 / chat-not-found before a chat is switched off
    shutdown_s: float = 10.0  # how long stopping waits for requests already in flight


class ChatPacer:
    """Spaces messages per chat and overall; one per sender, inside its event loop.

    One task sends a chat's messages one after another, so a chat's pace is plain
    arithmetic: the time its next message may leave. Its slot is taken only when the
    message really leaves (after the overall limiter let it through): taken earlier, a
    wait for the overall limit would shorten the gap Telegram sees.
    """

    def __init__(self, limits: SendLimits) -> None:
        self._limits = limits
        self._overall = AsyncLimiter(1, 1.0 / limits.overall_per_s)
        self._next_at: dict[int, float] = {}  # chat → event-loop time its next message may go

    def interval_s(self, chat_id: int) -> float:
        """The least gap between two messages to this chat."""
        if chat_id < 0:
            return 60.0 / self._limits.group_per_min
        return 1.0 / self._limits.private_per_s

    def backlog(self, chat_id: int, within_s: float) -> int:
        """How many messages this chat can take within `within_s` (at least one)."""
        return max(1, int(within_s / self.interval_s(chat_id)))

    async def wait(self, chat_id: int) -> None:
        """Return when a message to `chat_id` may leave now; the caller sends it at once."""
        loop = asyncio.get_running_loop()
        delay = self._next_at.get(chat_id, 0.0) - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._overall.acquire()
        self._next_at[chat_id] = loop.time() + self.interval_s(chat_id)

    def prune(self) -> None:
        """Forget chats whose next slot has passed (a forgotten chat may send at once anyway)."""
        now = asyncio.get_running_loop().time()
        for chat_id in [c for c, at in self._next_at.items() if at <= now]:
            del self._next_at[chat_id]
