"""Length bounds on feed-derived fields (title, author, URL, summary, text).

A feed or page can send a 5 MB title; stored whole it would be matched, copied into every alert
payload and posted as a 5 MB webhook body. `FieldBounds` (`settings.bounds` in feeds.yaml) says
how long each field may be; `bound_entry` applies it to a feed entry at ingest, `clip` to any
other value (extracted title and text), and alert payloads apply it again when built, so even
rows stored before a limit was lowered never leave in full.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from monitor.parse.feeds import FeedEntry

ELLIPSIS = "…"


class FieldBounds(BaseModel):
    """Longest value kept for each feed-derived field, in characters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: int = Field(default=1_000, ge=20, le=100_000)
    author: int = Field(default=200, ge=20, le=10_000)
    url: int = Field(default=2_048, ge=100, le=100_000)
    summary: int = Field(default=20_000, ge=100, le=1_000_000)
    text: int = Field(default=500_000, ge=1_000, le=10_000_000)


DEFAULT_BOUNDS = FieldBounds()


def clip(value: str, limit: int) -> str:
    """`value` cut to at most `limit` characters, an ellipsis marking the cut."""
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + ELLIPSIS


def clip_url(url: str, limit: int) -> str:
    """A URL cut to `limit` characters (no ellipsis: what is left stays a URL)."""
    return url[:limit]


def bound_entry(entry: FeedEntry, bounds: FieldBounds = DEFAULT_BOUNDS) -> FeedEntry:
    """The entry with each field within its bound (the same entry if all already are)."""
    author = entry.author
    if (
        len(entry.title) <= bounds.title
        and len(entry.link) <= bounds.url
        and len(entry.summary) <= bounds.summary
        and len(entry.content) <= bounds.text
        and (author is None or len(author) <= bounds.author)
        and (entry.guid is None or len(entry.guid) <= bounds.url)
    ):
        return entry
    return replace(
        entry,
        title=clip(entry.title, bounds.title),
        guid=clip_url(entry.guid, bounds.url) if entry.guid is not None else None,
        link=clip_url(entry.link, bounds.url),
        summary=clip(entry.summary, bounds.summary),
        content=clip(entry.content, bounds.text),
        author=clip(author, bounds.author) if author is not None else None,
    )
