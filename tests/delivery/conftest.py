"""Fixtures for delivery tests: a migrated database, a fake clock, alerts in the outbox."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from monitor.delivery.outbox import enqueue
from monitor.notify.base import AlertBatch, AlertMessage, ChannelPolicy
from monitor.storage.db import open_database
from monitor.storage.tables import articles

START = datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class RecordingNotifier:
    """An in-memory batch-capable notifier (used as the operator channel)."""

    def __init__(self, channel: str, policy: ChannelPolicy | None = None) -> None:
        self.channel = channel
        self.policy = policy or ChannelPolicy()
        self.sent: list[tuple[str, AlertMessage]] = []
        self.batches: list[tuple[str, AlertBatch]] = []

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        self.sent.append((idempotency_key, alert))

    def send_batch(self, batch: AlertBatch, *, idempotency_key: str) -> None:
        self.batches.append((idempotency_key, batch))


@pytest.fixture
def engine(tmp_path: Any) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'delivery.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def add_alerts(engine: Engine, count: int, *, channels: tuple[str, ...], now: datetime,
               rule: str = "wagner-sahel", headline: str = "Civilians killed near Moura",
               delivery: str = "immediate", story_base: int = 1000) -> list[int]:
    """Insert `count` articles and their alerts; returns the alert ids."""
    ids = []
    with engine.begin() as conn:
        for i in range(count):
            article_id = conn.execute(articles.insert().values(
                source="ap", url=f"https://example.org/a/{story_base + i}",
                canonical_url=f"https://example.org/a/{story_base + i}", title=headline,
                text="text", fetched_at=now, extraction="feed", tags=[],
            )).inserted_primary_key[0]  # type: ignore[index]
            payload = {
                "headline": f"{headline} #{i}", "url": f"https://example.org/a/{story_base + i}",
                "source": "AP", "published": now.isoformat(), "language": "en",
                "passages": [{"field": "body", "text": "Wagner fighters killed civilians",
                              "highlights": [[0, 6]], "clause": "@wagner"}],
            }
            alert_id = enqueue(conn, rule=rule, story_id=story_base + i, article_id=article_id,
                               payload=payload, channels=channels, now=now, delivery=delivery)
            assert alert_id is not None
            ids.append(alert_id)
    return ids


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()
