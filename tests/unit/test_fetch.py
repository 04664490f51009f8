"""The fetch path: limits, conditional GET, error kinds, and the connect-time address guard."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from monitor.config.models import FetchSettings
from monitor.errors import FetchError, FetchErrorKind
from monitor.fetch.addresses import literal_address_problem
from monitor.fetch.client import Fetcher, build_client
from monitor.fetch.urls import canonical_url


def fetcher(handler: object, **settings: object) -> Fetcher:
    config = FetchSettings(**settings)  # type: ignore[arg-type]
    return Fetcher(build_client(config, httpx.MockTransport(handler)), config)  # type: ignore[arg-type]


def test_conditional_get_sends_validators_and_reports_304() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(
            200,
            content=b"<rss/>",
            headers={"etag": '"v1"', "last-modified": "Sun, 01 Mar 2026 00:00:00 GMT"},
        )

    f = fetcher(handler)
    first = f.get("https://news.example.org/feed")
    assert first.etag == '"v1"' and first.body == b"<rss/>"
    second = f.get(
        "https://news.example.org/feed", etag=first.etag, last_modified=first.last_modified
    )
    assert second.not_modified and second.etag == '"v1"'
    assert seen[1].headers["if-modified-since"] == "Sun, 01 Mar 2026 00:00:00 GMT"
    assert "news-monitor" in seen[0].headers["user-agent"]


def test_size_cap_counts_decompressed_bytes() -> None:
    import gzip

    body = gzip.compress(b"a" * 200_000)  # small on the wire, large once decompressed
    f = fetcher(
        lambda r: httpx.Response(200, content=body, headers={"content-encoding": "gzip"}),
        max_bytes=100_000,
    )
    with pytest.raises(FetchError) as caught:
        f.get("https://news.example.org/bomb")
    assert caught.value.kind is FetchErrorKind.TOO_LARGE


def test_rate_limit_keeps_retry_after() -> None:
    f = fetcher(lambda r: httpx.Response(429, headers={"retry-after": "120"}))
    with pytest.raises(FetchError) as caught:
        f.get("https://news.example.org/feed")
    assert caught.value.kind is FetchErrorKind.RATE_LIMITED and caught.value.retry_after == 120


def test_too_many_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.strip("/") or 0)
        return httpx.Response(302, headers={"location": f"/{n + 1}"})

    with pytest.raises(FetchError) as caught:
        fetcher(handler, max_redirects=5).get("https://news.example.org/0")
    assert caught.value.kind is FetchErrorKind.TOO_MANY_REDIRECTS


def test_http_error_status_is_an_error_kind() -> None:
    with pytest.raises(FetchError) as caught:
        fetcher(lambda r: httpx.Response(404)).get("https://news.example.org/gone")
    assert caught.value.kind is FetchErrorKind.HTTP_STATUS and caught.value.status == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://127.1/feed",
        "http://2130706433/feed",
        "http://0x7f.0.0.1/feed",
        "http://[::ffff:127.0.0.1]/feed",
        "http://localhost:8080/x",
        "http://10.0.0.5/feed",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/feed",
    ],
)
def test_literal_private_addresses_are_refused_at_load(url: str) -> None:
    assert literal_address_problem(url, ()) is not None
    assert literal_address_problem("https://93.184.215.14/feed", ()) is None


@pytest.fixture
def loopback_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_guard_checks_resolved_address_at_connect_time(loopback_server: str) -> None:
    port = loopback_server.split(":")[1]
    blocked = Fetcher(build_client(FetchSettings()), FetchSettings())
    # a name that resolves to loopback, and odd literal forms: all refused at connect time
    for url in (f"http://localhost:{port}/", f"http://127.1:{port}/", f"http://2130706433:{port}/"):
        with pytest.raises(FetchError) as caught:
            blocked.get(url)
        assert caught.value.kind is FetchErrorKind.BLOCKED_ADDRESS, url
    allowed_settings = FetchSettings(allow_networks=("127.0.0.0/8",))
    allowed = Fetcher(build_client(allowed_settings), allowed_settings)
    assert allowed.get(f"http://localhost:{port}/").body == b"ok"


def test_guard_applies_to_redirect_targets(loopback_server: str) -> None:
    """An allowed host (127.0.0.2) redirects to a non-allowed one (127.0.0.1): refused."""
    target = f"http://{loopback_server}/"

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("location", target)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = FetchSettings(allow_networks=("127.0.0.2/32",))
        f = Fetcher(build_client(settings), settings)
        with pytest.raises(FetchError) as caught:
            f.get(f"http://127.0.0.2:{server.server_address[1]}/")
        assert caught.value.kind is FetchErrorKind.BLOCKED_ADDRESS
    finally:
        server.shutdown()
        server.server_close()


def test_deadline_cuts_off_a_trickling_server() -> None:
    from tests.support.newsserver import NewsServer

    settings = FetchSettings(allow_networks=("127.0.0.0/8",), deadline=1, read_timeout=5)
    f = Fetcher(build_client(settings), settings)
    with NewsServer() as news, pytest.raises(FetchError) as caught:
        f.get(f"{news.base}/slow")
    assert caught.value.kind is FetchErrorKind.TIMEOUT


def test_canonical_url_strips_tracking_and_normalises() -> None:
    assert (
        canonical_url("HTTPS://WWW.Example.org:443/news/a/?utm_source=rss&b=2&a=1&fbclid=x#top")
        == "https://example.org/news/a?a=1&b=2"
    )
    assert canonical_url("http://example.org") == "http://example.org/"


@pytest.mark.parametrize("address", [
    "64:ff9b::a9fe:a9fe", "64:ff9b:1::a9fe:a9fe", "2002:a9fe:a9fe::1", "::a9fe:a9fe", "::7f00:1",
    "::ffff:10.0.0.1", "fec0::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
])
def test_ipv6_forms_embedding_private_ipv4_are_refused(address: str) -> None:
    import ipaddress

    from monitor.fetch.addresses import is_allowed

    assert not is_allowed(ipaddress.ip_address(address), ())
    assert is_allowed(ipaddress.ip_address("2606:4700:4700::1111"), ())
    assert is_allowed(ipaddress.ip_address("64:ff9b::5db8:d70e"), ())  # NAT64 of a public address


def test_deadline_covers_a_server_trickling_its_headers() -> None:
    """Headers sent one byte at a time, each within the read timeout: the deadline still holds."""
    import time

    class Trickle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = FetchSettings(allow_networks=("127.0.0.0/8",), deadline=1, read_timeout=5)
        f = Fetcher(build_client(settings), settings)
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            f.get(f"http://127.0.0.1:{server.server_address[1]}/")
        assert caught.value.kind is FetchErrorKind.TIMEOUT
        assert time.monotonic() - started < 4  # bounded by the deadline, not by 200 reads
    finally:
        server.shutdown()
        server.server_close()


def test_bounded_decoder_never_inflates_far_past_the_cap() -> None:
    import gzip
    import zlib

    from monitor.fetch.decode import BoundedDecoder, TooLarge

    bomb = gzip.compress(b"\0" * 50_000_000)
    decoder = BoundedDecoder("gzip", 1_000_000)
    with pytest.raises(TooLarge):
        for i in range(0, len(bomb), 65536):
            out = decoder.feed(bomb[i : i + 65536])
            assert len(out) <= 1_000_001
    raw_deflate = zlib.compressobj(wbits=-15)
    body = raw_deflate.compress(b"hello world") + raw_deflate.flush()
    assert BoundedDecoder("deflate", 100).feed(body) == b"hello world"


# --- the async fetcher of the daemon's fetch stage: the same guarantees -------------------------


def aget(settings: FetchSettings, url: str, handler: object = None, **validators: str) -> object:
    """Run one AsyncFetcher.get on a fresh loop of the daemon's kind (uvloop where installed;
    with a mock transport when `handler` is given)."""
    import asyncio

    from monitor.fetch.aclient import AsyncFetcher
    from monitor.fetch.loop import new_fetch_loop

    async def run() -> object:
        transport = httpx.MockTransport(handler) if handler is not None else None  # type: ignore[arg-type]
        fetcher = AsyncFetcher(settings, transport)
        try:
            return await fetcher.get(url, **validators)
        finally:
            await fetcher.aclose()

    with asyncio.Runner(loop_factory=new_fetch_loop) as runner:
        return runner.run(run())


def test_async_conditional_get_cap_retry_after_and_redirects() -> None:
    import gzip

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/feed":
            if request.headers.get("if-none-match") == '"v1"':
                return httpx.Response(304)
            return httpx.Response(200, content=b"<rss/>", headers={"etag": '"v1"'})
        if path == "/bomb":
            return httpx.Response(200, content=gzip.compress(b"a" * 200_000),
                                  headers={"content-encoding": "gzip"})
        if path == "/busy":
            return httpx.Response(429, headers={"retry-after": "120"})
        if path == "/gone":
            return httpx.Response(410)
        n = int(path.strip("/") or 0)
        return httpx.Response(302, headers={"location": f"/{n + 1}"})

    settings = FetchSettings(max_bytes=100_000)
    first = aget(settings, "https://news.example.org/feed", handler)
    assert first.etag == '"v1"' and first.body == b"<rss/>"  # type: ignore[attr-defined]
    again = aget(settings, "https://news.example.org/feed", handler, etag='"v1"')
    assert again.not_modified  # type: ignore[attr-defined]
    expected = {"/bomb": FetchErrorKind.TOO_LARGE, "/busy": FetchErrorKind.RATE_LIMITED,
                "/0": FetchErrorKind.TOO_MANY_REDIRECTS, "/gone": FetchErrorKind.HTTP_STATUS}
    for path, kind in expected.items():
        with pytest.raises(FetchError) as caught:
            aget(settings, f"https://news.example.org{path}", handler)
        assert caught.value.kind is kind, path
        if path == "/busy":
            assert caught.value.retry_after == 120
        if path == "/gone":
            assert caught.value.status == 410


def test_async_guard_checks_resolved_address_at_connect_time(loopback_server: str) -> None:
    port = loopback_server.split(":")[1]
    for url in (f"http://localhost:{port}/", f"http://127.1:{port}/", f"http://2130706433:{port}/"):
        with pytest.raises(FetchError) as caught:
            aget(FetchSettings(), url)
        assert caught.value.kind is FetchErrorKind.BLOCKED_ADDRESS, url
    allowed = FetchSettings(allow_networks=("127.0.0.0/8",))
    assert aget(allowed, f"http://localhost:{port}/").body == b"ok"  # type: ignore[attr-defined]


def test_async_guard_applies_to_redirect_targets(loopback_server: str) -> None:
    target = f"http://{loopback_server}/"

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("location", target)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = FetchSettings(allow_networks=("127.0.0.2/32",))
        with pytest.raises(FetchError) as caught:
            aget(settings, f"http://127.0.0.2:{server.server_address[1]}/")
        assert caught.value.kind is FetchErrorKind.BLOCKED_ADDRESS
    finally:
        server.shutdown()
        server.server_close()


def test_async_deadline_cuts_off_a_trickling_server() -> None:
    from tests.support.newsserver import NewsServer

    settings = FetchSettings(allow_networks=("127.0.0.0/8",), deadline=1, read_timeout=5)
    with NewsServer() as news, pytest.raises(FetchError) as caught:
        aget(settings, f"{news.base}/slow")
    assert caught.value.kind is FetchErrorKind.TIMEOUT


def test_async_get_retries_once_when_a_kept_alive_connection_was_closed() -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadError("connection closed by peer", request=request)
        return httpx.Response(200, content=b"ok")

    assert aget(FetchSettings(), "https://news.example.org/a", flaky).body == b"ok"  # type: ignore[attr-defined]
    assert len(calls) == 2

    def dead(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadError("connection closed by peer", request=request)

    calls.clear()
    with pytest.raises(FetchError) as caught:
        aget(FetchSettings(), "https://news.example.org/a", dead)
    assert caught.value.kind is FetchErrorKind.PROTOCOL and len(calls) == 2  # once more only


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for localhost."""
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "9")
            self.end_headers()
            self.wfile.write(b"tls works")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://localhost:{server.server_address[1]}/", cert
    finally:
        server.shutdown()
        server.server_close()


