"""Pipeline state on sources: disabled sources (HTTP 410), feed cuts and skipped articles.

Leases already have their columns (`lease_owner`, `lease_until`); leases are now short and
renewed, and an index on `next_poll_at` keeps the one-statement claim cheap at 5,000 sources.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_pipeline"
down_revision = "0003_delivery"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("disabled_at", TS))
        batch.add_column(sa.Column("disabled_reason", sa.Text))
        batch.add_column(sa.Column("entries_cut", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_note", sa.Text))
        batch.add_column(sa.Column("skipped_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_skipped", sa.Text))
    op.create_index("ix_sources_next_poll_at", "sources", ["next_poll_at"])


def downgrade() -> None:
    op.drop_index("ix_sources_next_poll_at", table_name="sources")
    with op.batch_alter_table("sources") as batch:
        for column in (
            "last_skipped",
            "skipped_count",
            "last_note",
            "entries_cut",
            "disabled_reason",
            "disabled_at",
        ):
            batch.drop_column(column)
