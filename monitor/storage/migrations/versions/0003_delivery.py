"""Delivery state: attempt history, retry start, disabled endpoints, operator notices."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_delivery"
down_revision = "0002_dedup"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id", sa.BigInteger, sa.ForeignKey("deliveries.id"), nullable=False, index=True
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("message_key", sa.String(100), nullable=False),
    )
    op.create_table(
        "delivery_progress",
        sa.Column("delivery_id", sa.BigInteger, sa.ForeignKey("deliveries.id"), primary_key=True),
        sa.Column("first_attempt_at", TS),
        sa.Column("carriers_shown", sa.Integer, nullable=False),
    )
    op.create_table(
        "delivery_channels",
        sa.Column("channel", sa.String(200), primary_key=True),
        sa.Column("disabled_at", TS),
        sa.Column("disabled_reason", sa.Text),
    )
    op.create_table(
        "operator_notices",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("notice_key", sa.String(300), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("notice_key", "channel", name="uq_operator_notices_key_channel"),
    )


def downgrade() -> None:
    for table in (
        "operator_notices",
        "delivery_channels",
        "delivery_progress",
        "delivery_attempts",
    ):
        op.drop_table(table)
