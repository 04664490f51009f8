"""Per-source poll state in the database: schedule, validators, errors and leases.

The next poll time, ETag and Last-Modified, the error counter and the last error live in the
`sources` row, so a restart neither re-polls early nor forgets. A replica claims a due source
with a lease; a replica that dies simply lets its lease expire.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, or_, select, update

from monitor.config.models import SourceSpec
from monitor.storage.tables import sources


@dataclass(frozen=True)
class SourceState:
    name: str
    url: str
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    error_count: int
    last_error: str | None
    last_error_kind: str | None
    backlog_seen: bool


def sync_sources(conn: Connection, specs: Iterable[SourceSpec]) -> None:
    """Insert rows for new sources; a changed URL resets the validators and the backlog mark
    (so the new feed's existing entries don't alert), not the schedule."""
    existing = {row.name: row.url for row in conn.execute(select(sources.c.name, sources.c.url))}
    for spec in specs:
        if spec.name not in existing:
            conn.execute(
                sources.insert().values(
                    name=spec.name,
                    url=spec.url,
                    error_count=0,
                    backlog_seen=False,
                )
            )
        elif existing[spec.name] != spec.url:
            conn.execute(
                update(sources)
                .where(sources.c.name == spec.name)
                .values(
                    url=spec.url,
                    etag=None,
                    last_modified=None,
                    backlog_seen=False,  # a new feed's backlog must not flood the channels
                )
            )


def get_states(conn: Connection, names: Sequence[str] | None = None) -> list[SourceState]:
    query = select(sources).order_by(sources.c.name)
    if names is not None:
        query = query.where(sources.c.name.in_(list(names)))
    return [
        SourceState(
            **{k: v for k, v in row._mapping.items() if k not in ("lease_owner", "lease_until")}
        )
        for row in conn.execute(query)
    ]


def claim_due(
    engine: Engine, names: Sequence[str], *, now: datetime, owner: str, lease: timedelta
) -> list[str]:
    """Lease every due source among `names` to `owner`; returns the names claimed."""
    claimed = []
    for name in names:
        with engine.begin() as conn:
            result = conn.execute(
                update(sources)
                .where(
                    sources.c.name == name,
                    or_(sources.c.next_poll_at.is_(None), sources.c.next_poll_at <= now),
                    or_(sources.c.lease_until.is_(None), sources.c.lease_until < now),
                )
                .values(lease_owner=owner, lease_until=now + lease)
            )
            if result.rowcount == 1:
                claimed.append(name)
    return claimed


def record_success(
    conn: Connection,
    name: str,
    *,
    now: datetime,
    next_poll: datetime,
    etag: str | None,
    last_modified: str | None,
) -> None:
    conn.execute(
        update(sources)
        .where(sources.c.name == name)
        .values(
            etag=etag,
            last_modified=last_modified,
            last_polled_at=now,
            last_success_at=now,
            next_poll_at=next_poll,
            error_count=0,
            last_error=None,
            last_error_kind=None,
            backlog_seen=True,
            lease_owner=None,
            lease_until=None,
        )
    )


def record_failure(
    conn: Connection, name: str, *, now: datetime, next_poll: datetime, kind: str, error: str
) -> None:
    conn.execute(
        update(sources)
        .where(sources.c.name == name)
        .values(
            last_polled_at=now,
            next_poll_at=next_poll,
            error_count=sources.c.error_count + 1,
            last_error=error[:2000],
            last_error_kind=kind,
            lease_owner=None,
            lease_until=None,
        )
    )
