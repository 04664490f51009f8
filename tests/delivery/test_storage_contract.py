"""The delivery state machine against every storage backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from monitor.delivery import claims
from monitor.delivery.queries import list_alerts, requeue
from monitor.delivery.settings import DeliverySettings
from monitor.delivery.worker import DeliveryWorker
from monitor.errors import DeliveryError
from monitor.notify.base import AlertMessage
from monitor.storage.db import open_database
from monitor.storage.tables import deliveries
from tests.delivery.conftest import FakeClock, RecordingNotifier, add_alerts


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    engine = open_database(db_url)
    yield engine
    engine.dispose()


class Flaky(RecordingNotifier):
    def __init__(self, channel: str, failures: int) -> None:
        super().__init__(channel)
        self.failures = failures

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        if self.failures:
            self.failures -= 1
            raise DeliveryError("boom", retryable=True)
        super().send(alert, idempotency_key=idempotency_key)


def test_claims_are_exclusive_until_the_lease_expires(store: Engine, clock: FakeClock) -> None:
    add_alerts(store, 3, channels=("a",), now=clock())
    first = claims.claim(store, "one", clock(), timedelta(minutes=5), 10)
    second = claims.claim(store, "two", clock(), timedelta(minutes=5), 10)
    assert len(first) == 3 and second == []
    clock.advance(timedelta(minutes=6))
    assert len(claims.claim(store, "two", clock(), timedelta(minutes=5), 10)) == 3


def test_retry_then_sent_then_replay_keeps_the_key(store: Engine, clock: FakeClock) -> None:
    ids = add_alerts(store, 1, channels=("a",), now=clock())
    notifier = Flaky("a", failures=1)
    worker = DeliveryWorker(store, {"a": notifier}, clock=clock, owner="w",
                            settings=DeliverySettings(grouping_window=timedelta(0)))
    assert worker.deliver_due().retrying == 1
    clock.advance(timedelta(minutes=2))
    assert worker.deliver_due().sent == 1
    assert requeue(store, now=clock(), alert_ids=ids, states=("sent",)) == 1
    assert worker.deliver_due().sent == 1
    keys = {key for key, _ in notifier.sent}
    assert len(notifier.sent) == 2 and len(keys) == 1
    (row,) = list_alerts(store, since=None, state=None, limit=10)
    assert row.deliveries[0].state == "sent" and row.deliveries[0].attempts == 3
    with store.connect() as conn:
        assert conn.execute(select(deliveries.c.idempotency_key)).scalar_one() in keys
