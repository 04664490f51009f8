"""httpcore's network streams on plain asyncio (streams and `asyncio.timeout`), without anyio.

httpcore's AnyIO backend opens an AnyIO cancel scope for every read and write and checks an idle
connection's socket with a poll call; on the daemon's fetch loop that machinery cost about a
quarter of the loop's time (profile of a 2,000-source all-304 cycle). These streams do the same
work with asyncio's own StreamReader/StreamWriter: a timeout is one `asyncio.timeout` block,
TLS is `StreamWriter.start_tls`, and an idle keep-alive connection is known to be closed when its
reader has seen the end of the stream. Errors map to httpcore's exception classes, as AnyIO's
do. `AsyncGuardedBackend` (aguard) connects through `open_stream`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

READ_BUFFER = 64 * 1024  # the StreamReader's limit: reading pauses above twice this


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out reading") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._writer.is_closing():  # e.g. reset by the peer while the connection was idle
            raise httpcore.WriteError("connection closed")
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out writing") from None
        except (OSError, RuntimeError) as exc:  # uvloop: RuntimeError on a closed transport
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.close()  # the transport closes once its buffer is flushed; no wait

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            # Asked of an idle keep-alive connection: anything already received (the end of
            # the stream, an error such as a reset, or stray bytes) means it cannot carry
            # another request.
            return (
                self._reader.at_eof()
                or self._reader.exception() is not None
                or self._writer.is_closing()
                or bool(getattr(self._reader, "_buffer", b""))
            )
        return None


async def open_stream(
    address: str,
    port: int,
    timeout: float | None,
    local_address: str | None,
    socket_options: Iterable[Any] | None,
) -> AsyncioStream:
    """Connect to an already resolved and checked `address`."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                address,
                port,
                local_addr=(local_address, 0) if local_address else None,
                limit=READ_BUFFER,
            )
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"timed out connecting to {address}") from None
    except OSError as exc:
        raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
    sock = writer.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return AsyncioStream(reader, writer)
