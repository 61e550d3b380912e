"""Storage: the table definitions every query in bot/store is written against.

In: nothing. Out: `metadata` and one `Table` per stored thing: the pipeline's sources,
stories, articles, tags and rejections; Telegram's chats, subscriptions, outbox and
digest items. The Alembic migrations in `migrations/versions/` create exactly this
schema; a test checks that the two agree.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC and always read back with tzinfo=UTC.

    SQLite keeps no offset and returns naive values, so every value is converted to
    UTC before it is written; naive values are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; SQLite gets the naive UTC wall time."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} (a timezone is required)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach or normalise to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JsonList(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings stored as a JSON array in a text column (portable everywhere)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Encode as a JSON array, keeping non-ASCII text readable."""
        return None if value is None else json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[str, ...] | None:
        """Decode the JSON array back into a tuple."""
        return None if value is None else tuple(str(item) for item in json.loads(value))


# Named constraints let later migrations alter them on every backend (SQLite batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("language", String(20), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("feed_url", Text),
    Column("next_check_at", UtcDateTime),
    Column("consecutive_errors", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_at", UtcDateTime),
    Column("last_success_at", UtcDateTime),
    Column("last_polled_at", UtcDateTime),
    Column("failing_since", UtcDateTime),
    # Leases for several workers sharing one PostgreSQL database.
    Column("locked_by", String(200)),
    Column("locked_until", UtcDateTime),
)

stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id"), nullable=False, index=True),
    Column("source", String(200), nullable=False),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("lead", Text),
    Column("published_at", UtcDateTime, index=True),
    Column("fetched_at", UtcDateTime, nullable=False, index=True),
    Column("author", Text),
    Column("site", Text),
    Column("language", String(20)),
    Column("image", Text),
    Column("fingerprint", BigInteger, nullable=False),
    Column("credit_url", Text, index=True),
    # Written by the tagging stage; NULL until the article has been tagged.
    Column("detected_language", String(20)),
    Column("relevant", Boolean),
    Column("relevance", Float),
    Column("summary", Text),
    Column("tagged_at", UtcDateTime),
)

article_tags = Table(
    "article_tags",
    metadata,
    Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tag_id", String(100), primary_key=True),
    Column("facet", String(20), nullable=False),
    Column("label", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", JsonList, nullable=False),
    Index("ix_article_tags_tag_id", "tag_id"),
)

rejections = Table(
    "rejections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("canonical_url", Text, nullable=False, unique=True),
    Column("source", String(200), nullable=False),
    Column("url", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# --- Telegram: chats, subscriptions, the outbox and digest items ------------------------
# Thread columns hold 0 for "no forum topic": a NOT NULL column keeps the unique
# constraints meaningful (NULLs never collide); the queries expose None.

chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),
    Column("title", Text),
    Column("language", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("digest_time", String(5), nullable=False),
    Column("digest_weekday", Integer, nullable=False),
    Column("quiet_start", String(5)),
    Column("quiet_end", String(5)),
    Column("active", Boolean, nullable=False),
    Column("consecutive_failures", Integer, nullable=False),
    Column("last_failure", Text),
    Column("last_failure_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("migrated_to", BigInteger),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, ForeignKey("chats.chat_id"), nullable=False),
    Column("thread_id", BigInteger, nullable=False),
    Column("topic", String(100), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", BigInteger),
    UniqueConstraint("chat_id", "thread_id", "topic", name="uq_subscriptions_chat_thread_topic"),
    Index("ix_subscriptions_topic", "topic"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, ForeignKey("chats.chat_id"), nullable=False),
    Column("thread_id", BigInteger, nullable=False),
    Column("kind", String(10), nullable=False),
    # 'alert:{chat}:{thread}:{story}', 'digest:{chat}:{thread}:{mode}:{day}:{part}', and
    # '{key}/{i}' for the parts of a split message: one row per key, ever.
    Column("dedup_key", String(300), nullable=False, unique=True),
    Column("story_id", Integer),
    Column("article_id", Integer),
    # Send order within a chat is (batch, seq, id): `batch` is the id of the first row
    # enqueued together (a digest's parts), so a split row's parts keep their place.
    Column("batch", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("preview_url", Text),
    # pending | sent | failed | split (replaced by its parts; kept for its dedup key)
    Column("status", String(10), nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("telegram_message_id", BigInteger),
    Column("sent_at", UtcDateTime),
    Column("failed_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    # Leases for several senders sharing one PostgreSQL database.
    Column("locked_by", String(200)),
    Column("locked_until", UtcDateTime),
    Index("ix_outbox_chat_order", "chat_id", "status", "batch", "seq", "id"),
    Index("ix_outbox_status_not_before", "status", "not_before"),
    Index("ix_outbox_article_id", "article_id"),
)

digest_items = Table(
    "digest_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, ForeignKey("chats.chat_id"), nullable=False),
    Column("thread_id", BigInteger, nullable=False),
    Column("mode", String(10), nullable=False),
    Column("story_id", Integer, nullable=False),
    Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("digested_at", UtcDateTime),
    UniqueConstraint("chat_id", "thread_id", "story_id", name="uq_digest_items_chat_thread_story"),
    Index("ix_digest_items_due", "chat_id", "thread_id", "mode", "digested_at"),
)
