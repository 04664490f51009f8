"""A source's rhythm, learned from when its entries were first seen.

Entries first seen within `SAME_POLL` of each other arrived together (one poll, or a backlog),
so they make one arrival; the usual gap is the median gap between recent arrivals. Queries are
bounded: the newest `history` entries of a source, and one aggregate over the last week.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from monitor.storage.tables import seen_entries

SAME_POLL = timedelta(minutes=2)
WEEK = timedelta(days=7)
CHUNK = 500


@dataclass(frozen=True)
class Activity:
    """What a source has delivered: its last new entry and entries per day over the last week."""

    last_entry: datetime | None = None
    per_day: float = 0.0


def arrivals(times: Sequence[datetime]) -> list[datetime]:
    """First-seen times merged into arrivals (oldest first)."""
    merged: list[datetime] = []
    for moment in sorted(times):
        if not merged or moment - merged[-1] > SAME_POLL:
            merged.append(moment)
    return merged


def usual_gap(times: Sequence[datetime]) -> timedelta | None:
    """Median gap between arrivals; None with fewer than three arrivals (two gaps)."""
    points = arrivals(times)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(points)]
    if len(gaps) < 2:
        return None
    return timedelta(seconds=statistics.median(gaps))


def usual_gaps(conn: Connection, names: Sequence[str], history: int) -> dict[str, timedelta]:
    """The usual gap of each named source that has one, from its newest `history` entries
    (one windowed query per `CHUNK` names)."""
    gaps: dict[str, timedelta] = {}
    for start in range(0, len(names), CHUNK):
        rank = (
            func.row_number()
            .over(partition_by=seen_entries.c.source, order_by=seen_entries.c.first_seen_at.desc())
            .label("rank")
        )
        newest = (
            select(seen_entries.c.source, seen_entries.c.first_seen_at, rank)
            .where(seen_entries.c.source.in_(list(names[start : start + CHUNK])))
            .subquery()
        )
        times: dict[str, list[datetime]] = {}
        for name, moment in conn.execute(
            select(newest.c.source, newest.c.first_seen_at).where(newest.c.rank <= history)
        ):
            times.setdefault(name, []).append(moment)
        for name, moments in times.items():
            gap = usual_gap(moments)
            if gap is not None:
                gaps[name] = gap
    return gaps


def activity(conn: Connection, now: datetime) -> dict[str, Activity]:
    """Last new entry and entries per day of every source with entries (two aggregate reads)."""
    last = dict(
        conn.execute(
            select(seen_entries.c.source, func.max(seen_entries.c.first_seen_at)).group_by(
                seen_entries.c.source
            )
        ).all()
    )
    week: dict[str, int] = dict(
        conn.execute(
            select(seen_entries.c.source, func.count())
            .where(seen_entries.c.first_seen_at >= now - WEEK)
            .group_by(seen_entries.c.source)
        ).all()
    )
    return {
        name: Activity(last_entry=_aware(moment), per_day=week.get(name, 0) / 7.0)
        for name, moment in last.items()
    }


def _aware(moment: datetime | str | None) -> datetime | None:
    # an aggregate loses the column type on SQLite: max() comes back as text
    if moment is None or isinstance(moment, datetime):
        return moment
    parsed = datetime.fromisoformat(moment)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
