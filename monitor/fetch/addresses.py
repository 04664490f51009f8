"""Which network addresses outbound requests may reach (the SSRF policy).

Only public addresses are allowed unless an allow-list of networks says otherwise. The decisive
check is made on the resolved address at connect time (see `guard`); this module also checks
literal addresses in configured URLs at load time, including the odd forms that string checks
miss (`127.1`, `2130706433`, `0x7f.0.0.1`, `[::ffff:127.0.0.1]`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(
    cidrs: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64, compatible)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = int(address)
    if any(address in net for net in NAT64) or (packed >> 32 == 0 and packed > 0xFFFF):
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def _allowed_one(address: IPAddress, allow: Iterable[str]) -> bool:
    for network in parse_networks(allow):
        if address.version == network.version and address in network:
            return True
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    return address.is_global and not address.is_multicast


def is_allowed(address: IPAddress, allow: Iterable[str]) -> bool:
    """True if `address` is public, or inside one of the allowed networks.

    An IPv6 address that embeds an IPv4 address is allowed only if both are.
    """
    allow = tuple(allow)
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            if address.ipv4_mapped is not None:
                return _allowed_one(inner, allow)
            return _allowed_one(inner, allow) and _allowed_one(address, allow)
    return _allowed_one(address, allow)


def literal_address(host: str) -> IPAddress | None:
    """The address a host string denotes literally (any inet_aton form), or None for a name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError):
        return None


def literal_address_problem(url: str, allow: Iterable[str]) -> str | None:
    """A message if `url` names a non-public address (or localhost) that is not allowed."""
    host = urlsplit(url).hostname or ""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        address: IPAddress | None = ipaddress.IPv4Address("127.0.0.1")
    else:
        address = literal_address(host)
    if address is not None and not is_allowed(address, allow):
        return (
            f"address {address} is not public; add its network to "
            "settings.fetch.allow_networks to allow it"
        )
    return None
