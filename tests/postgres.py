"""A real, throwaway PostgreSQL server for the test session.

`DUTA_TEST_POSTGRES_URL` names an existing server to use instead. Otherwise the
server binaries (initdb, pg_ctl; scripts/test.sh installs them when missing) run
a fresh cluster in a temporary directory on a free loopback port, as the
`postgres` user when the tests run as root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PASSWORD = "duta-Secret-9"  # real password authentication, so tests can check it never leaks


def _binary(name: str) -> str:
    installed = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    found = shutil.which(name) or (str(installed[0]) if installed else None)
    if found is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL (scripts/test.sh does)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an admin URL of a running PostgreSQL server; stop and delete it afterwards."""
    existing = os.environ.get("DUTA_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="duta-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    pwfile = root / "pwfile"
    pwfile.write_text(PASSWORD + "\n", encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    initdb_args = ["-D", str(data), "-U", "duta", f"--pwfile={pwfile}", "-E", "UTF8"]
    initdb_args += ["--auth-host=scram-sha-256", "--auth-local=trust", "--no-sync"]
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(_as_server_user([initdb, *initdb_args]), **run)  # type: ignore[call-overload]
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_server_user(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        **run,  # type: ignore[call-overload]
    )
    try:
        yield f"postgresql://duta:{PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of `admin_url`, dropped afterwards."""
    import psycopg

    name = f"duta_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
