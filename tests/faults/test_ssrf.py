"""SSRF: a source or a redirect aimed at loopback, private, link-local or cloud-metadata
addresses is refused before any connection is opened, unless private networks are
explicitly allowed; and the connection goes to the very address that was checked.

Names other than `localhost` are answered by `HostsTable`, a resolver in the role of
/etc/hosts (the fetcher's `lookup` seam), because tests have no DNS of their own.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import FetchError, UnsafeUrl
from bot.fetch import Fetcher
from bot.fetch.network import GuardedBackend, GuardedResolver
from bot.fetch.policy import AddressPolicy, AddressRefused
from bot.models import Source
from bot.settings import FetchSettings
from bot.store import Store
from tests.faults.conftest import Listener
from tests.httpserver import LocalSite, redirect
from tests.test_cli_poll import write_sources

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Tin moi</title><link>http://news.example/</link>
</channel></rss>"""
ROOT = Path(__file__).resolve().parents[2]


class HostsTable:
    """Answers names from a table, like /etc/hosts; each later lookup takes the next answer.

    Unknown names fail as the system resolver fails. Every lookup is recorded.
    """

    def __init__(self, answers: dict[str, Sequence[Sequence[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        asked = sum(1 for h in self.lookups if h == host)
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = self.answers[host]
        return list(answers[min(asked, len(answers) - 1)])


def strict(**overrides: object) -> FetchSettings:
    """Production address policy (private networks refused), quick timeouts, no waits."""
    base = FetchSettings(
        allow_private_networks=False,
        host_delay_s=0.0,
        connect_timeout_s=2.0,
        read_timeout_s=2.0,
        total_timeout_s=4.0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


async def refusal(fetcher: Fetcher, url: str) -> UnsafeUrl:
    """The UnsafeUrl a fetch of `url` ends in, which must come at once."""
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await fetcher.get(url)
    assert isinstance(info.value, UnsafeUrl), info.value
    assert not info.value.transient
    assert time.monotonic() - started < 1.0, "refused before any network wait"
    return info.value


async def untouched(listeners: Sequence[Listener]) -> None:
    """Fail if any listener was connected to (after time for a connection to be accepted)."""
    await asyncio.sleep(0.2)
    for listener in listeners:
        assert listener.connections == [], f"{listener.host} was connected to"


# --- sources at non-public addresses ---------------------------------------------------


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "refused: loopback address 127.0.0.1"),
        ("localhost", "refused: loopback address 127.0.0.1 (resolved from localhost)"),
        ("LocalHost", "refused: loopback address 127.0.0.1 (resolved from localhost)"),
        ("127.1", "refused: loopback address 127.0.0.1 (resolved from 127.1)"),
        ("0x7f000001", "refused: loopback address 127.0.0.1 (resolved from 0x7f000001)"),
        ("2130706433", "refused: loopback address 127.0.0.1 (resolved from 2130706433)"),
        ("[::ffff:127.0.0.1]", "refused: loopback address ::ffff:127.0.0.1"),
        ("[::ffff:7f00:1]", "refused: loopback address ::ffff:7f00:1"),
        ("0.0.0.0", "refused: unspecified address 0.0.0.0"),  # Linux delivers it locally
    ],
)
async def test_loopback_in_any_spelling_is_refused_before_connecting(
    listen: Callable[..., Listener], host: str, reason: str
) -> None:
    listener = listen("127.0.0.1")
    async with Fetcher(strict()) as fetcher:
        error = await refusal(fetcher, f"http://{host}:{listener.port}/rss/home.rss")
    assert error.reason == reason
    assert error.url == f"http://{host}:{listener.port}/rss/home.rss"
    await untouched([listener])


async def test_ipv6_loopback_is_refused_before_connecting(
    listen: Callable[..., Listener],
) -> None:
    listener = listen("::1")
    async with Fetcher(strict()) as fetcher:
        error = await refusal(fetcher, f"http://[::1]:{listener.port}/feed")
    assert error.reason == "refused: loopback address ::1"
    await untouched([listener])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "refused: cloud metadata address 169.254.169.254",
        ),
        (
            "http://[fd00:ec2::254]/latest/meta-data/",
            "refused: cloud metadata address fd00:ec2::254",
        ),
        (
            "http://metadata.google.internal/computeMetadata/v1/",
            "refused: cloud metadata address 169.254.169.254 "
            "(resolved from metadata.google.internal)",
        ),
        (
            "http://intranet.example/rss",
            "refused: private address 10.1.2.3 (resolved from intranet.example)",
        ),
        ("http://10.0.0.1/rss", "refused: private address 10.0.0.1"),
        ("http://192.168.1.1/rss", "refused: private address 192.168.1.1"),
        ("http://172.16.5.4/rss", "refused: private address 172.16.5.4"),
        ("http://[fe80::1]/rss", "refused: link-local address fe80::1"),
        ("http://100.64.0.1/rss", "refused: not globally routable address 100.64.0.1"),
        # one bad address among good ones refuses the name: the resolver picks, not us
        (
            "http://mixed.example/rss",
            "refused: loopback address 127.0.0.1 (resolved from mixed.example)",
        ),
    ],
)
async def test_private_link_local_and_metadata_targets_are_refused(url: str, reason: str) -> None:
    hosts = HostsTable(
        {
            "metadata.google.internal": [["169.254.169.254"]],
            "intranet.example": [["10.1.2.3"]],
            "mixed.example": [["203.162.4.190", "127.0.0.1"]],
        }
    )
    async with Fetcher(strict(), lookup=hosts) as fetcher:
        error = await refusal(fetcher, url)
    assert error.reason == reason


async def test_an_unknown_name_is_a_transient_resolution_error() -> None:
    async with Fetcher(strict(), lookup=HostsTable({})) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.get("http://gone.example/rss")
    assert info.value.transient and not isinstance(info.value, UnsafeUrl)
    assert info.value.reason == "could not resolve gone.example (Name or service not known)"


async def test_private_networks_are_reachable_only_when_allowed(site: LocalSite) -> None:
    site.add("/rss", RSS, content_type="application/rss+xml")
    async with Fetcher(strict()) as fetcher:
        await refusal(fetcher, f"http://localhost:{site.port}/rss")
    assert site.requests == []
    async with Fetcher(strict(allow_private_networks=True)) as fetcher:
        response = await fetcher.get(f"http://localhost:{site.port}/rss")
    assert response.content == RSS
    allowed = AddressPolicy.allowing(["127.0.0.1/32"])  # one network, not all of them
    async with Fetcher(strict(), policy=allowed) as fetcher:
        assert (await fetcher.get(site.url("/rss"))).content == RSS
        error = await refusal(fetcher, f"http://127.0.0.2:{site.port}/rss")
    assert error.reason == "refused: loopback address 127.0.0.2"


# --- redirects ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port2}/admin",
        "http://[::1]:{port6}/admin",
        "http://internal.example:{port2}/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/admin",
    ],
)
async def test_every_redirect_hop_is_checked_again(
    site: LocalSite, listen: Callable[..., Listener], target: str
) -> None:
    beside = listen("127.0.0.2")
    ipv6 = listen("::1")
    location = target.format(port2=beside.port, port6=ipv6.port)
    site.add("/rss", redirect("/rss/moved"))  # a first, harmless hop on the same site
    site.add("/rss/moved", redirect(location, 301))
    hosts = HostsTable({"internal.example": [["127.0.0.2"]]})
    policy = AddressPolicy.allowing(["127.0.0.1/32"])  # only the site itself is allowed
    settings = strict(respect_robots=False)
    async with Fetcher(settings, policy=policy, lookup=hosts) as fetcher:
        error = await refusal(fetcher, site.url("/rss"))
    assert error.url == site.url("/rss")
    assert error.reason.startswith("refused: ") and "address" in error.reason
    assert [r.path for r in site.requests] == ["/rss", "/rss/moved"]
    await untouched([beside, ipv6])


# --- DNS rebinding ----------------------------------------------------------------------


async def test_the_connection_goes_to_the_address_that_was_checked(
    site: LocalSite, listen: Callable[..., Listener]
) -> None:
    """A name whose second answer points elsewhere: the request still reaches the first.

    The second answer (127.0.0.2, same port) is allowed too, so only the place the
    request lands tells whether the connection resolved the name again.
    """
    site.add("/rss", RSS, content_type="application/rss+xml")
    elsewhere = listen("127.0.0.2", site.port)
    hosts = HostsTable({"news.example": [["127.0.0.1"], ["127.0.0.2"]]})
    policy = AddressPolicy.allowing(["127.0.0.0/8"])
    async with Fetcher(strict(respect_robots=False), policy=policy, lookup=hosts) as fetcher:
        response = await fetcher.get(f"http://news.example:{site.port}/rss")
    assert response.content == RSS
    assert hosts.lookups == ["news.example"]  # one answer, checked and connected to
    assert site.hits("/rss")[0].headers["host"] == f"news.example:{site.port}"
    await untouched([elsewhere])


