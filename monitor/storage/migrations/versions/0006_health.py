"""Source health: the state last reported per source, and an index to read cadence cheaply."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_health"
down_revision = "0005_dedup2"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "source_health",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("since", TS),
        sa.Column("detail", sa.Text),
        sa.Column("tracked_since", TS, nullable=False),
        sa.Column("typical_size", sa.Integer),
        sa.Column("typical_html", sa.Boolean),
        sa.Column("placeholder", sa.Text),
        sa.Column("placeholder_at", TS),
    )
    op.create_index(
        "ix_seen_entries_source_first_seen", "seen_entries", ["source", "first_seen_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_seen_entries_source_first_seen", table_name="seen_entries")
    op.drop_table("source_health")
