"""One small connection pool per host, behind one async transport.

One shared pool with connections to hundreds of hosts spends more time choosing a connection
than reading the answer (httpcore's scanned every connection it held: 14% of the daemon's
samples at 400 sources). `PerHostTransport` routes each request to the pool of its own scheme,
host and port (`h11pool.OriginTransport`), created on first use, and closes the least recently
used pools beyond `max_hosts`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

import httpx

HostKey = tuple[bytes, bytes, int | None]


class PerHostTransport(httpx.AsyncBaseTransport):
    """Routes requests to per-host transports made by `factory`; keeps at most `max_hosts`."""

    def __init__(
        self, factory: Callable[[], httpx.AsyncBaseTransport], *, max_hosts: int = 512
    ) -> None:
        self._factory = factory
        self._max_hosts = max_hosts
        self._pools: OrderedDict[HostKey, httpx.AsyncBaseTransport] = OrderedDict()
        self._busy: dict[HostKey, int] = {}

    def _pool(self, key: HostKey) -> httpx.AsyncBaseTransport:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._factory()
        self._pools.move_to_end(key)
        return pool

    async def _evict(self) -> None:
        for key in list(self._pools):
            if len(self._pools) <= self._max_hosts:
                return
            if self._busy.get(key, 0) == 0:
                await self._pools.pop(key).aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key: HostKey = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pool(key)
        self._busy[key] = self._busy.get(key, 0) + 1
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            self._release(key)
            raise
        stream = response.stream
        if not isinstance(stream, httpx.AsyncByteStream):
            self._release(key)
            return response
        response.stream = _Released(stream, lambda: self._release(key))
        await self._evict()
        return response

    def _release(self, key: HostKey) -> None:
        left = self._busy.get(key, 1) - 1
        if left <= 0:
            self._busy.pop(key, None)
        else:
            self._busy[key] = left

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


class _Released(httpx.AsyncByteStream):
    """The response body; tells the router when it is closed so its pool may be evicted."""

    def __init__(self, stream: httpx.AsyncByteStream, done: Callable[[], None]) -> None:
        self._stream = stream
        self._done: Callable[[], None] | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            done, self._done = self._done, None
            if done is not None:
                done()
