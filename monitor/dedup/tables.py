"""The persistent deduplication index: its tables, declared on the shared storage `metadata`.

Rows live only as long as the configured window: :meth:`DedupIndex.prune` deletes older ones.
``dedup_documents`` holds one row per classified article (its exact shingle set for verification
and its decision); ``dedup_fingerprints`` is the lookup index of winnowed shingle hashes;
``dedup_story_keys`` indexes the names and numbers of original write-ups for story matching;
``dedup_key_counts`` holds their frequencies; ``dedup_stories`` is one row per story. Primary
keys make a repeated classification of the same article a constraint violation, not a duplicate.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from monitor.storage.tables import Id, metadata

dedup_stories = Table(
    "dedup_stories",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("first_article_id", BigInteger, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, index=True),
    # set when this story was found to be one event with another: the story it joined
    Column("merged_into", BigInteger, index=True),
)

dedup_documents = Table(
    "dedup_documents",
    metadata,
    Column("article_id", BigInteger, primary_key=True, autoincrement=False),
    Column("source", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("text_hash", String(64), nullable=False, index=True),
    Column("shingle_count", Integer, nullable=False),
    Column("shingles", LargeBinary, nullable=False),
    Column("copy_of", BigInteger, index=True),
    Column("story_id", BigInteger, nullable=False, index=True),
    Column("reason", String(200), nullable=False),
)

dedup_fingerprints = Table(
    "dedup_fingerprints",
    metadata,
    Column("hash", BigInteger, primary_key=True, autoincrement=False),
    Column("article_id", BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,  # clustered on the key: one B-tree per row (migration 0008)
    # autovacuum after every 100,000 inserted rows (~500 articles), so that the look-ups stay
    # index-only scans (migration 0009)
    postgresql_with={
        "autovacuum_vacuum_insert_threshold": 100_000,
        "autovacuum_vacuum_insert_scale_factor": 0,
    },
)
Index("ix_dedup_fingerprints_article_id", dedup_fingerprints.c.article_id)

dedup_story_keys = Table(
    "dedup_story_keys",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("article_id", BigInteger, primary_key=True, autoincrement=False),
    Column("story_id", BigInteger, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
    postgresql_with={  # every 20,000 inserted rows, ~1,000 articles (migration 0009)
        "autovacuum_vacuum_insert_threshold": 20_000,
        "autovacuum_vacuum_insert_scale_factor": 0,
    },
)
Index("ix_dedup_story_keys_article_id", dedup_story_keys.c.article_id)
Index("ix_dedup_story_keys_story_id", dedup_story_keys.c.story_id)
# The story lookup (key IN rare keys, published within a few days) reads only this index.
Index(
    "ix_dedup_story_keys_lookup",
    dedup_story_keys.c.key,
    dedup_story_keys.c.published_at,
    dedup_story_keys.c.article_id,
    dedup_story_keys.c.story_id,
)

# How many original write-ups in the window carry each story key (the document frequency used to
# weight keys), kept up to date on insert and prune so a lookup never scans the key index.
dedup_key_counts = Table(
    "dedup_key_counts",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("count", Integer, nullable=False),
)

DEDUP_TABLES = (
    dedup_stories,
    dedup_documents,
    dedup_fingerprints,
    dedup_story_keys,
    dedup_key_counts,
)
