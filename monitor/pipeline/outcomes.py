"""How a poll's outcome is recorded: the writer jobs for success, failure, a gone source, and a
skipped article.

Each function returns (or is) a job for the write stage, run on the writer's connection after
the articles of the poll; recording a poll's outcome releases the source's lease. Backoff and
the next poll are decided by the caller (`stages.next_poll`), from the END of the poll.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from random import Random

from sqlalchemy import Connection

from monitor.config.models import Settings, SourceSpec
from monitor.delivery.notices import create_notice
from monitor.errors import FetchError
from monitor.fetch.response import FetchResult
from monitor.pipeline.stages import error_kind, next_poll
from monitor.storage import articles_repo, sources_repo
from monitor.storage.sources_repo import SourceState

Job = Callable[[Connection], object]


def success(
    source: SourceSpec,
    first: FetchResult,
    cut: int,
    note: str | None,
    now: datetime,
    when: datetime,
) -> Job:
    """The poll succeeded: validators for the next conditional GET, the next poll at `when`."""
    return partial(
        sources_repo.record_success,
        name=source.name,
        now=now,
        next_poll=when,
        etag=first.etag,
        last_modified=first.last_modified,
        entries_cut=cut,
        note=note,
    )


def failure(
    settings: Settings,
    rng: Random,
    source: SourceSpec,
    state: SourceState,
    exc: Exception,
    now: datetime,
) -> Job:
    """The poll failed: backoff (or the server's Retry-After); HTTP 410 on the source's own URL
    disables the source instead."""
    if isinstance(exc, FetchError) and exc.status == 410 and exc.url == state.url:
        return partial(gone, source.name, str(exc), now, settings.delivery.operator_channels)
    retry_after = exc.retry_after if isinstance(exc, FetchError) else None
    when = next_poll(settings, rng, source, now, state.error_count + 1, retry_after)
    return partial(
        sources_repo.record_failure,
        name=source.name,
        now=now,
        kind=error_kind(exc),
        error=str(exc),
        next_poll=when,
    )


def gone(
    name: str, error: str, now: datetime, operator_channels: Sequence[str], conn: Connection
) -> None:
    """HTTP 410: polling stops (persisted, until the URL changes) and one operator notice."""
    reason = f"HTTP 410 Gone: polling stopped until the URL changes ({error})"
    sources_repo.disable(conn, name, now=now, reason=reason)
    create_notice(
        conn,
        key=f"source-gone:{name}:{now.date().isoformat()}",
        title=f"Source {name} is gone (HTTP 410); polling stopped",
        body=f"{error}\nChange or remove the source in feeds.yaml; `monitor sources` shows it.",
        now=now,
        operator_channels=operator_channels,
    )


def skip(source: str, key: str, reason: str, now: datetime, conn: Connection) -> None:
    """An article over its budget is marked seen (never retried) and counted on its source."""
    if articles_repo.mark_seen(conn, source, key, now):
        sources_repo.record_skipped(conn, source, reason)


def reason_kind(reason: str | None) -> str:
    """A short label for a skip reason ("cpu budget exceeded (10 s)" -> "cpu")."""
    return (reason or "unknown").split(" ", 1)[0][:20]
