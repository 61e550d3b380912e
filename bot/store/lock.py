"""Storage: the one-service-per-file rule of SQLite.

In: the database URL `duta run` was given. Out: for a SQLite file, an exclusive
`fcntl.flock` on `<file>.lock` next to it, holding the owner's pid, kept for the life
of the service; or a StoreError naming the process that holds it. PostgreSQL needs no
such lock: its workers share the work through leases.

The lock only keeps out a second `duta run`. Short commands (`duta poll --once`,
`duta sources`, `duta digest`, `duta retag`) may still open the file while the service
runs: SQLite's WAL journal and busy timeout serialise their writes with the service's,
and `duta poll` leaves alone the sources the service holds leases on.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bot.errors import StoreError
from bot.store.engine import database_url


def lock_path(url: str) -> Path | None:
    """The lock file of the SQLite database `url` names; None for other databases."""
    parsed = database_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if parsed.query.get("uri") or name.startswith("file:"):
        return None  # a URI may name a shared in-memory database: nothing to lock
    path = Path(name)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def single_process(url: str) -> Iterator[None]:
    """Hold the SQLite database's process lock for the block; StoreError if it is taken."""
    path = lock_path(url)
    if path is None:
        yield
        return
    database = str(path.with_name(path.name.removesuffix(".lock")))
    fd = _acquire(path, database)
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(path: Path, database: str) -> int:
    """Lock `path` and write our pid into it; the open descriptor holds the lock."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StoreError(f"{database}: cannot create the lock file {path}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = _owner(fd)
        os.close(fd)
        raise StoreError(
            f"another duta process is using {database} (pid {owner}); SQLite supports one "
            "process — use PostgreSQL for several workers"
        ) from None
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"{database}: cannot lock {path}: {exc}") from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _owner(fd: int) -> str:
    """The pid the lock holder wrote, or '?' if it has not written it yet."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "?"
    return text if text.isdigit() else "?"
