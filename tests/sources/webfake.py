"""An in-memory web for source tests: URL -> response, served through our real Fetcher via
httpx.MockTransport (no sockets, no patching of our own code)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from monitor.config.models import FetchSettings, Settings
from monitor.fetch.client import Fetcher, build_client

Page = tuple[int, str, bytes]  # status, content type, body


@dataclass
class FakeWeb:
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def add(
        self, url: str, body: bytes | str, content_type: str = "text/html", status: int = 200
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.pages[url] = (status, content_type, data)

    def handler(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        status, content_type, body = self.pages.get(url, (404, "text/plain", b"not found"))
        return httpx.Response(status, headers={"content-type": content_type}, content=body)

    def fetcher(self, settings: FetchSettings | None = None) -> Fetcher:
        settings = settings or FetchSettings()
        return Fetcher(build_client(settings, httpx.MockTransport(self.handler)), settings)


def fixed_clock(moment: datetime | None = None) -> Callable[[], datetime]:
    now = [moment or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)]
    return lambda: now[0]


def settings() -> Settings:
    return Settings()
