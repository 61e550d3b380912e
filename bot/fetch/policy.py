"""Fetch stage, URL policy: which schemes and addresses the fetcher may request.

In: a parsed URL's scheme, host and port. Out: nothing, or UnsafeUrl/FetchError.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from bot.errors import FetchError, UnsafeUrl

ALLOWED_SCHEMES = frozenset({"http", "https"})


def address_problem(address: str) -> str | None:
    """Why `address` must not be fetched ('loopback', 'private', …), or None when public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    # Most specific first: 169.254.169.254 is both link-local and private.
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, matched in checks if matched), None)


def check_scheme(url: str, scheme: str, *, redirect_to: str | None = None) -> None:
    """Raise UnsafeUrl unless `scheme` is http or https."""
    if scheme not in ALLOWED_SCHEMES:
        where = f"redirect to {redirect_to}: " if redirect_to else ""
        raise UnsafeUrl(url, f"{where}{scheme or 'no'} scheme not allowed (http and https only)")


async def check_address(url: str, host: str, port: int) -> None:
    """Raise UnsafeUrl when `host` is, or resolves to, a non-public address."""
    if _is_ip_literal(host):
        problem = address_problem(host)
        if problem:
            raise UnsafeUrl(url, f"address {host} is {problem}")
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(url, f"could not resolve {host}", transient=True) from exc
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        problem = address_problem(address)
        if problem:
            raise UnsafeUrl(url, f"{host} resolves to {address} ({problem})")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True
