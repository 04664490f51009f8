"""An httpcore network backend that resolves names itself and refuses non-allowed addresses.

Because the address is checked after resolution and immediately before `connect`, neither DNS
answers, redirects nor odd literal forms can reach a private or loopback address that the
allow-list does not permit. TLS still verifies the certificate against the URL's host name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

from monitor.fetch.addresses import is_allowed


class BlockedAddressError(httpcore.ConnectError):
    """Connection refused by policy: the host resolved to a non-allowed address."""


class GuardedBackend(httpcore.SyncBackend):
    """SyncBackend that connects only to allowed, already-resolved addresses."""

    def __init__(self, allow: Iterable[str]) -> None:
        self._allow = tuple(allow)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve host: {exc.strerror}") from None
        allowed = [
            info for info in infos if is_allowed(ipaddress.ip_address(info[4][0]), self._allow)
        ]
        if not allowed:
            raise BlockedAddressError(
                f"{host} resolves only to non-public addresses; "
                "settings.fetch.allow_networks can allow them"
            )
        last: Exception | None = None
        for info in allowed:
            try:
                return super().connect_tcp(
                    str(info[4][0]), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise BlockedAddressError("unix sockets are not allowed")
