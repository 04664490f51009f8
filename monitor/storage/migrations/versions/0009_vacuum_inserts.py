"""PostgreSQL vacuums the dedup look-up tables after every fixed number of inserted rows.

The story and copy look-ups read only covering indexes (`ix_dedup_story_keys_lookup`, the
fingerprints' primary key), but PostgreSQL answers from an index alone (an index-only scan) only
for heap pages its visibility map marks all-visible, and only VACUUM sets that map. By default
autovacuum vacuums an insert-only table once the rows inserted since its last visit exceed 1,000
plus 20% of the table: at 100,000 stored articles (2 million story keys, 19 million
fingerprints) that is after ~20,000 new articles, so the recent rows, which the look-ups ask
for, sat on pages the scan had to visit one by one. `bench/bench_dedup.py` at 100,000 articles:
the story look-up of a 24-key article 43 ms before a VACUUM, 1.4 ms after (EXPLAIN ANALYZE: a
bitmap heap scan of 2,616 pages against an index-only scan of 85 buffers, no heap fetch).

Here autovacuum visits them after a fixed number of inserted rows, whatever their size: about
every 500 articles' fingerprints and every 1,000 articles' story keys. A visit reads the pages
changed since the last one (the others are marked all-visible already); once pruning deletes as
many rows as arrive, PostgreSQL 14+ still skips the indexes while under 2% of the pages hold
dead rows. Insert-driven autovacuum exists from PostgreSQL 13; on an older server, and on
SQLite, this migration changes nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0009_vacuum_inserts"
down_revision = "0008_without_rowid"
branch_labels = None
depends_on = None

# rows inserted between two autovacuum visits (the table's own setting; scale factor 0)
INSERT_THRESHOLDS = {"dedup_fingerprints": 100_000, "dedup_story_keys": 20_000}
_OPTIONS = ("autovacuum_vacuum_insert_threshold", "autovacuum_vacuum_insert_scale_factor")


def _applies() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    version = bind.exec_driver_sql("SHOW server_version_num").scalar()
    return int(str(version)) >= 130000


def upgrade() -> None:
    if not _applies():
        return
    for table, rows in INSERT_THRESHOLDS.items():
        op.execute(f"ALTER TABLE {table} SET ({_OPTIONS[0]} = {rows}, {_OPTIONS[1]} = 0)")


def downgrade() -> None:
    if not _applies():
        return
    for table in INSERT_THRESHOLDS:
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(_OPTIONS)})")
