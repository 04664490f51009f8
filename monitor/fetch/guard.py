"""An httpcore network backend that resolves names itself and refuses non-allowed addresses.

Because the address is checked after resolution and immediately before `connect`, neither DNS
answers, redirects nor odd literal forms can reach a private or loopback address that the
allow-list does not permit. TLS still verifies the certificate against the URL's host name.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore

from monitor.fetch.addresses import is_allowed

FETCH_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "fetch_deadline", default=None
)


def _remaining(timeout: float | None) -> float | None:
    """The socket timeout for the next operation: at most what is left of the fetch deadline."""
    deadline = FETCH_DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("total fetch deadline exceeded")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write is bounded by the current fetch deadline,
    so a server trickling its headers (or its TLS handshake) cannot outlast the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


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
                return DeadlineStream(
                    super().connect_tcp(
                        str(info[4][0]), port, _remaining(timeout), local_address, socket_options
                    )
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise BlockedAddressError("unix sockets are not allowed")
