"""The values exchanged with the work stage: a job in, a result out (both picklable).

A :class:`WorkJob` is one new feed entry with its fetched page (or none, when the feed's content
is trusted or the page could not be fetched) and its source's metadata. A :class:`WorkResult` is
everything the writer needs to store the article, record its rule matches, build their alert
payloads and group it: or `skipped` with the reason when the article exceeded its budget or
crashed its worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # runtime imports would be circular: config.models imports work.settings
    from monitor.config.models import SourceSpec
    from monitor.parse.feeds import FeedEntry


@dataclass(frozen=True)
class SourceMeta:
    """What the work stage needs of a source."""

    name: str
    language: str | None = None  # the configured hint, used when nothing else says
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkJob:
    """One article to process. `page` is None when the feed content is to be used."""

    source: SourceMeta
    url: str  # the page's final URL (after redirects), else the entry's link
    page: bytes | None
    title: str = ""  # the feed entry's fields, HTML allowed
    summary: str = ""
    content: str = ""
    language: str | None = None
    published: datetime | None = None
    author: str | None = None
    match: bool = True  # False while a backlog is recorded without alerting

    @classmethod
    def from_entry(
        cls,
        source: SourceSpec,
        entry: FeedEntry,
        page: bytes | None,
        url: str | None = None,
        *,
        match: bool = True,
    ) -> WorkJob:
        return cls(
            source=SourceMeta(source.name, source.language, tuple(source.tags)),
            url=url or entry.link,
            page=page,
            title=entry.title,
            summary=entry.summary,
            content=entry.content,
            language=entry.language,
            published=entry.published,
            author=entry.author,
            match=match,
        )

    def skipped(self, reason: str) -> WorkResult:
        """The result when the job was stopped (budget) or crashed its worker."""
        return WorkResult.skip(self.url, reason)


@dataclass(frozen=True)
class MatchedRule:
    """One rule match as data: `data` is `RuleMatch.to_json()` (stored with the match)."""

    rule: str
    data: dict[str, Any]

    def passages(self) -> list[dict[str, Any]]:
        """The passages as `monitor.delivery.messages.build_payload` takes them."""
        return [
            {
                "field": p["field"],
                "text": p["text"],
                "highlights": [list(h) for h in p["highlights"]],
                "clause": p["clause"],
            }
            for p in self.data.get("passages", ())
        ]


@dataclass(frozen=True)
class WorkResult:
    """The processed article, or `skipped` (with every other field empty) and the reason."""

    url: str
    title: str = ""
    text: str = ""
    language: str | None = None
    published: datetime | None = None  # the feed's date, else the page's
    author: str | None = None
    site_name: str | None = None
    canonical_url: str = ""  # canonicalised and bounded to the column size
    extraction: str = "feed"  # "trafilatura" when the text came from the page
    matches: tuple[MatchedRule, ...] = ()
    fingerprints: Any = None  # monitor.dedup.prepare_fingerprints(title, text), when available
    cpu_seconds: float = 0.0  # CPU the worker spent on this article
    skipped: str | None = None  # e.g. "cpu budget exceeded (10 s)"
    notes: tuple[str, ...] = field(default=())  # e.g. "extraction failed: ValueError: ..."

    @classmethod
    def skip(cls, url: str, reason: str) -> WorkResult:
        return cls(url=url, canonical_url=url, skipped=reason)
