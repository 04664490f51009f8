"""OPML: folders <-> tags, a round trip that keeps every feed and its folder, hostile files."""

from __future__ import annotations

import pytest

from monitor.config.models import SourceSpec
from monitor.errors import ParseError
from monitor.sources.opml import read_opml, sources_from_opml, write_opml

FEEDLY = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Feedly subscriptions</title></head>
  <body>
    <outline text="Sahel" title="Sahel">
      <outline type="rss" text="Sahel Daily" title="Sahel Daily" xmlUrl="https://sahel-daily.example/feed/" htmlUrl="https://sahel-daily.example/"/>
      <outline text="Mali" title="Mali">
        <outline type="rss" text="Journal du Mali" xmlUrl="https://journaldumali.example/feed" category="/French,/Press"/>
      </outline>
    </outline>
    <outline text="Wires">
      <outline type="rss" title="Agence Sahel Presse" xmlUrl="https://www.agence-sahel.example/flux-rss/politique.xml"/>
    </outline>
    <outline type="rss" text="Ungrouped: Reliefweb Updates" xmlUrl="https://reliefweb.example/updates/rss.xml"/>
    <outline type="rss" text="Not a URL" xmlUrl="ftp://old.example/feed"/>
  </body>
</opml>"""


def test_import_maps_folders_and_categories_to_tags() -> None:
    feeds = read_opml(FEEDLY)
    assert [(f.url, f.tags) for f in feeds] == [
        ("https://sahel-daily.example/feed/", ("Sahel",)),
        ("https://journaldumali.example/feed", ("Sahel", "Mali", "French", "Press")),
        ("https://www.agence-sahel.example/flux-rss/politique.xml", ("Wires",)),
        ("https://reliefweb.example/updates/rss.xml", ()),
        ("ftp://old.example/feed", ()),
    ]
    entries, skipped = sources_from_opml(
        feeds, {"sahel-daily"}, {"https://reliefweb.example/updates/rss.xml"}
    )
    assert [e["name"] for e in entries] == [
        "sahel-daily-2",
        "journal-du-mali",
        "agence-sahel-presse",
    ]
    assert len(skipped) == 2 and "already a source" in skipped[0] and "http" in skipped[1]


def test_round_trip_keeps_every_feed_and_its_folder() -> None:
    feeds = read_opml(FEEDLY)
    entries, _ = sources_from_opml(feeds, set(), set())
    specs = [SourceSpec.model_validate(e) for e in entries]
    again = read_opml(write_opml(specs))
    assert [(f.title, f.url, f.tags) for f in again] == [(s.name, s.url, s.tags) for s in specs]
    assert {(s.url, s.tags[0] if s.tags else None) for s in specs} == {
        (f.url, f.tags[0] if f.tags else None) for f in feeds if f.url.startswith("http")
    }


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>',
        b'<!DOCTYPE x SYSTEM "http://evil.example/x.dtd"><opml><body/></opml>',
        b"<html><body>login</body></html>",
        b"<opml><head/></opml>",
        b"<opml><body><outline",
    ],
    ids=["entity", "external-dtd", "not-opml", "no-body", "truncated"],
)
def test_hostile_or_broken_opml_is_refused(body: bytes) -> None:
    with pytest.raises(ParseError):
        read_opml(body)


def test_deep_folders_are_refused() -> None:
    body = b"<opml><body>" + b'<outline text="f">' * 40 + b"</outline>" * 40 + b"</body></opml>"
    with pytest.raises(ParseError, match="deeper"):
        read_opml(body)
