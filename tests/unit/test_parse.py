"""Feed parsing on bytes: RSS, Atom, JSON Feed, broken input, entry identity."""

from __future__ import annotations

import pytest

from monitor.errors import ParseError
from monitor.extract.fallback import html_to_text
from monitor.parse.feeds import parse_feed

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
