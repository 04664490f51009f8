"""Feed parsing: feedparser on bytes we fetched (never on a URL), into plain `FeedEntry` values.

`read_feed(body, base_url, content_type)` gives a `ParsedFeed`: every entry that has a link, in
document order, and how many items the document held. Whether the document *is* a feed is
judged by what feedparser recognised (`version`), with the server's real Content-Type passed
in, not by `bozo` alone: a valid RSS or Atom feed with zero items is an empty feed, not an error
(keyword-search feeds are often empty), and a slightly broken feed with entries is accepted.
JSON Feed is recognised here directly (plain JSON with an `items` list).

Nothing is cut here: every entry is returned, and the pipeline keeps the newest
`settings.max_feed_entries` and records the cut. Field lengths are bounded at ingest by
`monitor.bounds`.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from monitor.errors import ParseError
from monitor.fetch.urls import canonical_url


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed, with the identity used to recognise it again."""

    guid: str | None
    link: str
    title: str
    summary: str
    content: str
    published: datetime | None
    author: str | None
    language: str | None

    @property
    def key(self) -> str:
        """The entry's identity within its source: the GUID if any, else its canonical URL."""
        return (self.guid or canonical_url(self.link))[:700]


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed: its entries with a link (document order) and how many items it held.

    `total` counts the items in the document (entries without a link included). `format` is
    feedparser's version (`rss20`, `atom10`...) or `json` for a JSON Feed.
    """

    entries: list[FeedEntry]
    total: int
    format: str


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: object, limit: int = 500) -> str | None:
    """Untrusted JSON metadata as a bounded string, or None if it is not a string."""
    return value[:limit] if isinstance(value, str) and value else None


def _is_json(body: bytes, content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return body.lstrip()[:1] == b"{" or (media.endswith("json") and body.strip() != b"")


def _json_item(item: object, base_url: str, language: str | None) -> FeedEntry | None:
    if not isinstance(item, dict):
        return None
    link = item.get("url") or item.get("external_url") or ""
    if not isinstance(link, str) or not link:
        return None
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    first = authors[0] if isinstance(authors, list) and authors else None
    guid = item.get("id")
    return FeedEntry(
        guid=str(guid) if guid is not None else None,
        link=urljoin(base_url, link),
        title=str(item.get("title") or ""),
        summary=str(item.get("summary") or ""),
        content=str(item.get("content_html") or item.get("content_text") or ""),
        published=_iso(item.get("date_published")) or _iso(item.get("date_modified")),
        author=_text(first.get("name")) if isinstance(first, dict) else None,
        language=_text(item.get("language")) or language,
    )


def read_json_feed(body: bytes, base_url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(f"not a valid JSON Feed: {type(exc).__name__}: {exc}"[:300]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError("not a JSON Feed: no 'items' list")
    language = _text(doc.get("language"))
    items = doc["items"]
    entries = [e for e in (_json_item(i, base_url, language) for i in items) if e is not None]
    return ParsedFeed(entries, total=len(items), format="json")


def _feed_item(item: Any, base_url: str, language: str | None) -> FeedEntry | None:
    link = item.get("link") or ""
    if not link:
        return None
    content = str(item.content[0].get("value", "")) if item.get("content") else ""
    return FeedEntry(
        guid=item.get("id") or None,
        link=urljoin(base_url, link),
        title=str(item.get("title", "")),
        summary=str(item.get("summary", "")),
        content=content,
        published=_time(item.get("published_parsed") or item.get("updated_parsed")),
        author=item.get("author"),
        language=language,
    )


def read_feed(body: bytes, base_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0, Atom or JSON Feed bytes; raises ParseError if it is no feed.

    `content_type` is the response's Content-Type header (it decides the encoding and whether
    feedparser trusts the XML); entries without a link are skipped but counted in `total`.
    """
    if _is_json(body, content_type):
        return read_json_feed(body, base_url)
    headers = {"content-location": base_url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers)
    version = str(parsed.get("version") or "")
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        detail = f"{type(reason).__name__}: {reason}" if reason else "no RSS, Atom or JSON Feed"
        shown = f" (Content-Type {content_type})" if content_type else ""
        raise ParseError(f"not a feed{shown}: {detail}"[:500])
    language = parsed.feed.get("language")
    items = parsed.entries
    entries = [e for e in (_feed_item(i, base_url, language) for i in items) if e is not None]
    return ParsedFeed(entries, total=len(items), format=version or "unknown")


def parse_feed(body: bytes, base_url: str, content_type: str | None = None) -> list[FeedEntry]:
    """Every entry with a link (no cap: see `read_feed` and `ParsedFeed.newest`)."""
    return read_feed(body, base_url, content_type).entries
