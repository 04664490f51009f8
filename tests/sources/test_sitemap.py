"""Sitemaps: indexes, news sitemaps, gzip, robots.txt discovery, and hostile documents."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime

import pytest

from monitor.config.models import SourceSpec
from monitor.errors import ParseError
from monitor.fetch.client import FetchResult
from monitor.sources import SourceDenied, reader_for, source_env
from monitor.sources.sitemap import parse_sitemap
from tests.sources.webfake import FakeWeb, fixed_clock, settings

SITE = "https://site.example"
NEWS = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>{SITE}/2026/11/25/army-retakes-town?utm_source=sitemap</loc>
    <lastmod>2026-11-25T18:00:00+01:00</lastmod>
    <news:news><news:publication><news:name>Site</news:name><news:language>FR</news:language>
      </news:publication><news:publication_date>2026-11-25T16:30:00Z</news:publication_date>
      <news:title>L'armée reprend la ville</news:title></news:news>
    <image:image><image:loc>{SITE}/img/1.jpg</image:loc></image:image></url>
  <url><loc>{SITE}/2026/11/24/older-story</loc><lastmod>2026-11-24</lastmod></url>
  <url><loc>https://elsewhere.example/2026/11/25/not-ours</loc></url>
  <url><loc>{SITE}/private/2026/11/25/hidden</loc></url>
</urlset>""".encode()
INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{SITE}/sitemaps/2019.xml</loc><lastmod>2019-12-31</lastmod></sitemap>
  <sitemap><loc>{SITE}/sitemaps/news.xml.gz</loc><lastmod>2026-11-25T18:00:00Z</lastmod></sitemap>
  <sitemap><loc>https://evil.example/sitemap.xml</loc><lastmod>2026-11-26</lastmod></sitemap>
  <sitemap><loc>{SITE}/sitemaps/2026.xml</loc><lastmod>2026-11-20</lastmod></sitemap>
