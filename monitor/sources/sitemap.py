"""`kind: sitemap`: sitemap indexes, sitemaps, Google News sitemaps, gzipped or not.

A source naming only a site (`https://example.org/`) reads the `Sitemap:` lines of its
robots.txt (news sitemaps first), else `/sitemap.xml`. An index asks the pipeline to follow its
newest child sitemaps (at most `max_follow`); a sitemap yields its newest `max_entries` URLs on
the same site, keyed by URL and `lastmod` so an updated article is seen again. Parsing is
streamed, DTDs are refused, and gzip is inflated no further than the fetch size cap.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from lxml import etree

from monitor.config.models import SourceSpec
from monitor.errors import ParseError
from monitor.fetch.client import FetchResult
from monitor.parse.feeds import FeedEntry
from monitor.sources.dates import parse_w3c
from monitor.sources.filters import UrlFilter
from monitor.sources.model import SourceDenied, SourceRead
from monitor.sources.robots import RobotsCache
from monitor.sources.urlclean import clean_url, origin, same_site
from monitor.sources.xmlsafe import child_text, gunzip_bounded, iter_elements, local

MAX_START = 5  # sitemaps read from robots.txt per poll
MAX_LOCS = 50_000  # the sitemap protocol's own limit per file
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SitemapItem:
    """One `<url>` (or `<sitemap>` of an index) as read from the document."""

    loc: str
    lastmod: datetime | None
    title: str | None = None
    published: datetime | None = None
    language: str | None = None

    @property
    def newest(self) -> datetime:
        return self.published or self.lastmod or _OLDEST


@dataclass(frozen=True)
class Sitemap:
    is_index: bool
    items: list[SitemapItem]
    seen: int  # <url>/<sitemap> elements read, including those not kept


def _news(element: etree._Element) -> tuple[str | None, datetime | None, str | None]:
    for child in element:
        if local(child) == "news":
            language = None
            for part in child:
                if local(part) == "publication":
                    language = child_text(part, "language", 20)
            return (
                child_text(child, "title", 500),
                parse_w3c(child_text(child, "publication_date", 40)),
                language.lower() if language else None,
            )
    return None, None, None


def parse_sitemap(body: bytes, keep: int) -> Sitemap:
    """The newest `keep` items of a sitemap or sitemap index (plain-text sitemaps too)."""
    if body.lstrip()[:1] != b"<":
        lines = body.decode("utf-8", errors="replace").splitlines()[:MAX_LOCS]
        locs = [SitemapItem(s, None) for s in map(str.strip, lines) if s.startswith("http")]
        if not locs:
            raise ParseError("not a sitemap: neither XML nor a list of URLs")
        return Sitemap(False, locs[:keep], len(locs))
    heap: list[tuple[datetime, int, SitemapItem]] = []
    is_index, seen = False, 0
    for element in iter_elements(body, ("url", "sitemap")):
        is_index = is_index or local(element) == "sitemap"
        seen += 1
        if seen > MAX_LOCS:
            break
        loc = child_text(element, "loc")
        if not loc:
            continue
        title, published, language = _news(element)
        item = SitemapItem(
            loc, parse_w3c(child_text(element, "lastmod", 40)), title, published, language
        )
        entry = (item.newest, -seen, item)  # ties: earlier in the document wins
        if len(heap) < keep:
            heapq.heappush(heap, entry)
        else:
            heapq.heappushpop(heap, entry)
    if seen == 0 and not heap:
        raise ParseError("not a sitemap: no <url> or <sitemap> elements")
    items = [item for _, _, item in sorted(heap, key=lambda e: (e[0], e[1]), reverse=True)]
    return Sitemap(is_index, items, seen)


def _entry(item: SitemapItem, link: str) -> FeedEntry:
    version = item.lastmod.isoformat() if item.lastmod else None
    return FeedEntry(
        guid=f"{link}#lastmod={version}" if version else None,
        link=link,
        title=item.title or "",
        summary="",
        content="",
        published=item.published or item.lastmod,
        author=None,
        language=item.language,
    )


class SitemapReader:
    """Reads sitemap documents; an unchanged index may list changed sitemaps, so no 304s."""

    conditional = False

    def __init__(self, robots: RobotsCache, max_bytes: int) -> None:
        self._robots = robots
        self._max_bytes = max_bytes

    def start_urls(self, spec: SourceSpec) -> list[str]:
        if urlsplit(spec.url).path not in ("", "/"):
            urls = [spec.url]
        else:
            listed = [u for u in self._robots.sitemaps(spec.url) if same_site(u, spec.url)]
            news = [u for u in listed if "news" in u.lower()]
            urls = (news or listed or [origin(spec.url) + "/sitemap.xml"])[
                : max(spec.max_follow, 1)
            ]
        allowed = [u for u in urls if not spec.respect_robots or self._robots.allowed(u)]
        if not allowed:
            raise SourceDenied(f"robots.txt disallows {urls[0]}")
        return allowed

    def read(self, spec: SourceSpec, result: FetchResult) -> SourceRead:
        if result.not_modified:
            return SourceRead([])
        body = gunzip_bounded(result.body, self._max_bytes)
        sitemap = parse_sitemap(body, spec.max_entries)
        note = None
        if sitemap.seen > len(sitemap.items):
            note = f"{result.url}: kept the newest {len(sitemap.items)} of {sitemap.seen} URLs"
        if sitemap.is_index:
            return self._index(spec, sitemap, result.url, note)
        urls = UrlFilter(spec, result.url)
        entries = []
        for item in sitemap.items:
            link = clean_url(item.loc)
            if link is None or not same_site(link, spec.url) or not urls.wanted(link):
                continue
            if spec.respect_robots and not self._robots.allowed(link):
                continue
            entries.append(_entry(item, link))
        return SourceRead(entries, [], note)

    def _index(self, spec: SourceSpec, sitemap: Sitemap, url: str, note: str | None) -> SourceRead:
        follow = []
        for item in sitemap.items:
            link = clean_url(item.loc)
            if link is None or not same_site(link, spec.url):
                continue
            if spec.respect_robots and not self._robots.allowed(link):
                continue
            follow.append(link)
        if len(follow) > spec.max_follow:
            note = f"{url}: following the newest {spec.max_follow} of {len(follow)} sitemaps"
        return SourceRead([], follow[: spec.max_follow], note)
