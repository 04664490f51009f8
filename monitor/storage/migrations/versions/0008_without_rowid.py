"""On SQLite, the dedup look-up tables are stored WITHOUT ROWID (clustered on their primary key).

Every stored article adds ~190 rows to `dedup_fingerprints` and ~20 to `dedup_story_keys`, at
random places in the hash/key order. A rowid table keeps each row twice (the table by rowid, and
the primary-key index on (hash, article_id)), so every row cost an extra B-tree insert, and the
fingerprint insert was the write stage's most expensive statement (1.8 of 5.4 ms per article in
`bench/bench_write.py`). Clustered on the primary key, the row lives in one B-tree. PostgreSQL is
unchanged (heap tables have no such option).
"""

from __future__ import annotations

from alembic import op

revision = "0008_without_rowid"
down_revision = "0007_canonical_url_id"
branch_labels = None
depends_on = None

_TABLES = {
    "dedup_fingerprints": (
        "hash BIGINT NOT NULL, article_id BIGINT NOT NULL, "
        "CONSTRAINT pk_dedup_fingerprints PRIMARY KEY (hash, article_id)",
        "hash, article_id",
        ["CREATE INDEX ix_dedup_fingerprints_article_id ON dedup_fingerprints (article_id)"],
    ),
    "dedup_story_keys": (
        '"key" VARCHAR(120) NOT NULL, article_id BIGINT NOT NULL, story_id BIGINT NOT NULL, '
        "published_at DATETIME NOT NULL, "
        'CONSTRAINT pk_dedup_story_keys PRIMARY KEY ("key", article_id)',
        '"key", article_id, story_id, published_at',
        [
            "CREATE INDEX ix_dedup_story_keys_article_id ON dedup_story_keys (article_id)",
            "CREATE INDEX ix_dedup_story_keys_story_id ON dedup_story_keys (story_id)",
            "CREATE INDEX ix_dedup_story_keys_lookup ON dedup_story_keys "
            '("key", published_at, article_id, story_id)',
        ],
    ),
}


def _rebuild(rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, (columns, names, indexes) in _TABLES.items():
        option = "" if rowid else " WITHOUT ROWID"
        op.execute(f"CREATE TABLE {table}_rebuilt ({columns}){option}")
        op.execute(f"INSERT INTO {table}_rebuilt ({names}) SELECT {names} FROM {table}")  # noqa: S608
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
        for statement in indexes:
            op.execute(statement)


def upgrade() -> None:
    _rebuild(rowid=False)


def downgrade() -> None:
    _rebuild(rowid=True)
