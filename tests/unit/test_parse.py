"""Feed parsing on bytes: RSS, Atom, JSON Feed, broken input, entry identity."""

from __future__ import annotations

import pytest

from monitor.bounds import FieldBounds, bound_entry
from monitor.errors import ParseError
from monitor.extract.fallback import html_to_text
from monitor.parse.feeds import FeedEntry, parse_feed, read_feed

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><language>fr</language>
<item><title>Un titre</title><link>/a/1?utm_source=rss</link><guid>id-1</guid>
<pubDate>Sun, 01 Mar 2026 10:00:00 GMT</pubDate><description>&lt;p&gt;R\xc3\xa9sum\xc3\xa9&lt;/p&gt;</description></item>
<item><title>No link</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><id>x</id><updated>2026-03-01T00:00:00Z</updated>
<entry><id>tag:x,2026:1</id><title>Atom entry</title><link rel="alternate" href="https://ex.org/1"/>
<updated>2026-03-02T08:00:00Z</updated><content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>"""

JSON = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "t", "language": "en",
"items": [{"id": "j1", "url": "https://ex.org/j1", "title": "Json item",
"date_published": "2026-03-03T09:00:00Z", "content_text": "Text"}, {"id": "nolink"}]}"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">]>
<rss version="2.0"><channel><title>&lol6;</title><item><title>&lol6;</title><link>https://ex.org/x</link></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title><link>https://ex.org/y</link></item></channel></rss>"""


def test_rss_entries_resolve_links_and_identity() -> None:
    entries = parse_feed(RSS, "https://news.example.org/feed")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.link == "https://news.example.org/a/1?utm_source=rss"
    assert entry.key.endswith("id-1") and entry.language == "fr"
    assert entry.published is not None and entry.published.hour == 10
    assert html_to_text(entry.summary) == "Résumé"


def test_atom_and_json_feed() -> None:
    atom = parse_feed(ATOM, "https://ex.org/feed")
    assert atom[0].title == "Atom entry" and "Body" in atom[0].content
    items = parse_feed(JSON, "https://ex.org/feed.json")
    assert [i.guid for i in items] == ["j1"] and items[0].language == "en"
    assert items[0].published is not None and items[0].published.day == 3


def test_entry_without_guid_is_known_by_canonical_url() -> None:
    feed = RSS.replace(b"<guid>id-1</guid>", b"")
    (entry,) = parse_feed(feed, "https://news.example.org/feed")
    assert entry.key == "https://news.example.org/a/1"


@pytest.mark.parametrize(
    "body", [b"", b"<html><body>not a feed</body></html>", b"{not json", b"\x00\xff" * 10]
)
def test_garbage_is_a_clear_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(body, "https://ex.org/feed")


def test_entity_expansion_and_external_entities_are_not_followed() -> None:
    (laughs,) = parse_feed(BILLION_LAUGHS, "https://ex.org/feed")
    assert len(laughs.title) < 100  # the entity is left unexpanded, not blown up
    (xxe,) = parse_feed(EXTERNAL_ENTITY, "https://ex.org/feed")
    assert xxe.link == "https://ex.org/y" and "root:" not in xxe.title  # no file was read


EMPTY_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>search: wagner</title>
<link>https://ex.org/</link><description>no results yet</description></channel></rss>"""
EMPTY_ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><id>x</id><updated>2026-03-01T00:00:00Z</updated></feed>"""


@pytest.mark.parametrize("content_type", [None, "application/rss+xml", "text/xml; charset=utf-8"])
def test_a_valid_feed_with_no_items_is_empty_not_an_error(content_type: str | None) -> None:
    for body in (EMPTY_RSS, EMPTY_ATOM):
        parsed = read_feed(body, "https://ex.org/feed", content_type)
        assert parsed.entries == [] and parsed.total == 0 and parsed.format in {"rss20", "atom10"}


def test_an_html_page_is_not_a_feed_whatever_it_is_served_as() -> None:
    with pytest.raises(ParseError, match="not a feed"):
        read_feed(b"<html><body><p>Welcome</p></body></html>", "https://ex.org/", "text/html")


def test_every_entry_is_returned_with_the_total() -> None:
    items = "".join(
        f"<item><title>n{i}</title><link>https://ex.org/{i}</link></item>" for i in range(1200)
    )
    body = f"<rss version='2.0'><channel><title>t</title>{items}<item><title>x</title></item>"
    parsed = read_feed((body + "</channel></rss>").encode(), "https://ex.org/feed", "text/xml")
    assert len(parsed.entries) == 1200 and parsed.total == 1201  # no silent 500 cap
    assert len(parse_feed(body.encode() + b"</channel></rss>", "https://ex.org/")) == 1200


def test_json_feed_is_recognised_by_content_type() -> None:
    parsed = read_feed(b"  \n" + JSON, "https://ex.org/feed.json", "application/feed+json")
    assert parsed.format == "json" and [e.guid for e in parsed.entries] == ["j1"]
    assert parsed.total == 2
    empty = read_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "https://e/")
    assert empty.entries == []


def test_field_bounds_cut_every_feed_field() -> None:
    huge = "x" * 5_000_000
    entry = FeedEntry(huge, "https://ex.org/" + huge, huge, huge, huge, None, huge, None)
    bounds = FieldBounds()
    cut = bound_entry(entry, bounds)
    assert len(cut.title) == bounds.title and cut.title.endswith("…")
    assert len(cut.link) == bounds.url and cut.link.startswith("https://ex.org/x")
    assert cut.guid is not None and len(cut.guid) == bounds.url
    assert len(cut.summary) == bounds.summary and len(cut.content) == bounds.text
    assert cut.author is not None and len(cut.author) == bounds.author
    small = FeedEntry(None, "https://ex.org/1", "t", "", "", None, None, None)
    assert bound_entry(small, bounds) is small
