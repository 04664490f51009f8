"""The asyncio twin of `guard`: an httpcore network backend that resolves names itself and
connects only to allowed addresses.

The name is resolved here (`loop.getaddrinfo`), every answer is checked against the SSRF policy,
and the connection is made to the checked address, so DNS answers, redirects and odd literal
forms cannot reach a non-allowed address. TLS still verifies the certificate against the URL's
host name (httpcore passes it to `start_tls`). The total deadline per fetch is enforced by the
async fetcher with `asyncio.timeout` around the whole exchange. The streams are plain asyncio
ones (`astream`), not AnyIO's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

from monitor.fetch.addresses import is_allowed
from monitor.fetch.astream import open_stream
from monitor.fetch.guard import BlockedAddressError


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses `host` stands for. A canonical IP literal needs no resolver (and no thread
    hop); every other form, odd literals such as `127.1` included, goes through getaddrinfo."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve host: {exc.strerror}") from None
    except UnicodeError as exc:  # a name IDNA cannot encode, e.g. an empty label ("a..b")
        raise httpcore.ConnectError(f"cannot resolve host: {exc}") from None
    return [str(info[4][0]) for info in infos]


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to allowed, already-resolved addresses."""

    def __init__(self, allow: Iterable[str]) -> None:
        self._allow = tuple(allow)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port)
        allowed = [a for a in addresses if is_allowed(ipaddress.ip_address(a), self._allow)]
        if not allowed:
            raise BlockedAddressError(
                f"{host} resolves only to non-public addresses; "
                "settings.fetch.allow_networks can allow them"
            )
        last: Exception | None = None
        for address in allowed:
            try:
                return await open_stream(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