</sitemapindex>""".encode()
ROBOTS = f"User-agent: *\nDisallow: /private/\nSitemap: {SITE}/sitemap_index.xml\n"


def _reader(web: FakeWeb, **spec_fields: object) -> tuple[SourceSpec, object]:
    fields = {"name": "s", "url": f"{SITE}/", "kind": "sitemap", **spec_fields}
    spec = SourceSpec.model_validate(fields)
    return spec, reader_for(spec, source_env(web.fetcher(), settings(), fixed_clock()))


def _result(url: str, body: bytes, content_type: str = "application/xml") -> FetchResult:
    return FetchResult(url, 200, body, content_type, None, None)


def test_news_sitemap_entries_keyed_by_url_and_lastmod() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/robots.txt", ROBOTS, "text/plain")
    spec, reader = _reader(web)
    read = reader.read(spec, _result(f"{SITE}/news.xml", NEWS))  # type: ignore[attr-defined]
    assert [e.link for e in read.entries] == [
        f"{SITE}/2026/11/25/army-retakes-town",
        f"{SITE}/2026/11/24/older-story",
    ]
    first = read.entries[0]
    assert first.title == "L'armée reprend la ville"
    assert first.language == "fr"
    assert first.published == datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
    assert first.key == f"{SITE}/2026/11/25/army-retakes-town#lastmod=2026-11-25T17:00:00+00:00"
    assert read.follow == []


def test_index_follows_newest_same_site_sitemaps_within_the_cap() -> None:
    web = FakeWeb()
    spec, reader = _reader(web, max_follow=2)
    read = reader.read(spec, _result(f"{SITE}/sitemap_index.xml", INDEX))  # type: ignore[attr-defined]
    assert read.entries == []
    assert read.follow == [f"{SITE}/sitemaps/news.xml.gz", f"{SITE}/sitemaps/2026.xml"]
    assert read.note and "2 of 3" in read.note


def test_site_only_source_finds_its_sitemaps_in_robots_txt() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/robots.txt", ROBOTS + f"Sitemap: {SITE}/news-sitemap.xml\n", "text/plain")
    spec, reader = _reader(web)
    assert reader.start_urls(spec) == [f"{SITE}/news-sitemap.xml"]  # type: ignore[attr-defined]
    assert reader.conditional is False  # type: ignore[attr-defined]


def test_site_without_robots_sitemap_falls_back_to_sitemap_xml() -> None:
    web = FakeWeb()
    spec, reader = _reader(web)
    assert reader.start_urls(spec) == [f"{SITE}/sitemap.xml"]  # type: ignore[attr-defined]


def test_robots_disallowed_sitemap_is_refused_unless_overridden() -> None:
    web = FakeWeb()
    web.add(f"{SITE}/robots.txt", "User-agent: *\nDisallow: /\n", "text/plain")
    spec, reader = _reader(web, url=f"{SITE}/news.xml")
    with pytest.raises(SourceDenied):
        reader.start_urls(spec)  # type: ignore[attr-defined]
    spec, reader = _reader(web, url=f"{SITE}/news.xml", respect_robots=False)
    assert reader.start_urls(spec) == [f"{SITE}/news.xml"]  # type: ignore[attr-defined]
    read = reader.read(spec, _result(f"{SITE}/news.xml", NEWS))  # type: ignore[attr-defined]
    assert len(read.entries) == 3  # the robots-disallowed /private/ URL too


def test_gzipped_sitemap_and_include_exclude() -> None:
    web = FakeWeb()
    spec, reader = _reader(web, include=[r"^https://site\.example/2026/"], exclude=["older"])
    body = gzip.compress(NEWS)
    read = reader.read(spec, _result(f"{SITE}/s.xml.gz", body, "application/x-gzip"))  # type: ignore[attr-defined]
    assert [e.link for e in read.entries] == [f"{SITE}/2026/11/25/army-retakes-town"]


def test_huge_sitemap_keeps_the_newest_entries() -> None:
    rows = "".join(
        f"<url><loc>{SITE}/a/{i}</loc><lastmod>2026-{1 + i % 12:02d}-{1 + i % 28:02d}</lastmod></url>"
        for i in range(60_000)
    )
    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'.encode()
    sitemap = parse_sitemap(body, keep=50)
    assert len(sitemap.items) == 50 and sitemap.seen == 50_001
    assert all(item.lastmod and item.lastmod.month == 12 for item in sitemap.items)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<urlset><url><loc>https://site.example/&lol3;</loc></url></urlset>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>https://site.example/&x;</loc></url></urlset>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE], ids=["entity-bomb", "external-entity"])
def test_documents_with_a_dtd_are_refused(body: bytes) -> None:
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_sitemap(body, keep=10)


def test_gzip_bomb_is_stopped_at_the_size_cap() -> None:
    web = FakeWeb()
    spec = SourceSpec(name="s", url=f"{SITE}/", kind="sitemap")
    env = source_env(web.fetcher(), settings(), fixed_clock())
    bomb = gzip.compress(b"<urlset>" + b" " * (30 * 2**20) + b"</urlset>", compresslevel=9)
    assert len(bomb) < 100_000
    with pytest.raises(ParseError, match="larger than"):
        reader_for(spec, env).read(spec, _result(f"{SITE}/bomb.xml.gz", bomb))


@pytest.mark.parametrize(
    "body",
    [
        b"<urlset><url><loc>",
        b"<html><body>Not found</body></html>",
        zlib.compress(b"x"),
        b"<urlset>" + b"<url>" * 100_000 + b"</url>" * 100_000 + b"</urlset>",
    ],
    ids=["truncated", "html", "zlib-not-gzip", "deeply-nested"],
)
def test_garbage_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_sitemap(body, keep=10)


def test_plain_text_sitemap() -> None:
    sitemap = parse_sitemap(f"{SITE}/a/one\n{SITE}/a/two\n\nnot a url\n".encode(), keep=10)
    assert [i.loc for i in sitemap.items][:2] == [f"{SITE}/a/one", f"{SITE}/a/two"]
