"""The fetch stage's own HTTP/1.1 pool over a real loopback server: kept-alive connections are
reused, bodies of every framing are read, a connection is dropped when its body was not read or
the server closes it, and a stale kept-alive connection is retried by the fetcher."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from monitor.config.models import FetchSettings
from monitor.fetch.aclient import AsyncFetcher, guarded_transport
from monitor.fetch.exchange import Requester
from monitor.fetch.loop import new_fetch_loop

BIG = b"x" * 300_000
RESPONSES = {
    "/len": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "/chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
    ),
    "/304": b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n',
    "/big": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BIG), BIG),
    "/eof": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
}


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.open = self.most_open = 0
        self.drop_after_response = False  # close kept-alive connections silently
        self.reset_after_response = False  # ... with a TCP reset (SO_LINGER 0)


class Handler(socketserver.StreamRequestHandler):
    server: Server

    def handle(self) -> None:
        self.server.connections += 1
        self.server.open += 1
        self.server.most_open = max(self.server.most_open, self.server.open)
        try:
            self._serve()
        finally:
            self.server.open -= 1

    def _serve(self) -> None:
        while True:
            request = self.rfile.readline()
            if not request:
                return
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            path = request.split()[1].decode()
            if path == "/slow":
                time.sleep(0.3)
                path = "/len"
            self.wfile.write(RESPONSES[path])
            self.wfile.flush()
            if self.server.reset_after_response:
                time.sleep(0.05)
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                return
            if path == "/eof" or self.server.drop_after_response:
                return


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def run(server: Server, paths: list[str], *, read: bool = True) -> list[tuple[int, bytes]]:
    """GET each path in turn through the daemon's client; (status, body) of each."""
    settings = FetchSettings(allow_networks=("127.0.0.0/8",))
    base = f"http://127.0.0.1:{server.server_address[1]}"

    async def go() -> list[tuple[int, bytes]]:
        out = []
        requester = Requester(guarded_transport(settings), settings)
        try:
            for path in paths:
                response = await requester.get(base + path, {})
                try:
                    body = await response.aread() if read else b""
                finally:
                    await response.aclose()
                out.append((response.status_code, body))
        finally:
            await requester.aclose()
        return out

    with asyncio.Runner(loop_factory=new_fetch_loop) as runner:
        return runner.run(go())


def test_a_kept_alive_connection_carries_every_framing(server: Server) -> None:
    got = run(server, ["/len", "/chunked", "/304", "/big", "/len"])
    assert got == [(200, b"hello"), (200, b"hello"), (304, b""), (200, BIG), (200, b"hello")]
    assert server.connections == 1


def test_a_body_already_received_is_reused_unread_and_a_longer_one_is_not(
    server: Server,
) -> None:
    run(server, ["/304", "/304", "/len", "/big", "/len"], read=False)
    # the 304s and "hello" arrived whole with their heads; the unread 300 KB ends its connection
    assert server.connections == 2


def test_a_body_read_to_the_end_of_the_connection_is_not_reused(server: Server) -> None:
    assert run(server, ["/eof", "/len"]) == [(200, b"until the end"), (200, b"hello")]
    assert server.connections == 2


@pytest.mark.parametrize("how", ["close", "reset"])
def test_the_fetcher_retries_once_on_a_connection_the_server_closed(
    server: Server, how: str
) -> None:
    server.drop_after_response = how == "close"
    server.reset_after_response = how == "reset"
    settings = FetchSettings(allow_networks=("127.0.0.0/8",))
    url = f"http://127.0.0.1:{server.server_address[1]}/len"

    async def go() -> list[bytes]:
        fetcher = AsyncFetcher(settings)
        try:
            return [(await fetcher.get(url)).body for _ in range(3)]
        finally:
            await fetcher.aclose()

    async def go_slowly() -> list[bytes]:  # the server's close has surely arrived each time
        fetcher = AsyncFetcher(settings)
        try:
            bodies = []
            for _ in range(3):
                bodies.append((await fetcher.get(url)).body)
                await asyncio.sleep(0.2)
            return bodies
        finally:
            await fetcher.aclose()

    with asyncio.Runner(loop_factory=new_fetch_loop) as runner:
        assert runner.run(go()) == [b"hello"] * 3
        assert runner.run(go_slowly()) == [b"hello"] * 3
    assert server.connections == 6


def test_a_refused_connection_is_an_httpx_connect_error() -> None:
    settings = FetchSettings(allow_networks=("127.0.0.0/8",))
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as probe:
        port = probe.server_address[1]  # closed again below: nothing listens there

    async def go() -> None:
        requester = Requester(guarded_transport(settings), settings)
        try:
            await requester.get(f"http://127.0.0.1:{port}/", {})
        finally:
            await requester.aclose()

    with asyncio.Runner(loop_factory=new_fetch_loop) as runner, pytest.raises(httpx.ConnectError):
        runner.run(go())


def test_a_redirect_to_another_scheme_is_refused_as_a_bad_url(server: Server) -> None:
    from monitor.errors import FetchError, FetchErrorKind

    settings = FetchSettings(allow_networks=("127.0.0.0/8",))
    port = server.server_address[1]

    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": f"ftp://127.0.0.1:{port}/len"})

    async def go() -> None:
        # the first hop answered by a mock, the redirect target goes to the real transport
        fetcher = AsyncFetcher(settings, _FirstHop(redirect, guarded_transport(settings)))
        try:
            await fetcher.get("http://127.0.0.1:1/start")
        finally:
            await fetcher.aclose()

    with asyncio.Runner(loop_factory=new_fetch_loop) as runner, pytest.raises(FetchError) as caught:
        runner.run(go())
    assert caught.value.kind is FetchErrorKind.BAD_URL and server.connections == 0


class _FirstHop(httpx.AsyncBaseTransport):
    def __init__(self, handler: object, rest: httpx.AsyncBaseTransport) -> None:
        self._first = httpx.MockTransport(handler)  # type: ignore[arg-type]
        self._rest = rest

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/start":
            return await self._first.handle_async_request(request)
        return await self._rest.handle_async_request(request)


def test_connections_to_one_origin_stay_within_its_bound() -> None:
    from monitor.fetch.aguard import AsyncGuardedBackend
    from monitor.fetch.h11pool import OriginTransport

    srv = Server()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/slow"

    async def go() -> list[int]:
        transport = OriginTransport(
            AsyncGuardedBackend(("127.0.0.0/8",)), httpx.create_ssl_context(), max_connections=2
        )
        async with httpx.AsyncClient(transport=transport) as client:
            responses = await asyncio.gather(*(client.get(url) for _ in range(6)))
        return [r.status_code for r in responses]

    try:
        with asyncio.Runner(loop_factory=new_fetch_loop) as runner:
            assert runner.run(go()) == [200] * 6
        assert srv.most_open == 2 and srv.connections == 2
    finally:
        srv.shutdown()
        srv.server_close()
