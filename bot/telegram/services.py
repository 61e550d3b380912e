"""What the Telegram handlers may reach: passed in once, kept in `application.bot_data`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.settings import Settings
from bot.store import Store
from bot.taxonomy import Taxonomy


@dataclass(frozen=True, slots=True)
class CycleStatus:
    """The service's last poll cycle, for /status."""

    finished_at: datetime | None = None
    sources: int = 0
    failed: int = 0
    new_articles: int = 0
    elapsed_s: float = 0.0


@dataclass
class Services:
    """Everything a handler needs; nothing global."""

    settings: Settings
    store: Store
    taxonomy: Taxonomy
    clock: Callable[[], datetime]
    last_cycle: CycleStatus = field(default_factory=CycleStatus)

    def is_admin_chat(self, chat_id: int) -> bool:
        """True for the chats named in DUTA_ADMIN_CHAT_IDS."""
        return chat_id in self.settings.admin_chat_ids
