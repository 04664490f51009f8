"""GET with redirects and cookies straight over a transport: the part of httpx's client the
fetch stage needs, without the rest.

`httpx.AsyncClient.stream` spent more of the fetch loop's time than the HTTP exchange itself
in an all-304 cycle (profile at 5,000 sources: URL merging and parsing ~10%, cookie bookkeeping
~6-8%, redirect and auth layers, the response wrappers). `Requester` does what the daemon used
of it, the way httpx does it:

- the same request headers (Host, Accept, Accept-Encoding, Connection, User-Agent, the
  conditional ones) and per-phase timeouts (the `timeout` extension read by the transport);
- redirects (301, 302, 303, 307, 308 with a Location) followed up to `max_redirects`, the Location
  resolved as httpx does (relative, host-less absolute form, the fragment kept), the Cookie
  header recomputed per hop; more hops raise `httpx.TooManyRedirects`, a bad Location
  `httpx.RemoteProtocolError`, another scheme `httpx.UnsupportedProtocol` (from the transport);
- credentials in the URL (`https://user:pass@host/feed`) sent as Basic authorization, kept on
  redirects within the origin (or an http -> https upgrade of it) and dropped beyond it;
- a URL without scheme or host refused as `httpx.UnsupportedProtocol` (a bad URL, not a DNS
  failure);
- one cookie jar for the fetcher's life, as the client had: cookies set by a response (a consent
  redirect, say) are sent back to that site; the jar is only consulted when it holds something
  and a response only parsed when it sets a cookie. Unlike the client's, the jar is bounded
  (`MAX_COOKIES`) and a cookie that cannot be sent back (control characters, non-ASCII) is
  left out of the request rather than failing every later request to its site.

The parsed URLs of requests marked `again` (the feeds polled every cycle) are kept, so a feed's
URL is parsed once rather than every poll. Environment proxies are not used: the connect-time
address check must see the real destination.
"""

from __future__ import annotations

from base64 import b64encode
from contextlib import suppress

import httpx

from monitor.config.models import FetchSettings
from monitor.fetch.decode import ACCEPT_ENCODING

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
URL_CACHE_SIZE = 20_000  # parsed feed URLs kept (about 1 KB each); cleared when full
MAX_COOKIES = 2_000  # the jar of a months-long daemon: expired ones dropped, then all of them
_NO_BODY = httpx.ByteStream(b"")  # a GET's body; given, so httpx adds no headers of its own


class BadRedirect(httpx.RemoteProtocolError):
    """A redirect whose Location is no URL (not a lost connection: never retried)."""


def _is_redirect(response: httpx.Response) -> bool:
    return response.status_code in REDIRECT_STATUSES and "location" in response.headers


def redirect_url(request: httpx.Request, location: str) -> httpx.URL:
    """Where a Location header sends `request` (httpx's rules)."""
    try:
        url = httpx.URL(location)
    except httpx.InvalidURL as exc:
        raise BadRedirect(f"Invalid URL in location header: {exc}.", request=request) from None
    if url.scheme and not url.host:  # "https:/path", a malformed absolute form
        url = url.copy_with(host=request.url.host)
    if url.is_relative_url:
        url = request.url.join(url)
    if request.url.fragment and not url.fragment:
        url = url.copy_with(fragment=request.url.fragment)
    return url


def basic_auth(url: httpx.URL) -> str | None:
    """The Authorization header for credentials in `url`, as httpx's client builds it."""
    if not (url.username or url.password):
        return None
    return "Basic " + b64encode(f"{url.username}:{url.password}".encode()).decode("ascii")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def keeps_auth(source: httpx.URL, target: httpx.URL) -> bool:
    """Whether a redirect from `source` to `target` keeps the Authorization header: the same
    origin, or http -> https on the same host with default ports (httpx's rule)."""
    return _origin(source) == _origin(target) or (
        _origin(source) == ("http", target.host, 80) and _origin(target)[::2] == ("https", 443)
    )


class Requester:
    """Sends GETs through `transport` and follows their redirects; one per fetcher."""

    def __init__(self, transport: httpx.AsyncBaseTransport, settings: FetchSettings) -> None:
        self._transport = transport
        self._max_redirects = settings.max_redirects
        self._headers: list[tuple[str, str]] = [
            ("accept", "*/*"),
            ("accept-encoding", ACCEPT_ENCODING),
            ("connection", "keep-alive"),
            ("user-agent", settings.user_agent),
        ]
        connect = settings.connect_timeout.total_seconds()
        read = settings.read_timeout.total_seconds()
        self._timeout = {
            "connect": connect,
            "read": read,
            "write": read,
            "pool": settings.deadline.total_seconds(),
        }
        self.cookies = httpx.Cookies()
        self._urls: dict[str, httpx.URL] = {}

    def _url(self, url: str, keep: bool) -> httpx.URL:
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = httpx.URL(url)
            if not parsed.scheme or not parsed.host:
                raise httpx.UnsupportedProtocol(
                    f"{url!r} is missing an 'http://' or 'https://' scheme or a host"
                )
            if keep:
                if len(self._urls) >= URL_CACHE_SIZE:
                    self._urls.clear()
                self._urls[url] = parsed
        return parsed

    def _request(self, url: httpx.URL, extra: dict[str, str]) -> httpx.Request:
        headers = [("host", url.netloc.decode("ascii")), *self._headers, *extra.items()]
        request = httpx.Request(
            "GET", url, headers=headers, stream=_NO_BODY, extensions={"timeout": self._timeout}
        )
        if self.cookies.jar:
            with suppress(UnicodeError):  # a cookie that cannot go back in a header is not sent
                self.cookies.set_cookie_header(request)
            cookie = request.headers.get("cookie")
            if cookie is not None and not (cookie.isascii() and cookie.isprintable()):
                del request.headers["cookie"]  # control characters: h11 would refuse it
        return request

    def _keep_cookies(self, response: httpx.Response) -> None:
        self.cookies.extract_cookies(response)
        jar = self.cookies.jar
        if len(jar) > MAX_COOKIES:
            jar.clear_expired_cookies()
            if len(jar) > MAX_COOKIES:  # a site minting new cookie names: start afresh
                jar.clear()

    async def get(
        self, url: str, headers: dict[str, str], *, again: bool = False
    ) -> httpx.Response:
        """The final response of GET `url` (after redirects), body not read yet: the caller
        reads it (`aiter_raw`) and closes it. `again`: the URL will be requested again (a
        feed), so its parsed form is kept."""
        first = self._url(url, keep=again)
        auth = basic_auth(first)
        if auth is not None:
            headers = {**headers, "authorization": auth}
        request = self._request(first, headers)
        hops = 0
        while True:
            response = await self._transport.handle_async_request(request)
            response.request = request
            if "set-cookie" in response.headers:
                self._keep_cookies(response)
            if not _is_redirect(response):
                return response
            await response.aclose()
            if hops >= self._max_redirects:
                raise httpx.TooManyRedirects(
                    "Exceeded maximum allowed redirects.", request=request
                )
            hops += 1
            target = redirect_url(request, response.headers["location"])
            if "authorization" in headers and not keeps_auth(request.url, target):
                headers = {k: v for k, v in headers.items() if k != "authorization"}
            request = self._request(target, headers)

    async def aclose(self) -> None:
        await self._transport.aclose()
