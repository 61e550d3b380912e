"""Storage: per-source polling state — which sources are due, who polls them, how it went.

In: the configured `Source`s, poll outcomes and the workers' claims. Out: `SourceState`s,
the names of due sources and `SourceClaim`s.

Workers sharing a database take due sources under a lease (`locked_by`, `locked_until`):
on PostgreSQL the claim locks the rows it picks with FOR UPDATE SKIP LOCKED, so two
workers pick different sources instead of waiting; on SQLite BEGIN IMMEDIATE serialises
claims. A worker keeps the lease until the batch is polled and its articles routed,
then releases it; recording a poll's outcome does not end it, because a worker dying
between storing an article and routing it would otherwise lose the article's alerts.
A lease that ran out while still set is a worker's unfinished batch: any worker claims
it again, due or not, and is told when it was left (`SourceClaim.orphaned_at`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, case, or_, select, update

from bot.errors import StoreError
from bot.models import Source, SourceState, Validators
from bot.store.base import StoreBase, insert_ignore
from bot.store.schema import sources as table

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 1000  # a reason is one line for /status, not a traceback


@dataclass(frozen=True, slots=True)
class SourceClaim:
    """A source leased to one worker; `orphaned_at` is set when another worker left it
    unfinished (its lease ran out, or it gave the source up while stopping)."""

    name: str
    orphaned_at: datetime | None = None


def is_failing(state: SourceState, now: datetime, failing_after: timedelta) -> bool:
    """True when the source's current error streak has lasted at least `failing_after`."""
    return state.failing_since is not None and now - state.failing_since >= failing_after


