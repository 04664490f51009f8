"""Autodiscovery over an in-memory web served through our real Fetcher."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from monitor.errors import MonitorError
from monitor.fetch.client import FetchResult
from monitor.sources import source_env
from monitor.sources.discover import Discoverer, feed_links, source_name
from tests.sources.webfake import FakeWeb, fixed_clock, settings

SITE = "https://www.site.example"
RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>
<item><title>A story</title><link>https://www.site.example/2026/11/a-story</link></item>
</channel></rss>"""
EMPTY_RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>S</title></channel></rss>'
NEWS_SITEMAP = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.site.example/2026/11/a-story</loc></url></urlset>"""
LISTING = (Path(__file__).parent / "listings" / "sahel-daily.html").read_bytes()


def _home(links: str = "") -> str:
    return f"<html><head>{links}</head><body><p>Hello</p></body></html>"


def _discover(web: FakeWeb, url: str = f"{SITE}/") -> tuple[str, str, str]:
    fetcher = web.fetcher()
    env = source_env(fetcher, settings(), fixed_clock())
    found = Discoverer(fetcher.get, env.robots, env.max_bytes).discover(url)
    return found.kind, found.url, found.reason


def test_announced_feed_wins_and_comment_feeds_are_skipped() -> None:
    web = FakeWeb()
    web.add(
        f"{SITE}/",
        _home(
            '<link rel="alternate" type="application/rss+xml" title="Comments Feed" href="/comments/feed/">'
            '<link rel="alternate" type="application/rss+xml" title="Broken" href="/broken.xml">'
            '<link rel="alternate" type="application/atom+xml" href="/feed.atom">'
        ),
    )
    web.add(f"{SITE}/broken.xml", "<html>not a feed</html>", "application/rss+xml")
    web.add(f"{SITE}/feed.atom", EMPTY_RSS, "application/atom+xml")  # an empty feed is valid
    assert _discover(web) == ("feed", f"{SITE}/feed.atom", "announced by the page")
    assert f"{SITE}/comments/feed/" not in web.requests


def test_a_feed_url_is_taken_as_is() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/rss", RSS, "application/rss+xml; charset=utf-8")
    assert _discover(web, f"{SITE}/rss")[:2] == ("feed", f"{SITE}/rss")


def test_without_a_feed_the_news_sitemap_from_robots_txt() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/", _home())
    web.add(
        f"{SITE}/robots.txt",
        f"Sitemap: {SITE}/sitemap.xml\nSitemap: {SITE}/news-sitemap.xml.gz\n",
        "text/plain",
    )
    web.add(f"{SITE}/news-sitemap.xml.gz", gzip.compress(NEWS_SITEMAP), "application/gzip")
    assert _discover(web)[:2] == ("sitemap", f"{SITE}/news-sitemap.xml.gz")


def test_without_feed_or_sitemap_the_listing_page() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/", LISTING)
    assert _discover(web)[:2] == ("page", f"{SITE}/")


def test_nothing_usable_is_an_error_that_says_so() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/", _home())
    with pytest.raises(MonitorError, match="no feed, sitemap or article links"):
        _discover(web)
    web.add(f"{SITE}/", LISTING)
    web.add(f"{SITE}/robots.txt", "User-agent: *\nDisallow: /\n", "text/plain")
    with pytest.raises(MonitorError, match=r"robots\.txt disallows"):
        _discover(web)


def test_feed_links_resolve_relative_urls() -> None:
    page = FetchResult(
        f"{SITE}/news/",
        200,
        _home(
            '<link rel="alternate" type="application/rss+xml" href="rss.xml">'
            '<link rel="alternate" hreflang="fr" href="/fr/">'
        ).encode(),
        "text/html",
        None,
        None,
    )
    assert feed_links(page) == [f"{SITE}/news/rss.xml"]


def test_source_names_are_readable_and_unique() -> None:
    assert source_name("https://www.site.example/", set()) == "site.example"
    assert source_name("https://site.example/fr/afrique/", {"site.example-fr-afrique"}) == (
        "site.example-fr-afrique-2"
    )
