"""OPML import and export: outline folders become tags and tags become folders.

Import reads every outline with an `xmlUrl` (at most MAX_OUTLINES, folders nested at most
MAX_DEPTH deep); its tags are the titles of the folders around it, then its `category`
values. Export puts each feed source in the folder of its first tag and lists the rest in
`category`, so importing an export gives back every feed with the same tags.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from monitor.config.models import SourceSpec
from monitor.errors import ParseError
from monitor.sources.discover import source_name
from monitor.sources.xmlsafe import local, parse_xml

MAX_OUTLINES = 10_000
MAX_DEPTH = 16


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    url: str
    tags: tuple[str, ...]


def _title(outline: etree._Element) -> str:
    return " ".join((outline.get("title") or outline.get("text") or "").split())[:200]


def _categories(outline: etree._Element) -> list[str]:
    raw = outline.get("category") or ""
    return [part.strip() for value in raw.split(",") for part in value.split("/") if part.strip()]


def read_opml(body: bytes) -> list[OpmlFeed]:
    root = parse_xml(body)
    if local(root) != "opml":
        raise ParseError("not an OPML document: the root element is not <opml>")
    body_element = next((e for e in root if local(e) == "body"), None)
    if body_element is None:
        raise ParseError("not an OPML document: no <body>")
    feeds: list[OpmlFeed] = []

    def walk(parent: etree._Element, folders: tuple[str, ...]) -> None:
        if len(folders) > MAX_DEPTH:
            raise ParseError(f"OPML folders nested deeper than {MAX_DEPTH}")
        for outline in parent:
            if local(outline) != "outline":
                continue
            if len(feeds) >= MAX_OUTLINES:
                raise ParseError(f"more than {MAX_OUTLINES} feeds in one OPML file")
            url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
            if url:
                tags = tuple(dict.fromkeys((*folders, *_categories(outline))))
                feeds.append(OpmlFeed(_title(outline), url, tags))
            else:
                walk(outline, (*folders, _title(outline)) if _title(outline) else folders)

    walk(body_element, ())
    return feeds


def write_opml(sources: Iterable[SourceSpec], title: str = "news-monitor sources") -> bytes:
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(opml, "body")
    folders: dict[str, etree._Element] = {}
    for source in sources:
        parent = body
        if source.tags:
            folder = source.tags[0]
            if folder not in folders:
                folders[folder] = etree.SubElement(body, "outline", text=folder, title=folder)
            parent = folders[folder]
        outline = etree.SubElement(
            parent, "outline", type="rss", text=source.name, title=source.name, xmlUrl=source.url
        )
        if len(source.tags) > 1:
            outline.set("category", ",".join(source.tags[1:]))
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def sources_from_opml(
    feeds: Sequence[OpmlFeed], taken_names: set[str], known_urls: set[str]
) -> tuple[list[dict[str, object]], list[str]]:
    """Source entries for feeds.yaml (new URLs only) and what was skipped, with why."""
    added: list[dict[str, object]] = []
    skipped: list[str] = []
    names = set(taken_names)
    for feed in feeds:
        if feed.url in known_urls:
            skipped.append(f"{feed.url}: already a source")
            continue
        try:
            spec = SourceSpec(name=_name(feed, names), url=feed.url, tags=feed.tags)
        except ValueError as exc:
            skipped.append(f"{feed.url}: {str(exc).splitlines()[-1].strip()}")
            continue
        names.add(spec.name)
        known_urls = known_urls | {feed.url}
        entry: dict[str, object] = {"name": spec.name, "url": spec.url}
        if spec.tags:
            entry["tags"] = list(spec.tags)
        added.append(entry)
    return added, skipped


def _name(feed: OpmlFeed, taken: set[str]) -> str:
    if feed.title:
        ascii_title = unicodedata.normalize("NFKD", feed.title).encode("ascii", "ignore").decode()
        slug = "-".join(ascii_title.lower().split())
        candidate = "".join(c for c in slug if c.isalnum() or c in "-_.").strip("-_.")[:90]
        if candidate:
            name, n = candidate, 2
            while name in taken:
                name, n = f"{candidate}-{n}", n + 1
            return name
    return source_name(feed.url, taken)
