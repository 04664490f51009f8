"""The source-kind interface shared by the pipeline and every reader.

A reader turns fetched bytes of one source into entries. The pipeline fetches `start_urls`
(the first with the source's stored ETag/Last-Modified when `conditional` is true), calls
`read` on each result, then fetches the URLs `read` asks to `follow` (breadth-first, at most
`spec.max_follow` per poll, through the same fetcher) and calls `read` on those too. Entries
come back already filtered (robots.txt, same site, include/exclude patterns). Readers never
fetch on their own; the only I/O they may do is through the injected robots policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from monitor.config.models import SourceSpec
from monitor.errors import MonitorError
from monitor.fetch.client import FetchResult
from monitor.parse.feeds import FeedEntry


@dataclass(frozen=True)
class SourceRead:
    """What one fetched document of a source yielded."""

    entries: list[FeedEntry]
    follow: list[str] = field(default_factory=list)
    note: str | None = None


class SourceReader(Protocol):
    """One source kind. Stateless between polls: everything it needs is in the spec."""

    @property
    def conditional(self) -> bool:
        """Whether the first start URL may be fetched with the stored validators (a 304 then
        means "nothing new"). False where an unchanged document can lead to changed ones."""
        ...

    def start_urls(self, spec: SourceSpec) -> list[str]: ...

    def read(self, spec: SourceSpec, result: FetchResult) -> SourceRead: ...


class SourceDenied(MonitorError):
    """The source may not be fetched (robots.txt disallows it); the poll records this error."""
