"""Fetch stage, URL policy: which schemes and addresses the fetcher may request.

In: a parsed URL's scheme, or an IP address and the host it was resolved from.
Out: nothing, or UnsafeUrl (schemes) / AddressRefused (addresses), whose reason reads
like 'refused: loopback address 127.0.0.1 (resolved from localhost)'.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from bot.errors import UnsafeUrl

ALLOWED_SCHEMES = frozenset({"http", "https"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services hand out cloud credentials: AWS, GCP, Azure, OpenStack
# (169.254.169.254), AWS over IPv6 (fd00:ec2::254), Alibaba Cloud (100.100.100.200).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 reached through a NAT64 gateway


class AddressRefused(Exception):
    """A host is, or resolves to, an address the policy does not allow."""

    def __init__(self, host: str, address: str, problem: str) -> None:
        self.host = host
        self.address = address
        self.problem = problem
        where = "" if _same_host(host, address) else f" (resolved from {host})"
        self.reason = f"refused: {problem} address {address}{where}"
        super().__init__(self.reason)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses may be connected to: public ones, plus what is explicitly allowed."""

    allow_private: bool = False  # every address allowed: local testing only
    allowed_networks: tuple[IPNetwork, ...] = ()  # e.g. an intranet CMS at 10.1.2.0/24

    @classmethod
    def allowing(cls, networks: Iterable[str]) -> AddressPolicy:
        """Public addresses and the given networks ('127.0.0.1/32', '10.0.0.0/8')."""
        return cls(allowed_networks=tuple(ipaddress.ip_network(n) for n in networks))

    def problem(self, address: str) -> str | None:
        """Why `address` must not be connected to, or None when it may."""
        if self.allow_private:
            return None
        ip = parse_ip(address)
        if ip is not None and any(ip in network for network in self.allowed_networks):
            return None
        return address_problem(address)

    def check(self, host: str, address: str) -> None:
        """Raise AddressRefused unless `address` (which `host` resolved to) is allowed."""
        problem = self.problem(address)
        if problem is not None:
            raise AddressRefused(host, address, problem)


def address_problem(address: str) -> str | None:
    """Why `address` is not public ('loopback', 'private', …), or None when it is."""
    ip = parse_ip(address)
    if ip is None:
        return "unparseable"
    ip = _embedded_ipv4(ip) or ip  # ::ffff:127.0.0.1 is loopback too
    # Most specific first: 169.254.169.254 is metadata, link-local and private at once.
    checks = (
        ("cloud metadata", ip in _METADATA),
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, matched in checks if matched), None)


def parse_ip(text: str) -> IPAddress | None:
    """`text` as an IP address (an IPv6 zone id ignored), or None when it is a name."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def check_scheme(url: str, scheme: str, *, redirect_to: str | None = None) -> None:
    """Raise UnsafeUrl unless `scheme` is http or https."""
    if scheme not in ALLOWED_SCHEMES:
        where = f"redirect to {redirect_to}: " if redirect_to else ""
        raise UnsafeUrl(url, f"{where}{scheme or 'no'} scheme not allowed (http and https only)")


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), which decides."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _same_host(host: str, address: str) -> bool:
    """True when `host` is the address itself, perhaps in another spelling ([::1])."""
    literal = parse_ip(host.strip("[]"))
    return literal is not None and literal == parse_ip(address)
