"""Feed documents parsed in the worker processes (`kind: feed` sources).

Reading a feed (feedparser, or the JSON Feed reader) and the health facts of its response ran on
the daemon's parse threads, inside the main process that also runs the fetch loop and the writer
and holds the GIL for them: about 1 ms per feed, 13% of the main process in a first cycle of
20-entry feeds. In a worker it runs beside extraction, and a hostile feed has an article's budget
(CPU, wall clock, memory): over it, the worker is killed and the poll fails with the reason, like
any unparseable feed (recorded on the source, retried with backoff).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.errors import MonitorError, ParseError
from monitor.parse.feeds import ParsedFeed, read_feed

if TYPE_CHECKING:  # monitor.health imports the configuration, which imports this package
    from monitor.health import PageFacts


@dataclass(frozen=True)
class FeedJob:
    """One fetched feed document to parse."""

    url: str
    body: bytes
    content_type: str | None

    def skipped(self, reason: str) -> FeedResult:
        """The result when the job was stopped (budget) or crashed its worker."""
        return FeedResult(self.url, skipped=reason)


@dataclass(frozen=True)
class FeedResult:
    """The parsed feed and the response's facts; or the parse error; or `skipped`."""

    url: str
    feed: ParsedFeed | None = None
    facts: PageFacts | None = None
    error: MonitorError | None = None
    skipped: str | None = None

    def parsed(self) -> tuple[ParsedFeed, PageFacts]:
        """The feed and facts; raises the parse error, or ParseError when it was stopped."""
        if self.error is not None:
            raise self.error
        if self.feed is None or self.facts is None:
            raise ParseError(f"feed not parsed: {self.skipped or 'no result'}")
        return self.feed, self.facts


def _portable(exc: MonitorError) -> MonitorError:
    """The error itself when it survives the pipe back to the pool, else its message."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own object, in our own process
    except Exception:  # noqa: BLE001 - any error class that cannot be rebuilt from its args
        return ParseError(str(exc)[:500])
    return exc


def parse_feed_job(job: FeedJob) -> FeedResult:
    """Parse `job` (in a worker); a document that is no feed gives its ParseError as data."""
    from monitor.health import page_facts

    facts = page_facts(job.body, job.content_type)
    try:
        feed = read_feed(job.body, job.url, job.content_type or None)
    except MonitorError as exc:
        return FeedResult(job.url, facts=facts, error=_portable(exc))
    return FeedResult(job.url, feed=feed, facts=facts)
