"""Deduplication, second version: stories that were joined, copy groups, a covering key lookup.

Mirrors `monitor/dedup/tables.py`: `dedup_stories.merged_into` (the story a story was joined
into), an index on `dedup_documents.copy_of` (a copy group's members), and indexes on
`dedup_story_keys` for the bounded story lookup and for joining stories.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_dedup2"
down_revision = "0004_pipeline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dedup_stories") as batch:
        batch.add_column(sa.Column("merged_into", sa.BigInteger))
    op.create_index("ix_dedup_stories_merged_into", "dedup_stories", ["merged_into"])
    op.create_index("ix_dedup_documents_copy_of", "dedup_documents", ["copy_of"])
    op.create_index("ix_dedup_story_keys_story_id", "dedup_story_keys", ["story_id"])
    op.create_index(
        "ix_dedup_story_keys_lookup",
        "dedup_story_keys",
        ["key", "published_at", "article_id", "story_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_dedup_story_keys_lookup", table_name="dedup_story_keys")
    op.drop_index("ix_dedup_story_keys_story_id", table_name="dedup_story_keys")
    op.drop_index("ix_dedup_documents_copy_of", table_name="dedup_documents")
    op.drop_index("ix_dedup_stories_merged_into", table_name="dedup_stories")
    with op.batch_alter_table("dedup_stories") as batch:
        batch.drop_column("merged_into")
