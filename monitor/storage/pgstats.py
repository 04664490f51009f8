"""Planner statistics for the tables the writer grows fast (PostgreSQL only).

A table has no statistics until autovacuum analyses it: on its first visit (up to
`autovacuum_naptime`, a minute by default, after the rows arrive), then after it grew by 10%.
Without statistics the planner takes `hash = ANY(:prints)` (one article's ~290 look-up
fingerprints) to match every row and scans the whole fingerprint table for each new article:
2.6 ms per look-up at 140,000 rows in the one-new-article bench cycle after a first cycle,
0.4–0.9 ms with statistics. A new database fills its tables in its first minutes (the catch-up
of every source), exactly then. So the writer asks, at most every `every` seconds, which of
these tables are stale, and analyses those at once (`ANALYZE (SKIP_LOCKED)`: a table another
replica is analysing is left to it).
A table is stale when it holds at least `MIN_ROWS` live rows and was never analysed or has
doubled since (`pg_class.reltuples`, the count its statistics were taken at): that is at each
doubling of a young table, a handful of times; past that autovacuum keeps up. Tables the
monitor's role does not own are left alone (ANALYZE would skip them with a warning, and they
would look stale at every check).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

import sqlalchemy as sa

log = logging.getLogger(__name__)

TABLES = (
    "articles",
    "seen_entries",
    "dedup_documents",
    "dedup_fingerprints",
    "dedup_story_keys",
    "dedup_key_counts",
    "dedup_stories",
)
MIN_ROWS = 1000  # smaller tables are scanned quickly whatever the plan

_STALE = sa.text(
    "SELECT s.relname FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid "
    "WHERE s.schemaname = current_schema() AND s.relname = ANY(:tables) "
    "AND s.n_live_tup >= :least AND (c.reltuples < 0 OR s.n_live_tup >= 2 * c.reltuples) "
    "AND pg_has_role(c.relowner, 'USAGE') "  # ANALYZE skips (with a warning) what we do not own
    "ORDER BY s.relname"
)


class StatsKeeper:
    """Analyses the fast-growing tables whose statistics are stale (see the module docstring)."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._every = every
        self._clock = clock
        self._next = clock()
        self.analysed: deque[str] = deque(maxlen=100)  # the latest tables analysed, in order

    def maybe_refresh(self) -> None:
        """Check (at most every `every` seconds) and analyse; never raises."""
        now = self._clock()
        if now < self._next:
            return
        self._next = now + self._every
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - statistics are an optimisation, never fatal
            log.warning("could not refresh table statistics: %s", exc)

    def refresh(self) -> list[str]:
        """Analyse every stale table now; returns their names."""
        with self._engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            stale = [
                str(name)
                for name in conn.execute(
                    _STALE, {"tables": list(TABLES), "least": MIN_ROWS}
                ).scalars()
            ]
            for name in stale:
                started = self._clock()
                conn.exec_driver_sql(f'ANALYZE (SKIP_LOCKED) "{name}"')
                log.info(
                    "analysed table=%s seconds=%.3f", name, self._clock() - started
                )
        self.analysed.extend(stale)
        return stale
