"""Autodiscovery: the best source for a homepage, every byte through our Fetcher.

In order of preference: a feed the page announces with `<link rel="alternate">` (comment
feeds skipped) that parses; else a sitemap named in robots.txt (news sitemaps first) or at
/sitemap.xml; else the page itself as a listing, when it links to articles and robots.txt
lets us read it. Each candidate is fetched and read before it is proposed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from monitor.config.models import SourceSpec
from monitor.errors import FetchError, MonitorError, ParseError
from monitor.fetch.client import FetchResult
from monitor.parse.feeds import parse_feed
from monitor.sources.page import article_links, parse_html
from monitor.sources.robots import RobotsCache
from monitor.sources.sitemap import parse_sitemap
from monitor.sources.urlclean import origin, same_site, site_key
from monitor.sources.xmlsafe import gunzip_bounded

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
MAX_CANDIDATES = 4


@dataclass(frozen=True)
class Discovered:
    """The proposed source and why it was chosen."""

    kind: str
    url: str
    reason: str
    entries: int


def _is_feed_type(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in FEED_TYPES or kind.endswith(("+xml", "+json"))


def feed_links(page: FetchResult) -> list[str]:
    """Feeds announced by the page, in page order, comment feeds last-resort excluded."""
    root = parse_html(page.body, page.content_type)
    found = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "alternate" not in rel or not href or not _is_feed_type(link.get("type") or ""):
            continue
        url = urljoin(page.url, href)
        title = (link.get("title") or "").lower()
        if "comment" in title or "/comments/" in url:
            continue
        if url not in found:
            found.append(url)
    return found


class Discoverer:
    """Proposes a source for a URL; `fetch` is Fetcher.get, `robots` its robots.txt cache."""

    def __init__(
        self, fetch: Callable[[str], FetchResult], robots: RobotsCache, max_bytes: int
    ) -> None:
        self._fetch = fetch
        self._robots = robots
        self._max_bytes = max_bytes

    def discover(self, url: str) -> Discovered:
        home = self._fetch(url)
        if _is_feed_type(home.content_type):
            entries = self._feed(home)
            if entries is not None:
                return Discovered("feed", home.url, "the URL is a feed", entries)
        for candidate in feed_links(home)[:MAX_CANDIDATES]:
            entries = self._try(candidate, self._feed)
            if entries is not None:
                return Discovered("feed", candidate, "announced by the page", entries)
        for candidate in self._sitemaps(home.url):
            entries = self._try(candidate, self._sitemap)
            if entries is not None:
                return Discovered("sitemap", candidate, "sitemap of the site", entries)
        if not self._robots.allowed(home.url):
            raise MonitorError(f"no feed or sitemap at {url}, and robots.txt disallows the page")
        spec = SourceSpec(name="discovered", url=home.url, kind="page")
        links = article_links(parse_html(home.body, home.content_type), home.url, spec)
        if not links:
            raise MonitorError(f"no feed, sitemap or article links found at {url}")
        return Discovered("page", home.url, "links to articles", len(links))

    def _try(self, url: str, read: Callable[[FetchResult], int | None]) -> int | None:
        try:
            return read(self._fetch(url))
        except (FetchError, ParseError):
            return None

    def _feed(self, result: FetchResult) -> int | None:
        try:
            return len(parse_feed(result.body, result.url, result.content_type or None))
        except ParseError:
            return None

    def _sitemap(self, result: FetchResult) -> int | None:
        body = gunzip_bounded(result.body, self._max_bytes)
        sitemap = parse_sitemap(body, keep=1000)
        return sitemap.seen if (sitemap.items or sitemap.is_index) else None

    def _sitemaps(self, url: str) -> list[str]:
        listed = [u for u in self._robots.sitemaps(url) if same_site(u, url)]
        listed.sort(key=lambda u: "news" not in u.lower())
        fallback = origin(url) + "/sitemap.xml"
        return (listed or [fallback])[:MAX_CANDIDATES]


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def source_name(url: str, taken: set[str]) -> str:
    """A readable unique name from the URL: host without `www.`, then the path's slug."""
    path = urlsplit(url).path.strip("/")
    base = _UNSAFE.sub("-", site_key(url) + ("-" + path if path else "")).strip("-._")
    base = (base or "source")[:90]
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name