class SourceQueries(StoreBase):
    """Sources as configured, and what polling them has learnt."""

    def sync_sources(self, configured: Sequence[Source]) -> None:
        """Make the stored sources match the configuration, keeping their polling state.

        New names are added; for known names url/kind/language/enabled are updated. A
        changed URL starts afresh (no validators, no discovered feed, no error streak,
        due now); a changed kind forgets the discovered feed. Names no longer
        configured are disabled, not deleted, so their history stays.
        """
        wanted = {source.name: source for source in configured}
        with self._write() as conn:
            known = {row.name: row for row in conn.execute(select(table))}
            for name, source in wanted.items():
                row = known.get(name)
                if row is None:
                    # Another worker starting at the same moment may add it first.
                    added = insert_ignore(conn, table, _config(source) | {"consecutive_errors": 0})
                    if added is None:
                        conn.execute(
                            update(table).where(table.c.name == name).values(**_config(source))
                        )
                else:
                    values = _config(source) | _changes(row, source)
                    conn.execute(update(table).where(table.c.name == name).values(**values))
            gone = sorted(set(known) - set(wanted))
            if gone:
                conn.execute(update(table).where(table.c.name.in_(gone)).values(enabled=False))

    def source_state(self, name: str) -> SourceState:
        """The stored state of one source; StoreError if the name is unknown."""
        with self._read() as conn:
            return _state(_row(conn, name))

    def source_states(self) -> dict[str, SourceState]:
        """The state of every stored source, disabled ones included, by name."""
        with self._read() as conn:
            rows = conn.execute(select(table).order_by(table.c.name))
            return {row.name: _state(row) for row in rows}

    def due_sources(self, now: datetime) -> list[str]:
        """Enabled, unleased sources whose next check is unset or not after `now`.

        Ordered by next check (never-checked first), then name.
        """
        query = (
            select(table.c.name)
            .where(table.c.enabled.is_(True), _due(now), _lease_free(now))
            .order_by(table.c.next_check_at.asc().nulls_first(), table.c.name)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def claim_sources(
        self, *, worker: str, now: datetime, limit: int, lease_s: float
    ) -> list[SourceClaim]:
        """Lease up to `limit` enabled sources to `worker` for `lease_s` seconds.

        Sources other workers left unfinished come first, due or not; then due ones
        with no lease, in due order.
        """
        if limit <= 0:
            return []
        orphaned = table.c.locked_until.is_not(None)
        query = (
            select(table.c.name, table.c.locked_until)
            .where(table.c.enabled.is_(True), _lease_free(now), or_(_due(now), orphaned))
            .order_by(
                case((orphaned, 0), else_=1),
                table.c.next_check_at.asc().nulls_first(),
                table.c.name,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        lease = {"locked_by": worker, "locked_until": now + timedelta(seconds=lease_s)}
        with self._write() as conn:
            rows = conn.execute(query).all()
            if rows:
                names = [row.name for row in rows]
                conn.execute(update(table).where(table.c.name.in_(names)).values(**lease))
        return [SourceClaim(row.name, row.locked_until) for row in rows]

    def claim_due_sources(
        self, *, worker: str, now: datetime, limit: int, lease_s: float
    ) -> list[str]:
        """The names `claim_sources` leased to `worker`."""
        claims = self.claim_sources(worker=worker, now=now, limit=limit, lease_s=lease_s)
        return [claim.name for claim in claims]

    def release_sources(self, names: Iterable[str], *, worker: str | None = None) -> None:
        """End the leases on `names` (of `worker` only, when given): their work is done."""
        self._end_leases(names, worker, {"locked_by": None, "locked_until": None})

    def abandon_sources(
        self, names: Iterable[str], *, now: datetime, worker: str | None = None
    ) -> None:
        """Give `names` up unfinished: the next claim, by any worker, takes them at once
        and is told they were left (`SourceClaim.orphaned_at`)."""
        self._end_leases(names, worker, {"locked_until": now})

    def source_leases(self) -> dict[str, tuple[str | None, datetime | None]]:
        """(locked_by, locked_until) of every source, by name."""
        query = select(table.c.name, table.c.locked_by, table.c.locked_until)
        with self._read() as conn:
            return {row.name: (row.locked_by, row.locked_until) for row in conn.execute(query)}

    def _end_leases(self, names: Iterable[str], worker: str | None, values: dict[str, Any]) -> None:
        chosen = sorted(set(names))
        if not chosen:
            return
        query = update(table).where(table.c.name.in_(chosen))
        if worker is not None:  # a lease that ran out and was taken over is not ours to end
            query = query.where(table.c.locked_by == worker)
        with self._write() as conn:
            conn.execute(query.values(**values))

    def record_success(
        self,
        name: str,
        *,
        now: datetime,
        next_check_at: datetime,
        validators: Validators | None,
        feed_url: str | None = None,
    ) -> None:
        """Store a successful poll: ends any error streak.

        `validators` None keeps the stored ones (e.g. after a 304); `feed_url` None
        keeps the feed discovered earlier.
        """
        values: dict[str, Any] = {
            "last_success_at": now,
            "last_polled_at": now,
            "next_check_at": next_check_at,
            "consecutive_errors": 0,
            "failing_since": None,
            "last_error": None,
        }
        if validators is not None:
            values |= {"etag": validators.etag, "last_modified": validators.last_modified}
        if feed_url is not None:
            values["feed_url"] = feed_url
        with self._write() as conn:
            result = conn.execute(update(table).where(table.c.name == name).values(**values))
            if result.rowcount == 0:
                raise StoreError(f"unknown source {name!r}")

    def record_error(
        self,
        name: str,
        *,
        now: datetime,
        next_check_at: datetime,
        error: str,
        failing_after: timedelta,
    ) -> SourceState:
        """Store a failed poll and return the new state.

        `failing_since` is the time of the streak's first error; the moment the streak
        reaches `failing_after` is logged once as a warning.
        """
        with self._write() as conn:
            old = _state(_row(conn, name, lock=True))
            values = {
                "consecutive_errors": old.consecutive_errors + 1,
                "last_error": error[:MAX_ERROR_CHARS],
                "last_error_at": now,
                "last_polled_at": now,
                "next_check_at": next_check_at,
                "failing_since": old.failing_since or now,
            }
            conn.execute(update(table).where(table.c.name == name).values(**values))
            new = _state(_row(conn, name))
        was_failing = old.last_error_at is not None and is_failing(
            old, old.last_error_at, failing_after
        )
        if is_failing(new, now, failing_after) and not was_failing:
            log.warning(
                "source %s failing since %s after %d errors: %s",
                name,
                new.failing_since,
                new.consecutive_errors,
                new.last_error,
            )
        return new


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(table.c.next_check_at.is_(None), table.c.next_check_at <= now)


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(table.c.locked_until.is_(None), table.c.locked_until <= now)


def _config(source: Source) -> dict[str, Any]:
    return {
        "name": source.name,
        "url": source.url,
        "kind": source.kind,
        "language": source.language,
        "enabled": source.enabled,
    }


def _changes(row: Row[Any], source: Source) -> dict[str, Any]:
    """State to forget because the configuration of a known source changed."""
    if row.url != source.url:
        return {
            "etag": None,
            "last_modified": None,
            "feed_url": None,
            "next_check_at": None,
            "consecutive_errors": 0,
            "failing_since": None,
            "last_error": None,
        }
    if row.kind != source.kind:
        return {"feed_url": None}
    return {}


def _row(conn: Connection, name: str, *, lock: bool = False) -> Row[Any]:
    query = select(table).where(table.c.name == name)
    if lock:
        # PostgreSQL: serialise concurrent updates of one source's streak.
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise StoreError(f"unknown source {name!r}")
    return row


def _state(row: Row[Any]) -> SourceState:
    return SourceState(
        name=row.name,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        next_check_at=row.next_check_at,
        consecutive_errors=row.consecutive_errors,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        last_success_at=row.last_success_at,
        failing_since=row.failing_since,
        feed_url=row.feed_url,
    )
