"""The pipeline's pure steps: choose new entries, build the article, schedule the next poll.

None of these know about threads, loops or transactions; the flow (`flow.py`) calls them and the
write stage (`write.py`) stores what they build.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy import Connection

from monitor.bounds import FieldBounds
from monitor.config.models import Settings, SourceSpec
from monitor.delivery.messages import build_payload
from monitor.errors import FetchError, MonitorError, ParseError
from monitor.parse.feeds import FeedEntry
from monitor.sources.model import SourceDenied
from monitor.storage import articles_repo as repo

OLDEST = datetime.min.replace(tzinfo=UTC)


class EntryError(MonitorError):
    """Some entries of a feed could not be ingested; they stay unseen and are retried."""


def select_new(conn: Connection, source: str, entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """Entries this source has not delivered before (first occurrence of each key)."""
    unseen = repo.unseen_keys(conn, source, (e.key for e in entries))
    chosen: dict[str, FeedEntry] = {}
    for entry in entries:
        if entry.key in unseen and entry.key not in chosen:
            chosen[entry.key] = entry
    return list(chosen.values())


def keep_newest(entries: Sequence[FeedEntry], cap: int) -> tuple[list[FeedEntry], int]:
    """At most `cap` entries, the newest by date (undated ones keep their feed order after the
    dated ones); returns them and how many were cut."""
    if len(entries) <= cap:
        return list(entries), 0

    def newest_first(i: int) -> tuple[bool, float, int]:
        published = entries[i].published
        return (published is None, -(published or OLDEST).timestamp(), i)

    order = sorted(range(len(entries)), key=newest_first)
    kept = sorted(order[:cap])
    return [entries[i] for i in kept], len(entries) - cap


def alert_payload(
    article: repo.NewArticle, match: dict[str, Any], bounds: FieldBounds
) -> dict[str, Any]:
    """The outbox payload of one match (`RuleMatch.to_json()`), fields within their bounds."""
    return build_payload(
        headline=article.title,
        url=article.url,
        source=article.source,
        published=article.published_at,
        language=article.language,
        passages=[
            {
                "field": p.get("field", "body"),
                "text": p.get("text", ""),
                "highlights": [list(h) for h in p.get("highlights", [])],
                "clause": p.get("clause", ""),
            }
            for p in match.get("passages", [])
        ],
        bounds=bounds,
    )


def next_poll(
    settings: Settings,
    rng: Random,
    source: SourceSpec,
    now: datetime,
    errors: int = 0,
    retry_after: float | None = None,
) -> datetime:
    """Interval with jitter; exponential backoff (capped at a day) while the source fails.
    `now` is the END of the poll, so a long timeout does not eat the backoff."""
    interval = source.interval if source.interval is not None else settings.default_interval
    if errors:
        interval = min(interval * 2 ** min(errors, 8), timedelta(days=1))
    jitter = settings.jitter
    delay = interval * (1 + rng.uniform(-jitter, jitter))
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=min(retry_after, 86400)))
    return now + delay


def error_kind(exc: Exception) -> str:
    """The kind shown in `monitor sources` for a failed poll."""
    if isinstance(exc, FetchError):
        return exc.kind.value
    if isinstance(exc, ParseError):
        return "parse"
    if isinstance(exc, EntryError):
        return "entry"
    if isinstance(exc, SourceDenied):
        return "robots"
    return "internal"
