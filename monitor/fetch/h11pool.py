"""HTTP/1.1 to one origin over kept-alive connections: the daemon's fetch transport.

httpx's default transport goes through httpcore's connection pool, whose request queue, events,
locks and cancel shields (AnyIO) cost more CPU per request than the HTTP exchange itself on the
fetch loop (about a third of the fetch thread in an all-304 cycle). The fetch stage already
bounds the requests in flight per host (`AsyncFetcher`'s semaphores), so this pool needs no
queue: a request takes an idle connection or opens one. The exchange is h11's, as in httpcore;
connections come from `AsyncGuardedBackend` (the SSRF check on the resolved address at connect
time) and TLS from one shared context, verified against the URL's host. Errors are httpx's.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpcore
import httpx

READ_SIZE = 64 * 1024
MAX_HEAD = 100 * 1024  # the largest response head accepted (httpcore's limit too)

# most specific first: the first match is the one raised
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (h11.LocalProtocolError, httpx.LocalProtocolError),
    (h11.RemoteProtocolError, httpx.RemoteProtocolError),
)


def _as_httpx(exc: Exception, request: httpx.Request) -> Exception:
    for source, target in _ERRORS:
        if isinstance(exc, source):
            return target(str(exc) or type(exc).__name__, request=request)
    return exc


class _Connection:
    """One connection and its h11 state machine."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self.idle_until = 0.0

    async def send(self, request: httpx.Request, timeout: float | None) -> None:
        head = h11.Request(
            method=request.method, target=request.url.raw_path, headers=request.headers.raw
        )
        await self.stream.write(self.h11.send(head) + self.h11.send(h11.EndOfMessage()), timeout)

    async def event(self, timeout: float | None) -> Any:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await self.stream.read(READ_SIZE, timeout)
            if not data and self.h11.their_state is h11.SEND_RESPONSE:
                raise httpcore.RemoteProtocolError("server disconnected without a response")
            self.h11.receive_data(data)

    def reusable(self) -> bool:
        data, closed = self.h11.trailing_data
        if data or closed:  # bytes beyond the body, or the peer's end: not a clean exchange
            return False
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            return True
        return False

    def usable(self, now: float) -> bool:
        """An idle connection can carry another request: not expired, nothing received."""
        return now < self.idle_until and not self.stream.get_extra_info("is_readable")

    async def close(self) -> None:
        await self.stream.aclose()


class OriginTransport(httpx.AsyncBaseTransport):
    """Requests to ONE origin (scheme, host, port), made by the per-host router."""

    def __init__(
        self,
        backend: httpcore.AsyncNetworkBackend,
        tls: ssl.SSLContext,
        *,
        max_connections: int = 16,
        keepalive: float = 5.0,
    ) -> None:
        self._backend = backend
        self._tls = tls
        self._max_idle = max_connections
        self._keepalive = keepalive
        self._idle: list[_Connection] = []
        # the fetcher bounds requests per *requested* host; redirects from many hosts to one
        # must not open more than this many connections to it either
        self._slots = asyncio.Semaphore(max_connections)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"unsupported URL scheme {request.url.scheme!r}", request=request
            )
        await self._slots.acquire()
        try:
            return await self._exchange(request)
        except BaseException:
            self._slots.release()
            raise

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and read the response head; the slot is released with the body."""
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        conn = await self._checkout()
        reused = conn is not None
        try:
            if conn is None:
                conn = await self._connect(request.url, timeouts.get("connect"))
            await conn.send(request, timeouts.get("write"))
            event = await conn.event(timeouts.get("read"))
            while isinstance(event, h11.InformationalResponse):
                event = await conn.event(timeouts.get("read"))
            if not isinstance(event, h11.Response):
                raise httpcore.RemoteProtocolError(f"unexpected {type(event).__name__}")
        except BaseException as exc:
            if conn is not None:
                await conn.close()
            if not isinstance(exc, Exception):
                raise
            if reused and isinstance(exc, OSError | httpcore.NetworkError):
                # a kept-alive connection the server had closed: the caller may retry
                raise httpx.ReadError(str(exc) or "connection closed", request=request) from exc
            mapped = _as_httpx(exc, request)
            if mapped is exc:
                raise
            raise mapped from exc
        return httpx.Response(
            status_code=event.status_code,
            headers=event.headers,
            stream=_Body(self, conn, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": event.reason},
        )

    async def _checkout(self) -> _Connection | None:
        now = asyncio.get_running_loop().time()
        while self._idle:
            conn = self._idle.pop()
            if conn.usable(now):
                return conn
            await conn.close()
        return None

    async def _connect(self, url: httpx.URL, timeout: float | None) -> _Connection:
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        stream = await self._backend.connect_tcp(host.strip("[]"), port, timeout=timeout)
        if url.scheme == "https":
            try:
                stream = await stream.start_tls(self._tls, server_hostname=host, timeout=timeout)
            except BaseException:  # the fetch's deadline (a cancellation) included
                await stream.aclose()
                raise
        return _Connection(stream)

    async def _release(self, conn: _Connection, *, reuse: bool) -> None:
        """The response is over: the connection goes idle (or is closed), its slot is free."""
        self._slots.release()
        if reuse and conn.reusable() and len(self._idle) < self._max_idle:
            conn.idle_until = asyncio.get_running_loop().time() + self._keepalive
            self._idle.append(conn)
        else:
            await conn.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


class _Body(httpx.AsyncByteStream):
    """A response body read from its connection; the connection goes back to the pool once
    the body is read to its end, and is closed otherwise."""

    def __init__(
        self,
        transport: OriginTransport,
        conn: _Connection,
        request: httpx.Request,
        timeout: float | None,
    ) -> None:
        self._transport, self._conn, self._request = transport, conn, request
        self._timeout = timeout
        self._complete = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while not self._complete:
                event = await self._conn.event(self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self._complete = True
                elif isinstance(event, h11.ConnectionClosed):
                    raise httpcore.RemoteProtocolError("connection closed before the body ended")
        except Exception as exc:
            await self.aclose()
            mapped = _as_httpx(exc, self._request)
            if mapped is exc:
                raise
            raise mapped from exc

    def _ended(self) -> bool:
        """The body ended in what was already received (a 304, an empty or unread short
        body): then the connection can be reused without reading from it."""
        try:
            while not self._complete:
                event = self._conn.h11.next_event()
                if isinstance(event, h11.EndOfMessage):
                    self._complete = True
                elif not isinstance(event, h11.Data):
                    break
        except h11.ProtocolError:
            return False
        return self._complete

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._transport._release(self._conn, reuse=self._complete or self._ended())
