"""The values exchanged between the pipeline and the deduplication index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.dedup.prepare import Fingerprints


@dataclass(frozen=True)
class DedupInput:
    """One newly stored article, as the pipeline hands it to :class:`DedupIndex.classify`.

    `fingerprints` may be computed beforehand (in a worker process) with
    :func:`monitor.dedup.prepare_fingerprints` from the same title and text; when it is None the
    index computes it. `fresh` says the article was stored in this very transaction, so it cannot
    have been classified before (the index skips looking for an earlier decision).
    """

    article_id: int
    title: str
    text: str
    language: str | None
    published: datetime | None
    fetched: datetime
    source: str
    fingerprints: Fingerprints | None = None
    fresh: bool = False


@dataclass(frozen=True)
class Regrouped:
    """An earlier article whose copy original or story changed because of this classification.

    The caller writes these on its own rows (``articles.copy_of`` / ``articles.story_id``).
    """

    article_id: int
    copy_of: int | None
    story_id: int


@dataclass(frozen=True)
class DedupResult:
    """What the index decided: the copy's original (if any), the story, and why."""

    copy_of: int | None  # the copy group's original; None when this article is the original
    story_id: int  # the story the article belongs to (created when new)
    reason: str  # e.g. "text-hash", "near-duplicate jaccard=0.71 containment=0.93", "story:new"
    # earlier articles re-linked by this decision (a fuller original arrived, groups merged)
    regrouped: tuple[Regrouped, ...] = ()


@dataclass(frozen=True)
class CarriedBy:
    """One article of a story, for the "also carried by" list of an alert."""

    article_id: int
    source: str
    title: str
    url: str
    is_copy: bool
