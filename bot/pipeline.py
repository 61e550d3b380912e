"""The only module that chains stages: source → fetch → discover → fetch article →
extract (process pool) → dedup → tag → summarise → store.

In: due `Source`s. Out: a `SourceReport` per source, everything else in the store.
A broken source is reported and backed off; it never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import dedup, schedule
from bot.delivery import route_article
from bot.discover import select_items
from bot.errors import DutaError, FetchError, NotModified, ParseError
from bot.fetch import Fetcher
from bot.models import (
    ExtractedPage,
    FeedItem,
    NewArticle,
    PollOutcome,
    Rejection,
    Response,
    Source,
    SourceReport,
    SourceState,
    StoredArticle,
    Tagging,
)
from bot.pool import ExtractPool
from bot.settings import Settings
from bot.store import Store
from bot.summary import summarize
from bot.tagging import Tagger

log = logging.getLogger(__name__)

STORY_WINDOW = timedelta(days=14)  # copies of a story are looked for among this recent past
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class CycleReport:
    """One poll cycle over a set of sources."""

    reports: tuple[SourceReport, ...]
    elapsed_s: float

    @property
    def new(self) -> int:
        return sum(r.new for r in self.reports)

    @property
    def failed(self) -> int:
        return sum(r.outcome is PollOutcome.ERROR for r in self.reports)


@dataclass
class _Tally:
    new: int = 0
    seen: int = 0
    rejected: int = 0
    errors: int = 0
    stored: list[StoredArticle] = field(default_factory=list)


class Pipeline:
    """Polls sources and stores what they publish. Built once by `bot.app`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        fetcher: Fetcher,
        pool: ExtractPool,
        *,
        tagger: Tagger | None,
        clock: Clock,
        on_article: Callable[[StoredArticle], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.pool = pool
        self.tagger = tagger
        self.clock = clock
        self.on_article = on_article
        self._story_lock = asyncio.Lock()  # story linking sees every earlier insert
        # fingerprints of the recent window, loaded once per cycle and kept current as
        # articles are added, so linking does not rescan the table per article
        self._stories: dedup.StoryIndex | None = None
        # tagged articles of this cycle, routed to subscribers once the cycle is over:
        # by then every copy found in the cycle has joined its story, so a story
        # reaches a chat once even when its copies arrive together
        self._to_route: list[tuple[StoredArticle, Tagging]] = []

    async def poll(
        self,
        sources: Sequence[Source],
        *,
        progress: Callable[[SourceReport], None] | None = None,
    ) -> CycleReport:
        """Poll `sources` concurrently (bounded) and report on each."""
        started = time.monotonic()
        limit = asyncio.Semaphore(self.settings.source_concurrency)
        self._stories = None  # see what other workers stored since the last cycle
        states = await asyncio.to_thread(self.store.source_states)  # one query, not one each

        async def one(source: Source) -> SourceReport:
            async with limit:
                report = await self.poll_source(source, states.get(source.name))
            if progress is not None:
                progress(report)
            return report

        reports = await asyncio.gather(*(one(s) for s in sources))
        await asyncio.to_thread(self._route_cycle)
        return CycleReport(tuple(reports), time.monotonic() - started)

    def _route_cycle(self) -> None:
        """Queue alerts and digest items for this cycle's relevant articles."""
        pending, self._to_route = self._to_route, []
        if self.tagger is None:
            return
        now = self.clock()
        for article, tagging in pending:
            current = self.store.get_article(article.id)  # its story may have been merged
            if current is not None:
                story = replace(article, story_id=current.story_id)
                route_article(self.store, self.tagger.taxonomy, story, tagging, now)

    async def poll_source(self, source: Source, state: SourceState | None = None) -> SourceReport:
        """Poll one source from its stored `state` (read if not given); failures back off."""
        started = time.monotonic()
        budget_s = 2 * self.settings.fetch.total_timeout_s + 30
        try:
            async with asyncio.timeout(budget_s):  # one slow source must not hold the batch
                report = await self._poll(source, state)
        except TimeoutError:
            slow = FetchError(source.url, f"poll took longer than {budget_s:g} s", transient=True)
            report = await self._failed(source, slow)
        except DutaError as exc:
            report = await self._failed(source, exc)
        except Exception as exc:  # one source's bug must not stop the cycle
            log.exception("source %s: unexpected error", source.name)
            report = await self._failed(source, exc)
        report = replace(report, elapsed_s=time.monotonic() - started)
        _log_report(report)
        return report

    async def _poll(self, source: Source, state: SourceState | None) -> SourceReport:
        if state is None:
            state = await asyncio.to_thread(self.store.source_state, source.name)
        url = state.feed_url if source.kind == "auto" and state.feed_url else source.url
        robots = source.kind in ("listing", "auto")
        now = self.clock()
        try:
            response = await self.fetcher.get(url, validators=state.validators, robots=robots)
        except NotModified as exc:
            await self._succeeded(source, None, exc.not_before_s, state.feed_url)
            return SourceReport(source.name, PollOutcome.UNCHANGED)
        found = await self.pool.discover(source, response, now)
        feed_url = state.feed_url
        if found.feed_url is not None:  # an `auto` page names its feed: read that instead
            feed_url = found.feed_url
            response = await self.fetcher.get(feed_url)
            found = await self.pool.discover(replace(source, kind="rss"), response, now)
        items = list(found.items)
        for child in found.children:
            items.extend(await self._child_items(source, child))
        tally = await self._take(source, select_items(source, items))
        await self._succeeded(source, response, response.not_before_s, feed_url)
        return _report(source, tally)

    async def _child_items(self, source: Source, url: str) -> list[FeedItem]:
        """Items of one child sitemap; a broken child is logged, not fatal."""
        try:
            response = await self.fetcher.get(url)
            return list((await self.pool.discover(source, response, self.clock())).items)
        except (FetchError, ParseError) as exc:
            log.warning("source %s: child sitemap %s skipped: %s", source.name, url, exc)
            return []

    async def _take(self, source: Source, items: Sequence[FeedItem]) -> _Tally:
        """Fetch, extract and store the items not seen before."""
        tally = _Tally()
        by_url: dict[str, FeedItem] = {}
        for item in items:
            by_url.setdefault(item.canonical_url or dedup.canonical_url(item.url), item)
        known = await asyncio.to_thread(self.store.known_urls, list(by_url))
        tally.seen = len(known)
        fresh = [(url, item) for url, item in by_url.items() if url not in known]
        await asyncio.gather(*(self._take_one(source, url, item, tally) for url, item in fresh))
        return tally

    async def _take_one(
        self, source: Source, canonical: str, item: FeedItem, tally: _Tally
    ) -> None:
        try:
            page = await self._page(source, item)
        except FetchError as exc:
            if exc.transient:  # try again next cycle
                tally.errors += 1
                log.info("source %s: %s", source.name, exc)
                return
            page = Rejection(item.url, exc.reason)
        if isinstance(page, Rejection):
            tally.rejected += 1
            await asyncio.to_thread(
                self.store.add_rejection,
                source=source.name,
                url=item.url,
                canonical_url=canonical,
                reason=page.reason,
                now=self.clock(),
            )
            return
        stored = await self._store(source, item, page)
        if stored is None:
            tally.seen += 1
        else:
            tally.new += 1
            tally.stored.append(stored)

    async def _page(self, source: Source, item: FeedItem) -> ExtractedPage | Rejection:
        if not source.fetch_articles:
            return _page_from_item(item, self.settings.min_text_chars)
        response = await self.fetcher.get(item.url, robots=True)
        return await self.pool.extract(response.content, response.url, _charset(response))

    async def _store(
        self, source: Source, item: FeedItem, page: ExtractedPage
    ) -> StoredArticle | None:
        canonical = dedup.choose_canonical(page.url, page.canonical_url)
        credit = dedup.canonical_url(page.credit_url) if page.credit_url else None
        article = NewArticle(
            source=source.name,
            url=page.url,
            canonical_url=canonical,
            title=page.title or item.title or page.url,
            text=page.text,
            lead=page.lead,
            published_at=page.published_at or item.published_at,
            author=page.author,
            site=page.site,
            language=page.language or item.language or source.language,
            image=page.image,
            fingerprint=dedup.fingerprint(page.text),
            credit_url=credit if credit != canonical else None,
        )
        # tagged before it is stored, so the article and its tags are one transaction
        tagged = tag_article(self.tagger, article) if self.tagger is not None else None
        async with self._story_lock:
            stored = await asyncio.to_thread(self._link_and_add, article, tagged)
        if stored is None:
            return None
        if tagged is not None and tagged[0].relevant:
            self._to_route.append((stored, tagged[0]))
        if self.on_article is not None:
            self.on_article(stored)
        return stored

    def _link_and_add(
        self, article: NewArticle, tagged: tuple[Tagging, str] | None
    ) -> StoredArticle | None:
        """Choose the article's story and insert it (runs in a worker thread).

        An article related to several stories (say, a copy of one that credits another)
        proves they are one story, so they are merged into the oldest.
        """
        now = self.clock()
        if self._stories is None:
            self._stories = dedup.StoryIndex(self.store.recent_fingerprints(now - STORY_WINDOW))
        related = dedup.related_stories(
            article.fingerprint,
            credited_story=(
                self.store.story_of_url(article.credit_url) if article.credit_url else None
            ),
            crediting_story=self.store.story_crediting(article.canonical_url),
            candidates=self._stories,
        )
        story = min(related) if related else None
        if story is not None and len(related) > 1:
            merged = set(related) - {story}
            self.store.merge_stories(story, sorted(merged))
            self._stories.merge(story, merged)
        stored = self.store.add_article(article, story_id=story, now=now, tagged=tagged)
        if stored is not None:
            self._stories.add(stored.story_id, article.fingerprint)
        return stored

    async def _succeeded(
        self,
        source: Source,
        response: Response | None,
        not_before_s: float | None,
        feed_url: str | None,
    ) -> None:
        now = self.clock()
        due = schedule.next_check_at(now, source.poll_interval_s, not_before_s=not_before_s)
        validators = response.validators if response is not None else None
        await asyncio.to_thread(
            self.store.record_success,
            source.name,
            now=now,
            next_check_at=due,
            validators=validators,
            feed_url=feed_url,
        )

    async def _failed(self, source: Source, exc: Exception) -> SourceReport:
        now = self.clock()
        state = await asyncio.to_thread(self.store.source_state, source.name)
        hint = exc.retry_after_s if isinstance(exc, FetchError) else None
        due = schedule.next_check_at(
            now,
            source.poll_interval_s,
            consecutive_errors=state.consecutive_errors + 1,
            not_before_s=hint,
        )
        reason = _reason(exc)
        await asyncio.to_thread(
            self.store.record_error,
            source.name,
            now=now,
            next_check_at=due,
            error=reason,
            failing_after=timedelta(seconds=self.settings.failing_after_s),
        )
        return SourceReport(source.name, PollOutcome.ERROR, errors=1, reason=reason)


def tag_article(tagger: Tagger, article: NewArticle | StoredArticle) -> tuple[Tagging, str]:
    """The article's tags, relevance and summary (in the article's own language)."""
    tagging = tagger.tag(title=article.title, lead=article.lead, text=article.text)
    summary = summarize(
        title=article.title, lead=article.lead, text=article.text, language=tagging.language
    )
    return tagging, summary


def retag_all(store: Store, tagger: Tagger, clock: Clock) -> int:
    """Re-tag and re-summarise every stored article (after a taxonomy change)."""
    count = 0
    for article_id in store.iter_article_ids():
        article = store.get_article(article_id)
        if article is None:  # deleted meanwhile
            continue
        tagging, summary = tag_article(tagger, article)
        store.set_tagging(article.id, tagging, summary, now=clock())
        count += 1
    return count


def _reason(exc: Exception) -> str:
    if isinstance(exc, FetchError | ParseError):
        return exc.reason
    if isinstance(exc, DutaError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


def _report(source: Source, tally: _Tally) -> SourceReport:
    if tally.new:
        outcome = PollOutcome.NEW
    elif tally.rejected:
        outcome = PollOutcome.REJECTED
    else:
        outcome = PollOutcome.UNCHANGED
    return SourceReport(
        source.name,
        outcome,
        new=tally.new,
        seen=tally.seen,
        rejected=tally.rejected,
        errors=tally.errors,
    )


def _charset(response: Response) -> str | None:
    """The charset parameter of the Content-Type header, if the server sent one."""
    for part in response.headers.get("content-type", "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').lower()
    return None


def _page_from_item(item: FeedItem, min_text_chars: int) -> ExtractedPage | Rejection:
    """A feed entry stored as it is, for sources configured not to fetch pages."""
    text = (item.summary or "").strip()
    if len(text) < min(min_text_chars, 40) or not item.title:
        return Rejection(item.url, "feed entry has no title or text")
    return ExtractedPage(
        url=item.url,
        title=item.title,
        text=text,
        lead=text,
        published_at=item.published_at,
        language=item.language,
    )


def _log_report(report: SourceReport) -> None:
    level = logging.WARNING if report.outcome is PollOutcome.ERROR else logging.INFO
    log.log(
        level,
        "source=%s outcome=%s new=%d seen=%d rejected=%d errors=%d elapsed_s=%.2f%s",
        report.source,
        report.outcome.value,
        report.new,
        report.seen,
        report.rejected,
        report.errors,
        report.elapsed_s,
        f" reason={report.reason!r}" if report.reason else "",
    )
