"""The values that travel between stages.

Every stage takes and returns these frozen dataclasses; no stage passes
feedparser dicts, trafilatura documents or database rows to another.
Datetimes are always timezone-aware (UTC unless a source says otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

SourceKind = Literal["rss", "atom", "sitemap", "listing", "auto"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("rss", "atom", "sitemap", "listing", "auto")


@dataclass(frozen=True, slots=True)
class Source:
    """One watched site entry from sources.yaml."""

    name: str
    url: str
    kind: SourceKind
    language: str
    poll_interval_s: int = 900
    include: tuple[str, ...] = ()  # regular expressions an item URL must match (any)
    exclude: tuple[str, ...] = ()  # regular expressions that drop an item URL
    link_selector: str | None = None  # listing pages: CSS selector for article links
    link_pattern: str | None = None  # listing pages: regex for article link URLs
    max_items: int = 50  # newest items taken from one poll of this source
    fetch_articles: bool = True  # False: store feed entries without fetching the page
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered per source for conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """A completed HTTP fetch: the final URL after redirects and the body bytes."""

    url: str
    status: int
    content: bytes
    headers: dict[str, str]  # lower-cased names
    validators: Validators = field(default_factory=Validators)
    not_before_s: float | None = None  # server hint (Cache-Control max-age) for the next poll
    elapsed_s: float = 0.0

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ('' when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One article link discovered in a feed, sitemap or listing page."""

    url: str
    source: str  # Source.name
    title: str | None = None
    published_at: datetime | None = None
    summary: str | None = None
    guid: str | None = None
    language: str | None = None
    canonical_url: str | None = None  # set by discovery (in a worker): what dedup compares


@dataclass(frozen=True, slots=True)
class Discovery:
    """What one fetched source document yielded."""

    items: tuple[FeedItem, ...] = ()
    children: tuple[str, ...] = ()  # sitemap index: child sitemaps worth fetching now
    feed_url: str | None = None  # `auto` pages: the advertised feed to fetch instead
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """Text and metadata pulled out of one article page."""

    url: str  # the URL the page was fetched from (after redirects)
    title: str
    text: str
    lead: str | None = None  # publisher's sapo / og:description
    published_at: datetime | None = None
    author: str | None = None
    site: str | None = None
    language: str | None = None  # as declared by the page; tagging detects its own
    image: str | None = None
    canonical_url: str | None = None  # rel=canonical as published, unvalidated
    credit_url: str | None = None  # the `Sumber:` / `Source:` / `Nguồn:` original URL


@dataclass(frozen=True, slots=True)
class Rejection:
    """A page that was fetched but not stored as an article, and why."""

    url: str
    reason: str


class PollOutcome(StrEnum):
    """How one source's poll ended, as shown per source by `duta poll`."""

    NEW = "new"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class SourceReport:
    """The result of polling one source once."""

    source: str
    outcome: PollOutcome
    new: int = 0
    seen: int = 0  # discovered items already stored
    rejected: int = 0
    errors: int = 0  # article-level failures that did not fail the source
    reason: str | None = None
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SourceState:
    """Polling state stored per source between cycles."""

    name: str
    validators: Validators = field(default_factory=Validators)
    next_check_at: datetime | None = None
    consecutive_errors: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_success_at: datetime | None = None
    failing_since: datetime | None = None
    feed_url: str | None = None  # feed discovered from an `auto` page


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An extracted, de-duplicated article ready to store."""

    source: str
    url: str
    canonical_url: str
    title: str
    text: str
    lead: str | None
    published_at: datetime | None
    author: str | None
    site: str | None
    language: str | None
    image: str | None
    fingerprint: int  # 64-bit SimHash of the text, signed for SQL BIGINT
    credit_url: str | None  # canonical form of the credited original


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as read back from the store."""

    id: int
    story_id: int
    source: str
    url: str
    canonical_url: str
    title: str
    text: str
    lead: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    site: str | None
    author: str | None = None
    image: str | None = None
    credit_url: str | None = None
    # set by the tagging stage; None until the article is tagged
    detected_language: str | None = None
    relevant: bool | None = None
    relevance: float | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    """One taxonomy tag given to a document, with the phrases that triggered it."""

    id: str  # "facet/slug", e.g. "partner/jp"
    facet: str
    label: str
    score: float
    evidence: tuple[str, ...]  # matched phrases as they appear in the text


@dataclass(frozen=True, slots=True)
class Tagging:
    """What the tagger decided about one document."""

    language: str  # detected from the text, ISO 639-1
    relevant: bool  # about Vietnam's foreign relations
    relevance: float  # the score behind `relevant`
    tags: tuple[Tag, ...]


# --- Telegram: chats, subscriptions and the outbox -------------------------------------

DeliveryMode = Literal["instant", "daily", "weekly"]
DELIVERY_MODES: tuple[DeliveryMode, ...] = ("instant", "daily", "weekly")
UiLanguage = Literal["en", "id", "vi"]
UI_LANGUAGES: tuple[UiLanguage, ...] = ("en", "id", "vi")


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """A chat's preferences: UI language, time zone, digest time and quiet hours."""

    chat_id: int
    kind: str = "private"  # private | group | supergroup | channel
    title: str | None = None
    language: UiLanguage = "en"
    timezone: str = "Asia/Ho_Chi_Minh"  # IANA name
    digest_time: str = "08:00"  # local HH:MM for daily and weekly digests
    digest_weekday: int = 0  # weekly digests: 0 = Monday
    quiet_start: str | None = None  # local HH:MM; instant alerts wait until quiet_end
    quiet_end: str | None = None
    active: bool = True  # False after the bot was blocked or removed
    consecutive_failures: int = 0


@dataclass(frozen=True, slots=True)
class Subscription:
    """One topic followed by one chat (and forum topic thread), in one mode."""

    chat_id: int
    topic: str  # taxonomy id, e.g. "partner/jp"
    mode: DeliveryMode = "instant"
    thread_id: int | None = None  # forum topic where the subscription was made


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A rendered message waiting in (or sent from) the outbox."""

    id: int
    chat_id: int
    thread_id: int | None
    text: str  # Telegram HTML, already escaped and under 4096 characters
    kind: str  # alert | digest
    preview_url: str | None = None  # the link to preview; None disables previews
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """A stored article waiting for (or shown in) a chat's digest."""

    article: StoredArticle
    tags: tuple[Tag, ...]
    also_in: tuple[str, ...] = ()  # sites of other copies of the same story
