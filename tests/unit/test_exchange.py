"""The fetch stage's GET without httpx's client layer: headers, redirects, cookies, URL cache."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from monitor.config.models import FetchSettings
from monitor.fetch import exchange
from monitor.fetch.exchange import Requester


class Recorder:
    """A mock site: records every request and answers from `routes` (path -> response)."""

    def __init__(self, routes: dict[str, httpx.Response]) -> None:
        self.routes = routes
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        key = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
        return self.routes.get(key) or httpx.Response(200, content=b"end:" + key.encode())


def get(
    site: Recorder, url: str, headers: dict[str, str] | None = None, **settings: object
) -> tuple[httpx.Response, bytes, Requester]:
    requester = Requester(httpx.MockTransport(site), FetchSettings(**settings))  # type: ignore[arg-type]

    async def run() -> tuple[httpx.Response, bytes]:
        response = await requester.get(url, headers or {})
        try:
            return response, await response.aread()
        finally:
            await response.aclose()

    response, body = asyncio.run(run())
    return response, body, requester


def redirect(location: str, status: int = 302, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={"location": location, **headers})


def test_the_request_carries_the_clients_headers_and_the_validators() -> None:
    site = Recorder({})
    response, body, _ = get(
        site, "https://news.example.org/feed", {"if-none-match": '"v1"'}, user_agent="mon/1"
    )
    assert body == b"end:/feed" and str(response.url) == "https://news.example.org/feed"
    sent = site.seen[0].headers
    assert sent["host"] == "news.example.org"
    assert sent["user-agent"] == "mon/1" and sent["accept"] == "*/*"
    assert "gzip" in sent["accept-encoding"] and sent["if-none-match"] == '"v1"'
    assert "cookie" not in sent
    timeouts = site.seen[0].extensions["timeout"]
    assert set(timeouts) == {"connect", "read", "write", "pool"}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_resolve_like_httpx(status: int) -> None:
    site = Recorder({
        "/a": redirect("/b?x=1", status),  # relative
        "/b?x=1": redirect("https:/c"),  # absolute form without a host
        "/c": redirect("http://other.example.net:8080/d"),
    })
    response, body, _ = get(site, "https://news.example.org/a#top", {"if-none-match": '"v"'})
    assert [str(r.url) for r in site.seen] == [
        "https://news.example.org/a#top",
        "https://news.example.org/b?x=1#top",
        "https://news.example.org/c#top",
        "http://other.example.net:8080/d#top",
    ]
    assert body == b"end:/d" and response.url == site.seen[-1].url
    assert site.seen[-1].headers["host"] == "other.example.net:8080"
    assert all(r.headers["if-none-match"] == '"v"' for r in site.seen)


def test_a_status_without_location_or_outside_the_redirects_is_the_answer() -> None:
    site = Recorder({"/a": httpx.Response(302), "/b": redirect("/c", 300)})
    assert get(site, "https://n.example/a")[0].status_code == 302
    assert get(site, "https://n.example/b")[0].status_code == 300
    assert len(site.seen) == 2


def test_redirects_stop_at_the_limit() -> None:
    chain = {f"/{n}": redirect(f"/{n + 1}") for n in range(3)}
    _, body, _ = get(Recorder(chain), "https://n.example/0", max_redirects=3)
    assert body == b"end:/3"  # three redirects followed
    site = Recorder({**chain, "/3": redirect("/4")})
    with pytest.raises(httpx.TooManyRedirects):
        get(site, "https://n.example/0", max_redirects=3)
    assert len(site.seen) == 4


def test_a_bad_location_is_a_protocol_error() -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        get(Recorder({"/a": redirect("http://[::1")}), "https://n.example/a")


def test_a_cookie_set_on_a_redirect_is_sent_back_to_its_site_only() -> None:
    site = Recorder({
        "/consent": redirect("/article", **{"set-cookie": "ok=1; Path=/"}),
        "/elsewhere": redirect("https://other.example/x"),
    })
    _, body, requester = get(site, "https://news.example.org/consent")
    assert body == b"end:/article"
    assert "cookie" not in site.seen[0].headers and site.seen[1].headers["cookie"] == "ok=1"

    async def again(url: str) -> None:
        response = await requester.get(url, {})
        await response.aclose()

    asyncio.run(again("https://news.example.org/elsewhere"))
    assert site.seen[2].headers["cookie"] == "ok=1"  # the jar lives as long as the fetcher
    assert "cookie" not in site.seen[3].headers  # another site


def test_parsed_urls_are_kept_only_for_requests_made_again_and_the_cache_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exchange, "URL_CACHE_SIZE", 3)
    requester = Requester(httpx.MockTransport(Recorder({})), FetchSettings())

    async def fetch(url: str, again: bool) -> None:
        response = await requester.get(url, {}, again=again)
        await response.aclose()

    async def run() -> None:
        await fetch("https://n.example/page", False)
        assert requester._urls == {}
        for n in range(3):
            await fetch(f"https://n.example/feed{n}", True)
        assert len(requester._urls) == 3
        await fetch("https://n.example/feed3", True)
        assert list(requester._urls) == ["https://n.example/feed3"]

    asyncio.run(run())


def test_credentials_in_the_url_are_sent_within_their_origin_only() -> None:
    site = Recorder({
        "/feed": redirect("/moved"),  # same origin: kept
        "/moved": redirect("https://news.example.org/secure"),  # http -> https upgrade: kept
        "/secure": redirect("https://cdn.example.net/end"),  # another host: dropped
        "/back": redirect("https://news.example.org/secure2"),
    })
    get(site, "http://us%40er:p%3Ass@news.example.org/feed")
    auth = [r.headers.get("authorization") for r in site.seen]
    assert auth[:3] == ["Basic dXNAZXI6cDpzcw=="] * 3 and auth[3] is None
    assert all(r.headers["host"].endswith(("example.org", "example.net")) for r in site.seen)
    site.seen.clear()
    get(site, "https://news.example.org:8443/x")
    assert "authorization" not in site.seen[0].headers
    # once dropped it stays dropped, even back on the original host
    site.seen.clear()
    get(site, "https://u:p@cdn.example.net/back")
    assert [r.headers.get("authorization") is not None for r in site.seen] == [True, False]


def test_the_auth_rule_matches_httpx() -> None:
    from monitor.fetch.exchange import keeps_auth

    u = httpx.URL
    assert keeps_auth(u("http://a.org/x"), u("http://a.org:80/y"))
    assert keeps_auth(u("http://a.org/x"), u("https://a.org/y"))
    assert not keeps_auth(u("https://a.org/x"), u("http://a.org/y"))
    assert not keeps_auth(u("http://a.org:8080/x"), u("https://a.org/y"))
    assert not keeps_auth(u("http://a.org/x"), u("https://b.org/y"))


@pytest.mark.parametrize("url", ["http://", "http:///feed", "feed.xml", "//host/feed"])
def test_a_url_without_scheme_or_host_is_refused_as_a_bad_url(url: str) -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        get(Recorder({}), url)


def test_a_cookie_that_cannot_be_sent_back_is_left_out() -> None:
    raw = "v=\u00e9t\u00e9; Path=/".encode()  # obs-text, as a server may send it
    site = Recorder({"/set": httpx.Response(200, headers=[(b"set-cookie", raw)])})
    _, _, requester = get(site, "https://n.example/set")

    async def again() -> None:
        response = await requester.get("https://n.example/next", {})
        await response.aclose()

    assert len(requester.cookies.jar) == 1  # kept, but it cannot be sent back as it is
    asyncio.run(again())
    assert "cookie" not in site.seen[1].headers


def test_the_cookie_jar_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange, "MAX_COOKIES", 3)
    n = iter(range(100))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"set-cookie": f"c{next(n)}=1; Path=/"})

    requester = Requester(httpx.MockTransport(handler), FetchSettings())

    async def run() -> list[int]:
        sizes = []
        for _ in range(8):
            response = await requester.get("https://n.example/", {})
            await response.aclose()
            sizes.append(len(requester.cookies.jar))
        return sizes

    assert max(asyncio.run(run())) <= 3


def test_a_bad_location_is_not_retried_as_a_lost_connection() -> None:
    from monitor.errors import FetchError
    from tests.unit.test_fetch import aget

    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(302, headers={"location": "http://[::1"})

    with pytest.raises(FetchError):
        aget(FetchSettings(), "https://n.example/a", handler)
    assert calls == ["/a"]
