"""End-to-end webhook delivery over a real loopback HTTP receiver, with a fake worker clock."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from monitor.config.secrets import Secret
from monitor.delivery.settings import DeliverySettings
from monitor.delivery.tables import delivery_attempts, delivery_channels, operator_notices
from monitor.delivery.worker import DeliveryWorker
from monitor.notify.webhook import WebhookNotifier
from monitor.storage.tables import deliveries
from tests.delivery.conftest import FakeClock, RecordingNotifier, add_alerts
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.e2e

OLD = "whsec_" + base64.b64encode(b"old-secret-0123456789abcdef").decode()
NEW = "whsec_" + base64.b64encode(b"new-secret-0123456789abcdef").decode()


def worker_for(engine: Engine, receiver: WebhookReceiver, clock: FakeClock, http: httpx.Client,
               ops: RecordingNotifier | None = None, **settings: Any) -> DeliveryWorker:
    hook = WebhookNotifier("hook", http=http, url=Secret(receiver.url),
                           secrets=[Secret(OLD), Secret(NEW)], timeout=5)
    notifiers: dict[str, Any] = {"hook": hook}
    if ops is not None:
        notifiers["ops"] = ops
    options = {"grouping_window": timedelta(0), "operator_channels": ("ops",), **settings}
    return DeliveryWorker(engine, notifiers, clock=clock, owner="test",
                          settings=DeliverySettings(**options))


def states(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(deliveries.c.state).order_by(deliveries.c.id)).scalars())


def test_signed_with_both_rotation_secrets_and_verified_independently(
    engine: Engine, clock: FakeClock
) -> None:
    add_alerts(engine, 2, channels=("hook",), now=clock())
    with WebhookReceiver(secrets=(NEW,)) as new_only, httpx.Client() as http:
        report = worker_for(engine, new_only, clock, http).deliver_due()
    assert report.sent == 2
    assert all(hit.verified for hit in new_only.hits)
    assert all(len(hit.headers["webhook-signature"].split()) == 2 for hit in new_only.hits)
    assert states(engine) == ["sent", "sent"]


def test_500_then_success_reuses_the_idempotency_key(engine: Engine, clock: FakeClock) -> None:
    add_alerts(engine, 1, channels=("hook",), now=clock())
    with WebhookReceiver(secrets=(OLD,)) as receiver, httpx.Client() as http:
        receiver.script.extend([500, 503])
        worker = worker_for(engine, receiver, clock, http)
        assert worker.deliver_due().retrying == 1
        assert worker.deliver_due().sent == 0  # not due yet: the backoff is persisted
        for _ in range(2):
            clock.advance(timedelta(minutes=5))
            worker.deliver_due()
    keys = [hit.headers["webhook-id"] for hit in receiver.hits]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert states(engine) == ["sent"]
    with engine.connect() as conn:
        outcomes = conn.execute(select(delivery_attempts.c.outcome)).scalars().all()
    assert outcomes == ["retrying", "retrying", "sent"]


def test_429_retry_after_is_honoured(engine: Engine, clock: FakeClock) -> None:
    add_alerts(engine, 1, channels=("hook",), now=clock())
    with WebhookReceiver() as receiver, httpx.Client() as http:
        receiver.script.append((429, "3600"))
        worker = worker_for(engine, receiver, clock, http)
        worker.deliver_due()
        with engine.connect() as conn:
            due = conn.execute(select(deliveries.c.next_attempt_at)).scalar_one()
        assert due >= clock() + timedelta(seconds=3600)
        clock.advance(timedelta(minutes=59))
        assert worker.deliver_due().sent == 0
        clock.advance(timedelta(minutes=2))
        assert worker.deliver_due().sent == 1


def test_410_disables_the_endpoint_and_tells_the_operator_once(
    engine: Engine, clock: FakeClock
) -> None:
    add_alerts(engine, 3, channels=("hook",), now=clock())
    ops = RecordingNotifier("ops")
    with WebhookReceiver() as receiver, httpx.Client() as http:
        receiver.default = 410
        worker = worker_for(engine, receiver, clock, http, ops=ops, batch_size=1)
        for _ in range(4):
            worker.deliver_due()
            clock.advance(timedelta(minutes=1))
    assert len(receiver.hits) == 1  # the other two never tried: the channel is disabled
    assert states(engine) == ["failed", "failed", "failed"]
    with engine.connect() as conn:
        assert conn.execute(select(delivery_channels.c.channel)).scalars().all() == ["hook"]
        notices = conn.execute(select(operator_notices.c.state)).scalars().all()
    assert notices == ["sent"]
    assert len(ops.sent) == 1 and "410" in ops.sent[0][1].headline


def test_permanent_4xx_fails_without_retry(engine: Engine, clock: FakeClock) -> None:
    add_alerts(engine, 1, channels=("hook",), now=clock())
    ops = RecordingNotifier("ops")
    with WebhookReceiver() as receiver, httpx.Client() as http:
        receiver.default = 400
        worker_for(engine, receiver, clock, http, ops=ops).deliver_due()
    assert states(engine) == ["failed"]
    assert len(ops.sent) == 1


def test_a_stalling_receiver_is_cut_off_by_the_deadline(engine: Engine, clock: FakeClock) -> None:
    add_alerts(engine, 1, channels=("hook",), now=clock())
    with WebhookReceiver(stall_seconds=2.0) as receiver, httpx.Client() as http:
        receiver.script.append("stall")
        worker = worker_for(engine, receiver, clock, http,
                            attempt_deadline=timedelta(seconds=0.3))
        import time

        started = time.monotonic()
        report = worker.deliver_due()
        assert time.monotonic() - started < 1.5
        assert report.retrying == 1 and "deadline" in report.errors[0]


def test_receiver_down_for_a_day_loses_nothing(engine: Engine, clock: FakeClock) -> None:
    ids = add_alerts(engine, 25, channels=("hook",), now=clock())
    with WebhookReceiver(secrets=(OLD,)) as receiver, httpx.Client() as http:
        receiver.default = 503
        worker = worker_for(engine, receiver, clock, http)
        end_of_outage = clock() + timedelta(hours=24)
        for _ in range(26 * 6):
            if clock() >= end_of_outage:
                receiver.default = 204
            worker.deliver_due()
            clock.advance(timedelta(minutes=10))
    accepted = receiver.accepted()
    received = Counter(alert_id for hit in accepted for alert_id in hit.alert_ids)
    assert set(received) == set(ids), "every alert arrives"
    assert all(hit.verified for hit in receiver.hits)
    keys_per_alert: dict[int, set[str]] = {}
    for hit in receiver.hits:
        keys_per_alert.setdefault(hit.payload["alert_id"], set()).add(hit.headers["webhook-id"])
    assert all(len(keys) == 1 for keys in keys_per_alert.values())
    assert states(engine) == ["sent"] * 25


def test_schedule_spent_dead_letters_and_replay_resends_same_key(
    engine: Engine, clock: FakeClock
) -> None:
    from monitor.delivery.queries import requeue

    ids = add_alerts(engine, 1, channels=("hook",), now=clock())
    ops = RecordingNotifier("ops")
    with WebhookReceiver() as receiver, httpx.Client() as http:
        receiver.default = 503
        worker = worker_for(engine, receiver, clock, http, ops=ops,
                            give_up_after=timedelta(hours=2))
        for _ in range(20):
            worker.deliver_due()
            clock.advance(timedelta(minutes=15))
        assert states(engine) == ["dead"]
        assert len(ops.sent) == 1, "the operator is told once"
        receiver.default = 204
        assert requeue(engine, now=clock(), alert_ids=ids) == 1
        assert worker.deliver_due().sent == 1
    assert len({hit.headers["webhook-id"] for hit in receiver.hits}) == 1
    assert len(ops.sent) == 1
