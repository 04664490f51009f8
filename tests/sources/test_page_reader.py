"""The page reader: robots.txt for the listing and for each article link, conditional reads."""

from __future__ import annotations

import pytest

from monitor.config.models import SourceSpec
from monitor.errors import MonitorError
from monitor.fetch.client import FetchResult
from monitor.sources import SourceDenied, reader_for, source_env
from tests.sources.webfake import FakeWeb, fixed_clock, settings

SITE = "https://news.example"
LISTING = b"""<html><body><main>
<a href="/2026/11/25/army-retakes-town-after-week?utm_source=home">Army retakes town after a week</a>
<a href="/premium/2026/11/25/exclusive-interview-with-the-minister">Exclusive interview</a>
</main></body></html>"""


def _reader(web: FakeWeb, **fields: object) -> tuple[SourceSpec, object]:
    spec = SourceSpec.model_validate(
        {"name": "p", "url": f"{SITE}/section", "kind": "page", **fields}
    )
    return spec, reader_for(spec, source_env(web.fetcher(), settings(), fixed_clock()))


def test_article_links_disallowed_by_robots_are_dropped_with_a_note() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/robots.txt", "User-agent: *\nDisallow: /premium/\n", "text/plain")
    spec, reader = _reader(web)
    assert reader.start_urls(spec) == [f"{SITE}/section"]  # type: ignore[attr-defined]
    read = reader.read(spec, FetchResult(f"{SITE}/section", 200, LISTING, "text/html", None, None))  # type: ignore[attr-defined]
    assert [e.link for e in read.entries] == [f"{SITE}/2026/11/25/army-retakes-town-after-week"]
    assert read.note == "robots.txt disallows 1 article links"
    spec, reader = _reader(web, respect_robots=False)
    read = reader.read(spec, FetchResult(f"{SITE}/section", 200, LISTING, "text/html", None, None))  # type: ignore[attr-defined]
    assert len(read.entries) == 2 and read.note is None


def test_a_disallowed_listing_is_never_fetched() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/robots.txt", "User-agent: news-monitor\nDisallow: /section\n", "text/plain")
    spec, reader = _reader(web)
    with pytest.raises(SourceDenied, match="disallows"):
        reader.start_urls(spec)  # type: ignore[attr-defined]
    assert web.requests == [f"{SITE}/robots.txt"]


def test_not_modified_reads_nothing_and_env_is_required() -> None:
    web = FakeWeb()
    spec, reader = _reader(web)
    assert reader.conditional is True  # type: ignore[attr-defined]
    result = FetchResult(f"{SITE}/section", 304, b"", "", '"e"', None, not_modified=True)
    assert reader.read(spec, result).entries == []  # type: ignore[attr-defined]
    with pytest.raises(MonitorError, match="needs a SourceEnv"):
        reader_for(spec)
