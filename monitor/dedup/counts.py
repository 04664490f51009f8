"""Document frequencies of story keys in the window, kept in ``dedup_key_counts``.

Adding and removing counts uses an upsert (``INSERT ... ON CONFLICT DO UPDATE``), which both
SQLite and PostgreSQL support through their dialect-specific insert constructs. The number of
stories in the window is kept under the reserved key ``STORIES``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from monitor.dedup import sql
from monitor.storage.direct import Given, Read

STORIES = "#stories"


def add(conn: sa.Connection, keys: Mapping[str, int]) -> None:
    """Add `keys` (key -> amount) to the counts; an amount may be negative."""
    sql.add_counts(conn, keys)


def get(conn: sa.Connection, keys: Iterable[str], given: Given | None = None) -> dict[str, int]:
    """The current counts of `keys` (absent keys are left out)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    return sql.get_counts(conn, wanted, given)


def read(conn: sa.Connection, keys: Iterable[str]) -> Read | None:
    """The look-up of `get`, to run beforehand (`Direct.rows_after`); None when `get` reads
    nothing."""
    wanted = sorted(set(keys))
    return sql.counts_read(conn, wanted) if wanted else None
