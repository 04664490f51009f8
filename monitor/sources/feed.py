"""`kind: feed`: RSS, Atom and JSON Feed documents, read with monitor.parse.feeds."""

from __future__ import annotations

from monitor.config.models import SourceSpec
from monitor.fetch.client import FetchResult
from monitor.parse.feeds import parse_feed
from monitor.sources.model import SourceRead


class FeedReader:
    """A feed is one document: no follow-up fetches, conditional GET on it."""

    conditional = True

    def start_urls(self, spec: SourceSpec) -> list[str]:
        return [spec.url]

    def read(self, spec: SourceSpec, result: FetchResult) -> SourceRead:
        if result.not_modified:
            return SourceRead([])
        return SourceRead(list(parse_feed(result.body, result.url)))
