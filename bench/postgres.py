"""Benchmark fixture: a throw-away PostgreSQL server in a temporary directory.

In: initdb and pg_ctl on PATH. Out: a `postgresql://` URL to an empty database on
127.0.0.1, for as long as the context lasts; the server and its files are removed
afterwards. As root the server runs as the `postgres` user (PostgreSQL refuses root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


class Unavailable(Exception):
    """No temporary server could be started; the message says why."""


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise Unavailable("running as root and runuser is missing")
    return [runuser, "-u", "postgres", "--"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise Unavailable(f"{what} failed: {detail[-1] if detail else done.returncode}")


@contextmanager
def temporary_server() -> Iterator[str]:
    """Start a server, create database `duta`, yield its URL, then stop and delete it all."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise Unavailable("initdb/pg_ctl not on PATH")
    prefix = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="duta-bench-pg-"))
    data = root / "data"
    try:
        if prefix:
            shutil.chown(root, user="postgres")
        _run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
              "--no-sync"], "initdb")  # fmt: skip
        port = _free_port()
        # Durability is irrelevant for a benchmark that is thrown away; queries are unaffected.
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w"]
        _run([*start, "start"], "pg_ctl start")
        try:
            base = f"postgresql://postgres@127.0.0.1:{port}"
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute("CREATE DATABASE duta")
            yield f"{base}/duta"
        finally:
            _run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], "pg_ctl stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