def test_async_tls_verifies_the_certificate_on_the_daemons_loop(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_server
    settings = FetchSettings(allow_networks=("127.0.0.0/8",))
    with pytest.raises(FetchError) as caught:  # self-signed: not trusted by the default bundle
        aget(settings, url)
    assert caught.value.kind is FetchErrorKind.TLS
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # httpx's context trusts it then
    assert aget(settings, url).body == b"tls works"  # type: ignore[attr-defined]
    with pytest.raises(FetchError) as caught:  # trusted, but issued for another name
        aget(settings, url.replace("localhost", "127.0.0.1"))
    assert caught.value.kind is FetchErrorKind.TLS


def test_fetch_loop_is_uvloop_unless_asyncio_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from monitor.fetch.loop import new_fetch_loop

    uvloop = pytest.importorskip("uvloop")
    loop = new_fetch_loop()
    assert isinstance(loop, uvloop.Loop)
    loop.close()
    monkeypatch.setenv("MONITOR_EVENT_LOOP", "asyncio")
    loop = new_fetch_loop()
    assert isinstance(loop, asyncio.BaseEventLoop) and not isinstance(loop, uvloop.Loop)
    loop.close()


@pytest.mark.parametrize("etag", ['"\u00e9t\u00e9"', 'W/"x\x00y"', '"a\tb"'])
def test_a_validator_that_cannot_be_sent_back_makes_the_get_unconditional(etag: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    got = aget(FetchSettings(), "https://n.example/feed", handler, etag=etag,
               last_modified="Thu, 28 May 2026 21:26:40 GMT")
    assert got.body == b"ok"  # type: ignore[attr-defined]
    assert "if-none-match" not in seen[0].headers
    assert seen[0].headers["if-modified-since"] == "Thu, 28 May 2026 21:26:40 GMT"


def test_a_host_name_idna_cannot_encode_is_a_dns_failure() -> None:
    with pytest.raises(FetchError) as caught:
        aget(FetchSettings(), "http://a..b/")
    assert caught.value.kind is FetchErrorKind.DNS
