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


def is_allowed(address: IPAddress, allow: Iterable[str]) -> bool:
    """True if `address` is public, or inside one of the allowed networks."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in parse_networks(allow):
        if address.version == network.version and address in network:
            return True
    return address.is_global and not address.is_multicast


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