async def test_each_connection_uses_its_own_checked_answer(
    listen: Callable[..., Listener],
) -> None:
    """With nothing remembered, a rebound answer is checked again and refused unopened."""
    first = listen("127.0.0.1")
    rebound = listen("127.0.0.2", first.port)
    hosts = HostsTable({"rebind.example": [["127.0.0.1"], ["127.0.0.2"]]})
    resolver = GuardedResolver(AddressPolicy.allowing(["127.0.0.1/32"]), hosts, ttl_s=0.0)
    backend = GuardedBackend(resolver)

    stream = await backend.connect_tcp("rebind.example", first.port, timeout=2.0)
    try:
        assert stream.get_extra_info("server_addr")[:2] == ("127.0.0.1", first.port)
    finally:
        await stream.aclose()
    with pytest.raises(AddressRefused) as info:
        await backend.connect_tcp("rebind.example", first.port, timeout=2.0)

    assert info.value.reason == "refused: loopback address 127.0.0.2 (resolved from rebind.example)"
    assert hosts.lookups == ["rebind.example", "rebind.example"]
    await untouched([rebound])
    assert first.connections == ["127.0.0.1"]


# --- `duta poll --once` over a sources file ----------------------------------------------


def test_poll_reports_private_sources_as_refused_without_a_request(
    tmp_path: Path, site: LocalSite, listen: Callable[..., Listener]
) -> None:
    site.add("/rss", RSS, content_type="application/rss+xml")
    ipv6 = listen("::1")
    port = site.port
    sources = [
        Source("loopback", f"http://127.0.0.1:{port}/rss", "rss", "vi"),
        Source("localhost", f"http://localhost:{port}/sitemap.xml", "sitemap", "vi"),
        Source("short-form", f"http://127.1:{port}/the-gioi/", "listing", "vi"),
        Source("hex-form", f"http://0x7f000001:{port}/", "auto", "vi"),
        Source("mapped-v6", f"http://[::ffff:127.0.0.1]:{port}/rss", "rss", "vi"),
        Source("ipv6", f"http://[::1]:{ipv6.port}/rss", "atom", "en"),
        Source("metadata", "http://169.254.169.254/latest/meta-data/", "rss", "en"),
        Source("intranet", "http://10.0.0.1/rss", "rss", "id"),
    ]
    database = f"sqlite:///{tmp_path / 'duta.db'}"
    env = {
        **os.environ,
        "DUTA_SOURCES": str(write_sources(tmp_path / "sources.yaml", sources)),
        "DUTA_DATABASE_URL": database,
        "DUTA_ALLOW_PRIVATE_NETWORKS": "false",
        "DUTA_EXTRACT_WORKERS": "0",
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "poll", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    expected = {
        "loopback": "(refused: loopback address 127.0.0.1)",
        "localhost": "(refused: loopback address 127.0.0.1 (resolved from localhost))",
        "short-form": "(refused: loopback address 127.0.0.1 (resolved from 127.1))",
        "hex-form": "(refused: loopback address 127.0.0.1 (resolved from 0x7f000001))",
        "mapped-v6": "(refused: loopback address ::ffff:127.0.0.1)",
        "ipv6": "(refused: loopback address ::1)",
        "metadata": "(refused: cloud metadata address 169.254.169.254)",
        "intranet": "(refused: private address 10.0.0.1)",
    }
    for name, reason in expected.items():
        assert " error " in lines[name] and reason in lines[name], lines[name]
    assert "total: 8 sources (8 error)" in done.stdout
    assert time.monotonic() - started < 30  # no connection attempt waited for a timeout
    assert site.requests == []
    time.sleep(0.2)
    assert ipv6.connections == []
    with Store.open(database) as store:
        for name, reason in expected.items():
            state = store.source_state(name)
            assert f"({state.last_error})" == reason
            assert state.consecutive_errors == 1

    env["DUTA_ALLOW_PRIVATE_NETWORKS"] = "true"  # the operator's switch for local testing
    done = subprocess.run(
        [sys.executable, "-m", "bot", "poll", "--once", "--source", "loopback"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("loopback ") and " error " not in done.stdout
    assert [r.path for r in site.hits("/rss")] == ["/rss"]
