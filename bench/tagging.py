"""Benchmark 4: how fast the tagger reads, and what it costs next to extraction.

In: the seed texts (seeds/*.txt) and the fixture article pages. Out: rows for
documents/s and MB/s of `Tagger.tag` on the seeds, and for tagging time as a share of
extraction time per article (the same pages, both in one process); the summary, which
the pipeline computes right after tagging, is shown beside it.
"""

from __future__ import annotations

import time

from bench import Config, seeding
from bench.corpus import fixture_pages, seed_texts
from bench.report import Row
from bot.extract import extract_or_reject
from bot.models import ExtractedPage
from bot.summary import summarize
from bot.tagging import split_plain_text

MIN_TEXT_CHARS = 280


def seed_throughput(min_s: float) -> tuple[float, float]:
    """(documents/s, MB/s) tagging the seed texts over and over for at least `min_s`."""
    tagger = seeding.tagger()
    docs = [split_plain_text(text) for text in seed_texts()]
    size = sum(len(text.encode()) for text in seed_texts())
    rounds = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < min_s or rounds < 2:
        for title, body in docs:
            tagger.tag(title=title, lead=None, text=body)
        rounds += 1
    return rounds * len(docs) / elapsed, rounds * size / elapsed / 1e6


def shares(repeats: int) -> tuple[float, float, float]:
    """(extract s, tag s, summary s) per article, over the fixture pages that extract."""
    tagger = seeding.tagger()
    extract_s = tag_s = summary_s = 0.0
    articles = 0
    for page in fixture_pages():
        started = time.perf_counter()
        for _ in range(repeats):
            result = extract_or_reject(page.html, page.url, None, MIN_TEXT_CHARS)
        extracted = time.perf_counter()
        if not isinstance(result, ExtractedPage):
            continue
        for _ in range(repeats):
            tagging = tagger.tag(title=result.title, lead=result.lead, text=result.text)
        tagged = time.perf_counter()
        for _ in range(repeats):
            summarize(
                title=result.title, lead=result.lead, text=result.text, language=tagging.language
            )
        extract_s += extracted - started
        tag_s += tagged - extracted
        summary_s += time.perf_counter() - tagged
        articles += repeats
    return extract_s / articles, tag_s / articles, summary_s / articles


def run(config: Config) -> tuple[list[Row], list[str]]:
    """Benchmark 4."""
    title, body = split_plain_text(seed_texts()[0])
    seeding.tagger().tag(title=title, lead=None, text=body)  # load the language model first
    docs_s, mb_s = seed_throughput(1.0 if config.quick else 3.0)
    extract_s, tag_s, summary_s = shares(2 if config.quick else 5)
    share = tag_s / extract_s
    rows = [
        Row("tagging throughput, seed texts", f"{docs_s:.0f} docs/s, {mb_s:.2f} MB/s"),
        Row(
            "tagging time / extraction time per article",
            f"{tag_s * 1000:.2f} ms",
            f"{extract_s * 1000:.1f} ms extraction",
            f"{share:.1%}",
            "≤ 5%",
            share <= 0.05,
        ),
        Row(
            "summary time / extraction time per article",
            f"{summary_s * 1000:.2f} ms",
            f"{extract_s * 1000:.1f} ms extraction",
            f"{summary_s / extract_s:.1%}",
        ),
    ]
    return rows, []
