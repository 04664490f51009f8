"""The one HTTP path for fetching sources and pages.

Every request goes through :class:`Fetcher`: connect/read timeouts plus a total deadline per
fetch (a trickling server is cut off), a size cap counted after decompression, at most N
redirects, conditional GET, global and per-host concurrency limits, and the connect-time
address guard. Transport failures are mapped to the closed set of `FetchErrorKind` in one place.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import httpx

from monitor.config.models import FetchSettings
from monitor.errors import FetchError, FetchErrorKind
from monitor.fetch.decode import ACCEPT_ENCODING
from monitor.fetch.guard import FETCH_DEADLINE, BlockedAddressError, GuardedBackend
from monitor.fetch.response import (
    FetchResult,
    body_errors,
    conditional_headers,
    decoder_for,
    judge,
    result,
)

__all__ = ["FetchResult", "Fetcher", "build_client", "classify", "client_timeout"]


def _guarded_transport(settings: FetchSettings) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(retries=0)
    # httpx offers no public hook for the network backend; the pool's is replaced so every
    # connection (redirects included) goes through the address check.
    transport._pool._network_backend = GuardedBackend(settings.allow_networks)
    return transport


def client_timeout(settings: FetchSettings) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.connect_timeout.total_seconds(),
        read=settings.read_timeout.total_seconds(),
        write=settings.read_timeout.total_seconds(),
        pool=settings.deadline.total_seconds(),
    )


def client_options(settings: FetchSettings) -> dict[str, Any]:
    """What the sync and the async client share: timeouts, redirects, headers, TLS checks."""
    return {
        "timeout": client_timeout(settings),
        "follow_redirects": True,
        "max_redirects": settings.max_redirects,
        "headers": {"user-agent": settings.user_agent, "accept-encoding": ACCEPT_ENCODING},
        "verify": True,
    }


def build_client(
    settings: FetchSettings, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The shared client; tests pass `transport` (e.g. httpx.MockTransport)."""
    return httpx.Client(
        transport=transport or _guarded_transport(settings), **client_options(settings)
    )


def classify(exc: Exception, url: str) -> FetchError:
    """Translate an httpx/httpcore failure into a FetchError of a known kind."""
    if isinstance(exc, FetchError):
        return exc
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, BlockedAddressError):
            return FetchError(FetchErrorKind.BLOCKED_ADDRESS, url, str(cause))
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    kinds: list[tuple[type[Exception], FetchErrorKind]] = [
        (httpx.TooManyRedirects, FetchErrorKind.TOO_MANY_REDIRECTS),
        (httpx.TimeoutException, FetchErrorKind.TIMEOUT),
        (httpx.ConnectError, FetchErrorKind.CONNECT),
        (httpx.UnsupportedProtocol, FetchErrorKind.BAD_URL),
        (httpx.InvalidURL, FetchErrorKind.BAD_URL),
    ]
    for kind_type, kind in kinds:
        if isinstance(exc, kind_type):
            if kind is FetchErrorKind.CONNECT and ("SSL" in text or "certificate" in text):
                kind = FetchErrorKind.TLS
            if kind is FetchErrorKind.CONNECT and "resolve" in text:
                kind = FetchErrorKind.DNS
            return FetchError(kind, url, text)
    return FetchError(FetchErrorKind.PROTOCOL, url, text)


class Fetcher:
    """Fetches URLs within the configured limits; safe to use from several threads."""

    def __init__(self, client: httpx.Client, settings: FetchSettings) -> None:
        self._client = client
        self._settings = settings
        self._global = threading.BoundedSemaphore(settings.concurrency)
        self._hosts: defaultdict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(settings.per_host_concurrency)
        )
        self._lock = threading.Lock()

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        with self._lock:
            return self._hosts[(urlsplit(url).hostname or "").lower()]

    def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url`; raise FetchError on any failure, including non-2xx answers."""
        headers = conditional_headers(etag, last_modified)
        with self._global, self._host_slot(url):
            deadline = time.monotonic() + self._settings.deadline.total_seconds()
            token = FETCH_DEADLINE.set(deadline)
            try:
                return self._get(url, headers, deadline)
            except FetchError:
                raise
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise classify(exc, url) from None
            finally:
                FETCH_DEADLINE.reset(token)

    def _get(self, url: str, headers: dict[str, str], deadline: float) -> FetchResult:
        cap = self._settings.max_bytes
        with self._client.stream("GET", url, headers=headers) as response:
            done = judge(response, url, headers, cap)
            if done is not None:
                return done
            chunks = []
            with body_errors(url):
                decoder = decoder_for(response, cap)
                raws = [response.content] if response.is_stream_consumed else response.iter_raw()
                for raw in raws:
                    chunks.append(decoder.feed(raw))
                    if time.monotonic() > deadline:
                        raise FetchError(FetchErrorKind.TIMEOUT, url, "total deadline exceeded")
            return result(response, b"".join(chunks))

    def close(self) -> None:
        self._client.close()
