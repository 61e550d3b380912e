"""The store against a real database: SQLite files, and PostgreSQL when one is given.

Set DUTA_TEST_POSTGRES_URL (e.g. postgresql://user:pass@127.0.0.1:5432/postgres) to
run every `db_url` test on PostgreSQL too; each test gets a fresh database there.
"""

from __future__ import annotations

import ast
import asyncio
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.errors import StoreError
from bot.models import NewArticle, Source, Tag, Tagging, Validators
from bot.store import Store, is_failing
from bot.store.engine import database_url, make_engine
from bot.store.migrate import MIGRATIONS_DIR, alembic_config, head_revision
from bot.store.schema import metadata

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))
DAY = timedelta(days=1)
TABLES = {
    "sources",
    "stories",
    "articles",
    "article_tags",
    "rejections",
    "alembic_version",
    "chats",
    "subscriptions",
    "outbox",
    "digest_items",
}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on an empty database."""
    with Store.open(db_url) as opened:
        yield opened


def source(name: str, **changes: object) -> Source:
    """A source as sources.yaml would give it."""
    base = Source(name=name, url=f"https://{name}.example/rss", kind="rss", language="vi")
    return replace(base, **changes)  # type: ignore[arg-type]


def article(slug: str, **changes: object) -> NewArticle:
    """An article as dedup hands it to the store."""
    base = NewArticle(
        source="baoquocte",
        url=f"https://baoquocte.vn/{slug}.html?utm_source=rss",
        canonical_url=f"https://baoquocte.vn/{slug}.html",
        title="Hữu nghị Việt Nam - Nhật Bản",
        text="Liên hiệp các tổ chức hữu nghị Việt Nam tổ chức giao lưu nhân dân. " * 5,
        lead="TĐO – Giao lưu hữu nghị nhân dân hai nước.",
        published_at=datetime(2025, 3, 1, 9, 30, tzinfo=HANOI),
        author="Thu Hà",
        site="Báo Quốc tế",
        language="vi",
        image="https://baoquocte.vn/images/a.jpg",
        fingerprint=-0x1234_5678_9ABC_DEF0,
        credit_url=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- opening and migrations ----------------------------------------------------------


def test_open_creates_schema_in_a_new_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "duta.db"
    with Store.open(f"sqlite:///{path}") as opened:
        assert opened.count_articles() == 0
    assert path.exists()
    with closing(sqlite3.connect(path)) as raw:
        listed = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {row[0] for row in listed}
        version = raw.execute("SELECT version_num FROM alembic_version").fetchall()
    assert tables == TABLES
    assert version == [(head_revision(),)]


def test_reopening_keeps_data_and_version(db_url: str) -> None:
    with Store.open(db_url) as first:
        first.sync_sources([source("nhandan")])
        first.add_article(article("a"), story_id=None, now=NOW)
    with Store.open(db_url) as second:
        assert second.count_articles() == 1
        assert list(second.source_states()) == ["nhandan"]
    engine = make_engine(database_url(db_url))
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == (head_revision(),)
    engine.dispose()


def _open_and_count(url: str) -> int:
    with Store.open(url) as opened:
        return opened.count_articles()


def test_workers_starting_together_migrate_once(db_url: str) -> None:
    # Separate processes, as several `duta` containers sharing one database would be.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=3, mp_context=spawn) as pool:
        counts = list(pool.map(_open_and_count, [db_url] * 3))
    assert counts == [0, 0, 0]


def test_stores_opened_at_once_in_threads(db_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(_open_and_count, [db_url] * 4))
    assert counts == [0, 0, 0, 0]


def test_migrations_create_exactly_the_declared_schema(store: Store, db_url: str) -> None:
    engine = make_engine(database_url(db_url))
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
        assert set(inspect(conn).get_table_names()) == TABLES
    engine.dispose()
    assert differences == []


def test_history_is_exactly_the_files_in_versions() -> None:
    files = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))
    declared = {_assigned(path, "revision") for path in files}
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())
    assert {rev.revision for rev in revisions} == declared
    assert len(script.get_heads()) == 1
    assert revisions[-1].down_revision is None  # one linear chain back to the start
    assert "0001" in declared


def _assigned(path: Path, name: str) -> str:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                assert isinstance(node.value, ast.Constant)
                return str(node.value.value)
    raise AssertionError(f"{path.name} assigns no {name}")


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/duta.db"
    Store.open(url).close()
    with closing(sqlite3.connect(tmp_path / "duta.db")) as raw, raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="9999"):
        Store.open(url)


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(database_url(f"sqlite:///{tmp_path}/duta.db"))
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    engine.dispose()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["foreign_keys"] == 1
    assert pragmas["synchronous"] == 1  # NORMAL
    assert int(str(pragmas["busy_timeout"])) >= 1000


def test_write_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "duta.db"
    with Store.open(f"sqlite:///{path}") as opened:
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO stories (created_at) VALUES ('2025-03-01 00:00:00.000000')")
        release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
        release.start()
        opened.add_rejection(
            source="s",
            url="https://x.example/a",
            canonical_url="https://x.example/a",
            reason="too short",
            now=NOW,
        )
        release.join()
        holder.close()
        assert opened.known_urls(["https://x.example/a"]) == {"https://x.example/a"}


# --- sources --------------------------------------------------------------------------


def test_sync_sources_keeps_state_and_disables_removed(store: Store) -> None:
    store.sync_sources([source("nhandan"), source("baoquocte")])
    store.record_success(
        "nhandan", now=NOW, next_check_at=NOW + DAY, validators=Validators('"v1"', "Sat, 01 Mar")
    )
    store.sync_sources([source("nhandan", language="en")])

    kept = store.source_state("nhandan")
    assert kept.validators == Validators('"v1"', "Sat, 01 Mar")
    assert kept.last_success_at == NOW
    assert kept.next_check_at == NOW + DAY
    assert store.due_sources(NOW + 2 * DAY) == ["nhandan"]  # baoquocte disabled
    assert set(store.source_states()) == {"nhandan", "baoquocte"}

    store.sync_sources([source("nhandan"), source("baoquocte")])
    assert store.due_sources(NOW) == ["baoquocte"]  # enabled again, never checked


def test_changed_url_forgets_validators_and_feed(store: Store) -> None:
    store.sync_sources([source("thoidai", kind="auto")])
    store.record_success(
        "thoidai",
        now=NOW,
        next_check_at=NOW + DAY,
        validators=Validators("etag-1", None),
        feed_url="https://thoidai.example/rss_feed/",
    )
    store.sync_sources([source("thoidai", kind="auto", url="https://thoidai.example/new")])
    state = store.source_state("thoidai")
    assert state.validators == Validators()
    assert state.feed_url is None
    assert store.due_sources(NOW) == ["thoidai"]


def test_error_streak_and_failing_since(store: Store) -> None:
    store.sync_sources([source("vietnamvn")])
    after = timedelta(hours=24)
    first = store.record_error(
        "vietnamvn",
        now=NOW,
        next_check_at=NOW + timedelta(minutes=5),
        error="HTTP 403",
        failing_after=after,
    )
    later = NOW + timedelta(hours=25)
    second = store.record_error(
        "vietnamvn",
        now=later,
        next_check_at=later + timedelta(hours=1),
        error="HTTP 503",
        failing_after=after,
    )
    assert (first.consecutive_errors, first.failing_since) == (1, NOW)
    assert (second.consecutive_errors, second.failing_since) == (2, NOW)
    assert (second.last_error, second.last_error_at) == ("HTTP 503", later)
    assert not is_failing(first, NOW, after)
    assert is_failing(second, later, after)
    assert store.source_state("vietnamvn") == second

    store.record_success("vietnamvn", now=later, next_check_at=later + DAY, validators=None)
    healed = store.source_state("vietnamvn")
    assert (healed.consecutive_errors, healed.failing_since, healed.last_error) == (0, None, None)
    again = store.record_error(
        "vietnamvn",
        now=later + DAY,
        next_check_at=later + 2 * DAY,
        error="timeout",
        failing_after=after,
    )
    assert again.failing_since == later + DAY  # a new streak starts


def test_becoming_failing_is_logged_once(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    store.sync_sources([source("vietnamvn")])
    for hours in (0, 25, 26):
        when = NOW + timedelta(hours=hours)
        store.record_error(
            "vietnamvn",
            now=when,
            next_check_at=when + timedelta(hours=1),
            error="HTTP 403",
            failing_after=timedelta(hours=24),
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "vietnamvn" in warnings[0] and "HTTP 403" in warnings[0]


def test_changed_kind_forgets_only_the_discovered_feed(store: Store) -> None:
    store.sync_sources([source("thoidai", kind="auto")])
    store.record_success(
        "thoidai",
        now=NOW,
        next_check_at=NOW + DAY,
        validators=Validators("etag-1", None),
        feed_url="https://thoidai.example/rss_feed/",
    )
    store.sync_sources([source("thoidai", kind="listing")])
    state = store.source_state("thoidai")
    assert (state.feed_url, state.validators.etag) == (None, "etag-1")
    assert store.due_sources(NOW) == []


def test_success_without_validators_keeps_the_old_ones(store: Store) -> None:
    store.sync_sources([source("nhandan")])
    store.record_success("nhandan", now=NOW, next_check_at=NOW, validators=Validators("e1", "lm1"))
    store.record_success("nhandan", now=NOW + DAY, next_check_at=NOW + DAY, validators=None)
    assert store.source_state("nhandan").validators == Validators("e1", "lm1")


def test_due_sources_order(store: Store) -> None:
    store.sync_sources([source(name) for name in ("a", "b", "c", "d", "e")])
    checks = {"a": NOW - timedelta(minutes=1), "b": NOW - DAY, "c": NOW + timedelta(seconds=1)}
    for name, when in checks.items():
        store.record_success(name, now=NOW - DAY, next_check_at=when, validators=None)
    assert store.due_sources(NOW) == ["d", "e", "b", "a"]


def test_unknown_source_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="nowhere"):
        store.source_state("nowhere")
    with pytest.raises(StoreError, match="nowhere"):
        store.record_success("nowhere", now=NOW, next_check_at=NOW, validators=None)


# --- articles -------------------------------------------------------------------------


def test_second_article_with_the_same_url_is_refused(store: Store) -> None:
    first = store.add_article(article("a"), story_id=None, now=NOW)
    again = store.add_article(
        article("a", title="Another title", source="nhandan"), story_id=None, now=NOW + DAY
    )
    assert first is not None
    assert again is None
    assert store.count_articles() == 1
    assert store.article_by_url("https://baoquocte.vn/a.html") == first
    assert store.get_article(first.id) == first
    assert first.title == "Hữu nghị Việt Nam - Nhật Bản"


def test_concurrent_inserts_of_one_url_store_it_once(store: Store) -> None:
    barrier = threading.Barrier(4)
    results: list[object] = []

    def add() -> None:
        barrier.wait()
        results.append(store.add_article(article("race"), story_id=None, now=NOW))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1
    assert store.count_articles() == 1


def test_article_in_an_unknown_story_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError):
        store.add_article(article("a"), story_id=424242, now=NOW)
    assert store.count_articles() == 0


def test_stories_group_articles(store: Store) -> None:
    original = store.add_article(article("goc"), story_id=None, now=NOW)
    assert original is not None
    translation = store.add_article(
        article(
            "ban-dich",
            canonical_url="https://www.vietnam.vn/id/persahabatan",
            language="id",
            credit_url="https://baoquocte.vn/goc.html",
            fingerprint=2**63 - 1,
        ),
        story_id=original.story_id,
        now=NOW + timedelta(hours=1),
    )
    other = store.add_article(article("khac", fingerprint=-(2**63)), story_id=None, now=NOW)
    assert translation is not None and other is not None

    assert translation.story_id == original.story_id != other.story_id
    assert store.story_articles(original.story_id) == [original, translation]
    assert store.story_of_url("https://www.vietnam.vn/id/persahabatan") == original.story_id
    assert store.story_of_url("https://baoquocte.vn/missing.html") is None
    assert store.story_crediting("https://baoquocte.vn/goc.html") == original.story_id
    assert store.story_crediting("https://baoquocte.vn/khac.html") is None
    assert sorted(store.recent_fingerprints(NOW)) == sorted(
        [
            (original.story_id, -0x1234_5678_9ABC_DEF0),
            (original.story_id, 2**63 - 1),
            (other.story_id, -(2**63)),
        ]
    )
    assert store.recent_fingerprints(NOW + timedelta(minutes=30)) == [
        (original.story_id, 2**63 - 1)
    ]


def test_merging_stories_moves_their_articles(store: Store) -> None:
    added = [store.add_article(article(s), story_id=None, now=NOW) for s in ("a", "b", "c")]
    a, b, c = (stored for stored in added if stored is not None)
    store.merge_stories(a.story_id, [b.story_id, c.story_id, a.story_id])
    assert [x.id for x in store.story_articles(a.story_id)] == [a.id, b.id, c.id]
    assert store.story_articles(b.story_id) == []
    assert store.story_of_url(c.canonical_url) == a.story_id
    with pytest.raises(StoreError):  # the merged story no longer exists
        store.add_article(article("d"), story_id=b.story_id, now=NOW)


def test_known_urls_include_rejections_and_scale(store: Store) -> None:
    store.add_article(article("a"), story_id=None, now=NOW)
    for _ in range(2):  # idempotent
        store.add_rejection(
            source="baoquocte",
            url="https://baoquocte.vn/tag/x",
            reason="text too short",
            canonical_url="https://baoquocte.vn/tag/x",
            now=NOW,
        )
    asked = [f"https://baoquocte.vn/n{i}.html" for i in range(10_000)]
    asked += ["https://baoquocte.vn/a.html", "https://baoquocte.vn/tag/x"]
    assert store.known_urls(asked) == {"https://baoquocte.vn/a.html", "https://baoquocte.vn/tag/x"}
    assert store.known_urls([]) == set()
    assert store.count_articles() == 1


def test_datetimes_round_trip_as_aware_utc(store: Store) -> None:
    local_now = NOW.astimezone(HANOI)
    stored = store.add_article(article("a"), story_id=None, now=local_now)
    assert stored is not None
    read = store.get_article(stored.id)
    assert read is not None
    assert read.published_at == datetime(2025, 3, 1, 2, 30, tzinfo=UTC)
    assert read.published_at is not None and read.published_at.tzinfo == UTC
    assert read.fetched_at == NOW and read.fetched_at.tzinfo == UTC
    store.sync_sources([source("nhandan")])
    store.record_success("nhandan", now=local_now, next_check_at=local_now, validators=None)
    state = store.source_state("nhandan")
    assert state.last_success_at == NOW and state.last_success_at.tzinfo == UTC


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="naive"):
        store.add_article(article("a"), story_id=None, now=datetime(2025, 3, 1))
    assert store.count_articles() == 0


def test_articles_since_newest_first(store: Store) -> None:
    for hour in range(5):
        store.add_article(article(f"h{hour}"), story_id=None, now=NOW + timedelta(hours=hour))
    recent = store.articles_since(NOW + timedelta(hours=2), limit=2)
    assert [a.canonical_url for a in recent] == [
        "https://baoquocte.vn/h4.html",
        "https://baoquocte.vn/h3.html",
    ]
    assert len(store.articles_since(NOW)) == 5
    assert store.get_article(999_999) is None
    assert store.article_by_url("https://baoquocte.vn/none.html") is None


async def test_store_works_from_worker_threads(store: Store) -> None:
    added = await asyncio.to_thread(store.add_article, article("a"), story_id=None, now=NOW)
    assert added is not None
    assert await asyncio.to_thread(store.iter_article_ids) == [added.id]


# --- tagging --------------------------------------------------------------------------


def tag(tag_id: str, score: float, *evidence: str) -> Tag:
    """A tag as the tagger gives it."""
    return Tag(id=tag_id, facet=tag_id.split("/")[0], label=tag_id, score=score, evidence=evidence)


def test_set_tagging_replaces_tags(store: Store) -> None:
    stored = store.add_article(article("a"), story_id=None, now=NOW)
    assert stored is not None
    first = Tagging(
        language="vi",
        relevant=True,
        relevance=0.9,
        tags=(
            tag("partner/jp", 0.8, "Nhật Bản"),
            tag("theme/people-to-people", 1.5, "hữu nghị", "giao lưu nhân dân"),
        ),
    )
    store.set_tagging(stored.id, first, "Giao lưu hữu nghị.", now=NOW)
    assert store.article_tags(stored.id) == [first.tags[1], first.tags[0]]

    second = Tagging(language="vi", relevant=False, relevance=0.1, tags=(tag("partner/fr", 0.3),))
    store.set_tagging(stored.id, second, "Khác.", now=NOW + DAY)
    assert store.article_tags(stored.id) == [tag("partner/fr", 0.3)]

    store.set_tagging(stored.id, replace(second, tags=()), "Khác.", now=NOW + DAY)
    assert store.article_tags(stored.id) == []


def test_tagging_an_unknown_article_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError, match="424242"):
        store.set_tagging(424242, Tagging("vi", False, 0.0, ()), "", now=NOW)


def test_iter_article_ids(store: Store) -> None:
    ids = [store.add_article(article(s), story_id=None, now=NOW) for s in ("a", "b", "c")]
    assert store.iter_article_ids() == sorted(a.id for a in ids if a is not None)


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://duta:s3cr%25t%2Fp%40ss@127.0.0.1:1/duta",  # nothing listens on port 1
        "postgresql://duta:s3cr%25t%2Fp%40ss@127.0.0.1:notaport/duta",
        "mysql://duta:s3cr%25t%2Fp%40ss@127.0.0.1/duta",
    ],
)
def test_password_never_appears_in_errors(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    for shown in (str(caught.value), repr(caught.value)):
        for spelling in ("s3cr%t/p@ss", "s3cr%25t%2Fp%40ss"):
            assert spelling not in shown


def test_label_hides_the_password(db_url: str) -> None:
    with Store.open(db_url) as opened:
        label = opened.database_label
    assert str(database_url(db_url).database) in label
    password = database_url(db_url).password
    if password:
        assert str(password) not in label and "***" in label


def test_wrong_password_error_hides_it(postgres_admin_url: str) -> None:
    admin_url = postgres_admin_url
    wrong = database_url(admin_url).set(password="not-the-Password-42")
    with pytest.raises(StoreError, match="password authentication failed") as caught:
        Store.open(wrong.render_as_string(hide_password=False))
    assert "not-the-Password-42" not in str(caught.value)
