"""Feed parsing: feedparser on bytes we fetched (never on a URL), into plain `FeedEntry` values.

feedparser never raises on bad input; it sets `bozo`. A document with no usable entries and a
bozo flag is an error (`ParseError` with feedparser's reason); a slightly broken feed with
entries is accepted. JSON Feed is handled here directly, since it is plain JSON.
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

MAX_ENTRIES = 500


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


def _looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] == b"{"


def parse_json_feed(body: bytes, base_url: str) -> list[FeedEntry]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"not a valid JSON Feed: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError("not a JSON Feed: no 'items' list")
    language = _text(doc.get("language"))
    entries = []
    for item in doc["items"][:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url") or ""
        if not isinstance(link, str) or not link:
            continue
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        first = authors[0] if isinstance(authors, list) and authors else None
        author = _text(first.get("name")) if isinstance(first, dict) else None
        guid = item.get("id")
        entries.append(
            FeedEntry(
                guid=str(guid) if guid is not None else None,
                link=urljoin(base_url, link),
                title=str(item.get("title") or ""),
                summary=str(item.get("summary") or ""),
                content=str(item.get("content_html") or item.get("content_text") or ""),
                published=_iso(item.get("date_published")) or _iso(item.get("date_modified")),
                author=author,
                language=_text(item.get("language")) or language,
            )
        )
    return entries


def parse_feed(body: bytes, base_url: str) -> list[FeedEntry]:
    """Parse RSS 0.9x/1.0/2.0, Atom or JSON Feed bytes; entries without a link are skipped."""
    if _looks_like_json(body):
        return parse_json_feed(body, base_url)
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception")
        detail = (
            f"{type(reason).__name__}: {reason}" if reason else "no RSS, Atom or JSON Feed found"
        )
        raise ParseError(f"not a feed: {detail}")
    language = parsed.feed.get("language")
    entries = []
    for item in parsed.entries[:MAX_ENTRIES]:
        link = item.get("link") or ""
        if not link:
            continue
        content = ""
        if item.get("content"):
            content = str(item.content[0].get("value", ""))
        entries.append(
            FeedEntry(
                guid=item.get("id") or None,
                link=urljoin(base_url, link),
                title=str(item.get("title", "")),
                summary=str(item.get("summary", "")),
                content=content,
                published=_time(item.get("published_parsed") or item.get("updated_parsed")),
                author=item.get("author"),
                language=language,
            )
        )
    return entries
