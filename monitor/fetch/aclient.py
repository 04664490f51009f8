"""The async HTTP path used by the daemon's fetch stage (one asyncio loop, many sources).

`AsyncFetcher.get` keeps every guarantee of the sync `Fetcher`: a total deadline per fetch
(`asyncio.timeout` around connect, headers and body, so a trickling server is cut off), the size
cap counted after decompression, at most N redirects, conditional GET, Retry-After, the SSRF check
on the resolved address at connect time (`AsyncGuardedBackend`), plus global and per-host
concurrency limits and an optional pause between two requests to the same host.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import defaultdict
from urllib.parse import urlsplit

import httpx

from monitor.config.models import FetchSettings
from monitor.errors import FetchError, FetchErrorKind
from monitor.fetch.aguard import AsyncGuardedBackend
from monitor.fetch.client import classify
from monitor.fetch.exchange import BadRedirect, Requester
from monitor.fetch.h11pool import OriginTransport
from monitor.fetch.hostpool import PerHostTransport
from monitor.fetch.response import (
    FetchResult,
    body_errors,
    conditional_headers,
    decoder_for,
    judge,
    result,
)


def _host_transport(settings: FetchSettings, tls: ssl.SSLContext) -> httpx.AsyncBaseTransport:
    # Requests in flight to one host are bounded by AsyncFetcher's per-host semaphore; the pool
    # keeps that many connections alive so the next poll of the host reuses them. Every
    # connection (redirects included) goes through the address check.
    return OriginTransport(
        AsyncGuardedBackend(settings.allow_networks),
        tls,
        max_connections=settings.per_host_concurrency,
    )


def guarded_transport(settings: FetchSettings) -> httpx.AsyncBaseTransport:
    """The daemon's transport: one pool per host, every connection through the address check."""
    # One TLS context for every host: building one loads the CA bundle (25-80 ms on the event
    # loop, 4 s of a 400-source first cycle when each host's pool built its own).
    tls = httpx.create_ssl_context()
    return PerHostTransport(lambda: _host_transport(settings, tls))


class _StaleConnection(Exception):
    """The request failed before any response byte arrived (see AsyncFetcher.get)."""


class AsyncFetcher:
    """Fetches URLs within the configured limits; use it from one event loop."""

    def __init__(
        self, settings: FetchSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """`transport` defaults to `guarded_transport`; tests pass e.g. httpx.MockTransport."""
        self._requester = Requester(transport or guarded_transport(settings), settings)
        self._settings = settings
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host_concurrency)
        )
        self._next_at: dict[str, float] = {}

    async def _pace(self, host: str) -> None:
        delay = self._settings.per_host_delay.total_seconds()
        if delay <= 0:
            return
        now = asyncio.get_running_loop().time()
        at = max(now, self._next_at.get(host, 0.0))
        self._next_at[host] = at + delay
        if at > now:
            await asyncio.sleep(at - now)

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        again: bool = False,
    ) -> FetchResult:
        """GET `url`; raise FetchError on any failure, including non-2xx answers. `again`: the
        URL is polled again later (a feed)."""
        headers = conditional_headers(etag, last_modified)
        host = (urlsplit(url).hostname or "").lower()
        async with self._global, self._hosts[host]:
            await self._pace(host)
            try:
                async with asyncio.timeout(self._settings.deadline.total_seconds()):
                    try:
                        return await self._get(url, headers, again)
                    except _StaleConnection:
                        # a kept-alive connection the server had closed: GET is idempotent and
                        # nothing was received, so try once more on a fresh connection
                        return await self._get(url, headers, again, retry=False)
            except FetchError:
                raise
            except TimeoutError:
                raise FetchError(FetchErrorKind.TIMEOUT, url, "total deadline exceeded") from None
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise classify(exc, url) from None

    async def _get(
        self, url: str, headers: dict[str, str], again: bool, retry: bool = True
    ) -> FetchResult:
        opened = False
        try:
            response = await self._requester.get(url, headers, again=again)
            opened = True
            try:
                return await self._read(response, url, headers)
            finally:
                await response.aclose()
        except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
            if retry and not opened and not isinstance(exc, BadRedirect):
                raise _StaleConnection from exc
            raise

    async def _read(
        self, response: httpx.Response, url: str, headers: dict[str, str]
    ) -> FetchResult:
        cap = self._settings.max_bytes
        done = judge(response, url, headers, cap)
        if done is not None:
            return done
        chunks = []
        with body_errors(url):
            decoder = decoder_for(response, cap)
            if response.is_stream_consumed:
                chunks.append(decoder.feed(response.content))
            else:
                async for raw in response.aiter_raw():
                    chunks.append(decoder.feed(raw))
        return result(response, b"".join(chunks))

    async def aclose(self) -> None:
        await self._requester.aclose()
