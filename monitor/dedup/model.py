"""The values exchanged between the pipeline and the deduplication index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DedupInput:
    """One newly stored article, as the pipeline hands it to :class:`DedupIndex.classify`."""

    article_id: int
    title: str
    text: str
    language: str | None
    published: datetime | None
    fetched: datetime
    source: str


@dataclass(frozen=True)
class DedupResult:
    """What the index decided: the copy's original (if any), the story, and why."""

    copy_of: int | None  # the first article this is a copy of; None when it is an original
    story_id: int  # the story the article belongs to (created when new)
    reason: str  # e.g. "text-hash", "near-duplicate jaccard=0.71 containment=0.93", "story:new"


@dataclass(frozen=True)
class CarriedBy:
    """One article of a story, for the "also carried by" list of an alert."""

    article_id: int
    source: str
    title: str
    url: str
    is_copy: bool
