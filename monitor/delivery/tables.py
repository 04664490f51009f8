"""Delivery state beyond the outbox rows: attempt history, retry start, endpoints, notices.

`delivery_attempts` records every attempt (audit and `monitor alerts`); `delivery_progress`
holds when a delivery's retry schedule started (reset by replay) and how many other outlets the
last message showed (so digests can list updated stories); `delivery_channels` holds endpoints
disabled after HTTP 410; `operator_notices` is the small outbox of messages to the operator
(dead letters, disabled endpoints), one row per (notice, operator channel), so each is told once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from monitor.storage.tables import Id, UTCDateTime, metadata

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", UTCDateTime(), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("error", Text),
    Column("message_key", String(100), nullable=False),
)

delivery_progress = Table(
    "delivery_progress",
    metadata,
    Column("delivery_id", BigInteger, ForeignKey("deliveries.id"), primary_key=True),
    Column("first_attempt_at", UTCDateTime()),
    Column("carriers_shown", Integer, nullable=False, default=0),
)

delivery_channels = Table(
    "delivery_channels",
    metadata,
    Column("channel", String(200), primary_key=True),
    Column("disabled_at", UTCDateTime()),
    Column("disabled_reason", Text),
)

operator_notices = Table(
    "operator_notices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("notice_key", String(300), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime()),
    UniqueConstraint("notice_key", "channel", name="uq_operator_notices_key_channel"),
)
