"""Storage: the `Store` every stage reads and writes — the hand-off point of the pipeline.

In: a database URL. Out: a `Store` whose schema is at the newest migration. Methods
are synchronous, short, and each runs one transaction; async callers use
`asyncio.to_thread`.
"""

from __future__ import annotations

from typing import Self

from bot.store.articles import ArticleQueries
from bot.store.chats import ChatQueries
from bot.store.digests import DigestQueries
from bot.store.engine import database_url, make_engine, translated
from bot.store.migrate import upgrade
from bot.store.outbox import OutboxQueries
from bot.store.sources import SourceQueries
from bot.store.subscriptions import SubscriptionQueries
from bot.store.tagging import TaggingQueries


class Store(
    SourceQueries,
    ArticleQueries,
    TaggingQueries,
    ChatQueries,
    SubscriptionQueries,
    OutboxQueries,
    DigestQueries,
):
    """Duta's database: the pipeline's articles and tags, and what Telegram delivery needs.

    Sources, articles, stories, rejections and tags; chats, subscriptions, digest items
    and the outbox.
    """

    @classmethod
    def open(cls, url: str) -> Self:
        """Connect to `url` (sqlite:///path, postgresql://…) and migrate it to the newest schema."""
        parsed = database_url(url)
        engine = make_engine(parsed)
        try:
            with translated(parsed):
                upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, parsed)

    def ping(self) -> bool:
        """True when the database answers a trivial query (health checks)."""
        with self._read() as conn:
            return conn.exec_driver_sql("SELECT 1").scalar() == 1

    def close(self) -> None:
        """Close every pooled connection; the store is unusable afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
