"""Document frequencies of story keys in the window, kept in ``dedup_key_counts``.

Adding and removing counts uses an upsert (``INSERT ... ON CONFLICT DO UPDATE``), which both
SQLite and PostgreSQL support through their dialect-specific insert constructs. The number of
stories in the window is kept under the reserved key ``STORIES``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from monitor.dedup.tables import dedup_key_counts

STORIES = "#stories"


def add(conn: sa.Connection, keys: Mapping[str, int]) -> None:
    """Add `keys` (key -> amount) to the counts; an amount may be negative."""
    if not keys:
        return
    rows = [{"key": k, "count": n} for k, n in sorted(keys.items())]
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(dedup_key_counts)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[dedup_key_counts.c.key],
            set_={"count": dedup_key_counts.c.count + statement.excluded.count},
        ),
        rows,
    )
    if any(n < 0 for n in keys.values()):
        conn.execute(dedup_key_counts.delete().where(dedup_key_counts.c.count <= 0))


def get(conn: sa.Connection, keys: Iterable[str]) -> dict[str, int]:
    """The current counts of `keys` (absent keys are left out)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(dedup_key_counts.c.key, dedup_key_counts.c.count).where(
            dedup_key_counts.c.key.in_(wanted)
        )
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}
