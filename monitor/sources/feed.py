"""`kind: feed`: RSS, Atom and JSON Feed documents, read with monitor.parse.feeds."""

from __future__ import annotations

from monitor.config.models import SourceSpec
from monitor.fetch.client import FetchResult
from monitor.parse.feeds import ParsedFeed, read_feed
from monitor.sources.model import SourceRead


class FeedReader:
    """A feed is one document: no follow-up fetches, conditional GET on it."""

    conditional = True

    def start_urls(self, spec: SourceSpec) -> list[str]:
        return [spec.url]

    def read(self, spec: SourceSpec, result: FetchResult) -> SourceRead:
        if result.not_modified:
            return SourceRead([])
        return self.entries_of(read_feed(result.body, result.url, result.content_type or None))

    @staticmethod
    def entries_of(feed: ParsedFeed) -> SourceRead:
        """The read of a parsed feed (the daemon parses feeds in its worker processes)."""
        skipped = feed.total - len(feed.entries)
        note = f"{skipped} of {feed.total} items have no link" if skipped else None
        return SourceRead(list(feed.entries), [], note)
