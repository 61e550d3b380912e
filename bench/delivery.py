"""Delivery benchmark: messages per second from the outbox into Telegram chats.

In: a local Bot API server (tests/botapi.py `BotApi`) that enforces Telegram's flood
limits — about 30 messages a second overall, one a second per chat, 20 a minute per
group — and answers 429 beyond them; a SQLite store whose outbox holds rendered
alerts, queued as matching queues them (`upsert_chat`, then `enqueue_alert`). Out:
rows for Duta's `Sender` — built as `duta run` builds it (`MeteredBot`, default
`SendLimits`) — draining

- one alert to each of `Config.chats` private chats: messages per second sustained at
  the server, against Telegram's 30/s ceiling, and the 429s it drew;
- a group-heavy mix (`mix_groups` groups and `mix_private` private chats, several
  alerts each): messages per second and 429s;
- context: the first case with the overall pace raised to the ceiling
  (`SendLimits(overall_per_s=30)`), which shows what the pacing constant costs.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import Config
from bench.corpus import ROOT, documents
from bench.report import Row, seconds, times
from bot import dedup
from bot.app import load_tagger
from bot.delivery import labeler
from bot.models import NewArticle, Source, StoredArticle
from bot.pipeline import tag_article
from bot.settings import Settings
from bot.store import Store
from bot.telegram import render
from bot.telegram.limits import SendLimits
from bot.telegram.runner import MeteredBot
from bot.telegram.sender import Sender
from tests.botapi import BotApi, SentMessage

CEILING_PER_S = 30.0  # Telegram's overall limit for a bot
TARGET_SHARE = 0.9  # ≥ 27/s sustained
WINDOW_S = 5.0  # the sliding window of the "slowest stretch" note
PRIVATE_BASE = 200_000  # chat ids of the private chats: 200001, 200002, …
GROUP_BASE = 3_000_000  # chat ids of the basic groups: -3000001, -3000002, …


@dataclass(frozen=True, slots=True)
class Run:
    """One drain of the outbox as the Bot API server saw it."""

    chats: int
    queued: int
    accepted: int
    requests: int
    throttled: int  # 429s the flood limits answered
    duplicates: int  # messages a chat received twice
    out_of_order: int  # chats whose messages arrived in another order than queued
    span_s: float  # first to last accepted message, at the server
    wall_s: float  # sender started → last message accepted
    slowest_per_s: float  # fewest messages in any WINDOW_S stretch, per second

    @property
    def rate(self) -> float:
        """Messages per second sustained between the first and the last one."""
        return (self.accepted - 1) / self.span_s if self.span_s > 0 else 0.0


def alert_texts(count: int, now: datetime) -> list[str]:
    """`count` alerts as Duta renders them: real documents, their real tags and summaries."""
    tagger = load_tagger(Settings(taxonomy_path=ROOT / "seeds" / "taxonomy.yaml"))
    labels = labeler(tagger.taxonomy)
    texts: list[str] = []
    for number, doc in enumerate(d for d in documents() if d.language == "vi"):
        if len(texts) == count:
            break
        url = f"https://baoquocte.vn/bench-{number}.html"
        article = StoredArticle(
            id=number + 1,
            story_id=number + 1,
            source="baoquocte",
            url=url,
            canonical_url=url,
            title=doc.title,
            text="\n\n".join(doc.paragraphs),
            lead=doc.lead,
            published_at=now,
            fetched_at=now,
            language=doc.language,
            site="Báo Quốc tế",
        )
        tagging, summary = tag_article(tagger, article)
        if tagging.relevant:  # an alert is only ever sent for a relevant article
            texts.append(
                render.alert(
                    replace(article, summary=summary),
                    tagging.tags,
                    also_in=[],
                    lang="vi",
                    tz=ZoneInfo("Asia/Ho_Chi_Minh"),
                    labels=labels,
                )
            )
    if len(texts) < count:
        raise RuntimeError(f"only {len(texts)} documents to render alerts from")
    return texts


def fill_outbox(store: Store, chats: Sequence[int], texts: Sequence[str], now: datetime) -> int:
    """Queue every text to every chat, as matching does; the number of rows queued."""
    store.sync_sources(
        [Source(name="baoquocte", url="https://baoquocte.vn/rss", kind="rss", language="vi")]
    )
    stories = []
    for number, text in enumerate(texts):
        url = f"https://baoquocte.vn/bench-{number}.html"
        stored = store.add_article(
            NewArticle(
                source="baoquocte",
                url=url,
                canonical_url=url,
                title=f"story {number}",
                text=text,
                lead=None,
                published_at=now,
                author=None,
                site="Báo Quốc tế",
                language="vi",
                image=None,
                fingerprint=dedup.fingerprint(text),
                credit_url=None,
            ),
            story_id=None,
            now=now,
        )
        if stored is None:
            raise RuntimeError(f"article {url} was not stored")
        stories.append(stored)
    queued = 0
    for chat_id in chats:
        store.upsert_chat(chat_id, kind="private" if chat_id > 0 else "group", title=None, now=now)
        for article, text in zip(stories, texts, strict=True):
            queued += (
                store.enqueue_alert(
                    chat_id=chat_id,
                    thread_id=None,
                    story_id=article.story_id,
                    article_id=article.id,
                    text=text,
                    preview_url=article.url,
                    not_before=now,
                    now=now,
                )
                is not None
            )
    return queued


async def drain(
    api: BotApi, store: Store, settings: Settings, limits: SendLimits, queued: int
) -> float:
    """Run the sender until the server accepted `queued` messages; (wall seconds)."""
    root = settings.telegram_api_url
    # the Bot `duta run` gives its sender (bot.telegram.runner), without metrics
    async with MeteredBot(
        api.token, on_flood=lambda: None, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot"
    ) as bot:
        sender = Sender(bot, store, worker="bench", clock=lambda: datetime.now(UTC), limits=limits)
        stopping = asyncio.Event()
        started = time.monotonic()
        task = asyncio.create_task(sender.run(stopping))
        # at 20/s with a margin: a sender slower than that fails the run, not the machine
        deadline = started + queued / 20.0 + 30.0
        while len(api.messages) < queued and not task.done():
            if time.monotonic() > deadline:
                break  # reported as a failed run by the caller
            await asyncio.sleep(0.1)
        stopping.set()
        await task
    messages = api.messages
    return (messages[-1].at - started) if messages else 0.0


def measure(
    config: Config, name: str, chats: Sequence[int], texts: Sequence[str], limits: SendLimits
) -> Run:
    """One scenario on its own server and store."""
    now = datetime.now(UTC)
    path: Path = config.workdir / f"delivery-{name}.db"
    with BotApi() as api, Store.open(f"sqlite:///{path}") as store:
        queued = fill_outbox(store, chats, texts, now)
        settings = Settings(telegram_token=api.token, telegram_api_url=api.root_url)
        wall = asyncio.run(drain(api, store, settings, limits, queued))
        sent = store.outbox_counts()["sent"]
        messages = api.messages
        run = summarize(messages, queued, len(chats), api, wall, texts)
    if sent != run.accepted or run.accepted != queued:
        raise RuntimeError(
            f"delivery {name}: {queued} queued, {run.accepted} accepted, {sent} marked sent"
        )
    return run


def summarize(
    messages: Sequence[SentMessage],
    queued: int,
    chats: int,
    api: BotApi,
    wall_s: float,
    texts: Sequence[str],
) -> Run:
    """What the server recorded, as a `Run`."""
    stamps = [m.at for m in messages]
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    seen = Counter((m.chat_id, m.text) for m in messages)
    order = {text: index for index, text in enumerate(texts)}
    by_chat: dict[int, list[int]] = {}
    for message in messages:
        by_chat.setdefault(message.chat_id, []).append(order[message.text])
    return Run(
        chats=chats,
        queued=queued,
        accepted=len(messages),
        requests=api.requests,
        throttled=api.too_many_requests,
        duplicates=sum(n - 1 for n in seen.values()),
        out_of_order=sum(seq != sorted(seq) for seq in by_chat.values()),
        span_s=span,
        wall_s=wall_s,
        slowest_per_s=_slowest(stamps, span),
    )


def _slowest(stamps: Sequence[float], span: float) -> float:
    """The fewest messages in any WINDOW_S stretch of the run, per second."""
    if span < WINDOW_S:
        return len(stamps) / span if span > 0 else 0.0
    counts = []
    start, end = stamps[0], stamps[-1] - WINDOW_S
    at, low, high = start, 0, 0
    while at <= end:
        while low < len(stamps) and stamps[low] < at:
            low += 1
        while high < len(stamps) and stamps[high] < at + WINDOW_S:
            high += 1
        counts.append(high - low)
        at += 0.5
    return min(counts) / WINDOW_S


def run(config: Config) -> tuple[list[Row], list[str]]:
    """The three scenarios, one after another."""
    texts = alert_texts(config.mix_messages, datetime.now(UTC))
    private = [PRIVATE_BASE + i for i in range(1, config.chats + 1)]
    spread = measure(config, "private", private, texts[:1], SendLimits())
    groups = [-(GROUP_BASE + i) for i in range(1, config.mix_groups + 1)]
    mixed = groups + private[: config.mix_private]
    mix = measure(config, "mix", mixed, texts, SendLimits())
    ceiling = private[: config.ceiling_chats]
    at_ceiling = measure(
        config, "ceiling", ceiling, texts[:1], SendLimits(overall_per_s=CEILING_PER_S)
    )
    for scenario in (spread, mix, at_ceiling):
        if scenario.duplicates or scenario.out_of_order:
            raise RuntimeError(f"delivery: duplicates or reordering in {scenario}")
    return _rows(config, spread, mix, at_ceiling), _notes(config, spread, mix, at_ceiling)


def _rows(config: Config, spread: Run, mix: Run, at_ceiling: Run) -> list[Row]:
    ceiling = f"{CEILING_PER_S:.0f}/s Telegram's ceiling"
    share = spread.rate / CEILING_PER_S
    mix_label = f"{config.mix_groups} groups + {config.mix_private} private × {config.mix_messages}"
    return [
        Row(
            f"delivery to {spread.chats:,} private chats (Sender, default limits)",
            f"{spread.rate:.1f} msgs/s",
            ceiling,
            times(share),
            f"≥ {TARGET_SHARE:.2f}× (≥ {TARGET_SHARE * CEILING_PER_S:.0f}/s)",
            share >= TARGET_SHARE,
        ),
        Row(
            f"delivery to {spread.chats:,} private chats: 429 answers",
            f"{spread.throttled} of {spread.requests} requests",
            target="0",
            met=spread.throttled == 0,
        ),
        Row(
            f"group-heavy mix, {mix_label}",
            f"{mix.rate:.1f} msgs/s",
            ceiling,
            times(mix.rate / CEILING_PER_S),
        ),
        Row(
            f"group-heavy mix, {mix.queued} messages: 429 answers",
            f"{mix.throttled} of {mix.requests} requests",
            target="0",
            met=mix.throttled == 0,
        ),
        Row(
            f"delivery to {at_ceiling.chats:,} private chats, overall pace set to 30/s",
            f"{at_ceiling.rate:.1f} msgs/s, {at_ceiling.throttled} × 429",
            ceiling,
            times(at_ceiling.rate / CEILING_PER_S),
        ),
    ]


def _notes(config: Config, spread: Run, mix: Run, at_ceiling: Run) -> list[str]:
    defaults = SendLimits()
    return [
        "Delivery: Duta's Sender with the Bot and limits `duta run` gives it (MeteredBot, "
        f"SendLimits(): {defaults.overall_per_s:g}/s overall, {defaults.private_per_s:g}/s "
        f"per private chat, {defaults.group_per_min:g}/min per group, batches of "
        f"{defaults.batch}), outbox on SQLite filled with enqueue_alert, against tests/botapi.py "
        "enforcing 30/s overall, 1/s per chat and 20/min per group. Rates are measured at the "
        "server from the first to the last accepted message; every message arrived once, in "
        "each chat's order, and was marked sent.",
        f"Delivery to {spread.chats:,} chats: {seconds(spread.wall_s)} from the sender's start "
        f"to the last message; slowest {WINDOW_S:g} s stretch {spread.slowest_per_s:.1f}/s. "
        f"Mix: {seconds(mix.wall_s)}, slowest stretch {mix.slowest_per_s:.1f}/s. "
        f"At 30/s: slowest stretch {at_ceiling.slowest_per_s:.1f}/s.",
    ]
