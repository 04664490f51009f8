"""What a response means, shared by the sync and the async fetcher: status, validators, body.

`judge` turns the status line and headers into a 304 result, a `FetchError` (rate limits with
their Retry-After, other 4xx/5xx with the status, a declared length over the cap) or None when the
body should be read; `Body` decodes raw chunks under the size cap; `result` builds the answer.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from monitor.errors import FetchError, FetchErrorKind
from monitor.fetch.decode import BoundedDecoder, TooLarge, UnsupportedEncoding
from monitor.notify.http_status import retry_after_seconds


@dataclass(frozen=True)
class FetchResult:
    """A completed fetch. `not_modified` means 304: `body` is empty and nothing changed."""

    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool = False


def _sendable(value: str) -> bool:
    """A validator that can go back in a request header: printable ASCII. A server may send
    others (obs-text, control bytes); sending one back would fail every later poll of the
    source, so such a validator is dropped and the GET is unconditional."""
    return value.isascii() and value.isprintable()


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag and _sendable(etag):
        headers["if-none-match"] = etag
    if last_modified and _sendable(last_modified):
        headers["if-modified-since"] = last_modified
    return headers


def judge(response: httpx.Response, url: str, sent: dict[str, str], cap: int) -> FetchResult | None:
    """A 304 result, or None if the body is to be read; raises FetchError for the rest."""
    final = str(response.url)
    status = response.status_code
    if status == 304:
        return FetchResult(
            final, 304, b"", "", sent.get("if-none-match"), sent.get("if-modified-since"), True
        )
    if status in (429, 503):
        raise FetchError(
            FetchErrorKind.RATE_LIMITED,
            url,
            f"HTTP {status}",
            status=status,
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
    if status >= 400:
        raise FetchError(FetchErrorKind.HTTP_STATUS, url, f"HTTP {status}", status=status)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(FetchErrorKind.TOO_LARGE, url, f"declared {declared} bytes > cap {cap}")
    return None


def decoder_for(response: httpx.Response, cap: int) -> BoundedDecoder:
    # A response built in memory (httpx.MockTransport) arrives decoded already.
    encoding = "" if response.is_stream_consumed else response.headers.get("content-encoding", "")
    return BoundedDecoder(encoding, cap)


@contextmanager
def body_errors(url: str) -> Iterator[None]:
    """Translate decoding failures into FetchErrors."""
    try:
        yield
    except TooLarge as exc:
        raise FetchError(FetchErrorKind.TOO_LARGE, url, str(exc)) from None
    except UnsupportedEncoding as exc:
        raise FetchError(FetchErrorKind.PROTOCOL, url, f"content-encoding {exc}") from None
    except zlib.error as exc:
        raise FetchError(FetchErrorKind.PROTOCOL, url, f"bad compressed body: {exc}") from None


def result(response: httpx.Response, body: bytes) -> FetchResult:
    return FetchResult(
        url=str(response.url),
        status=response.status_code,
        body=body,
        content_type=response.headers.get("content-type", ""),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )
