"""Real webhook payloads (single alerts and batches) validate against the documented schema."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy import Engine

from monitor.config.secrets import Secret
from monitor.delivery.settings import DeliverySettings
from monitor.delivery.worker import DeliveryWorker
from monitor.notify.webhook import WebhookNotifier
from tests.conftest import ROOT
from tests.delivery.conftest import FakeClock, add_alerts
from tests.delivery.schema_check import errors
from tests.support.receivers import WebhookReceiver

SCHEMA = json.loads((ROOT / "docs" / "webhook-payload.schema.json").read_text())


def test_sent_payloads_match_the_schema(engine: Engine, clock: FakeClock) -> None:
    add_alerts(engine, 1, channels=("hook",), now=clock())
    with WebhookReceiver() as receiver, httpx.Client() as http:
        hook = WebhookNotifier("hook", http=http, url=Secret(receiver.url), secrets=(), timeout=5)
        worker = DeliveryWorker(engine, {"hook": hook}, clock=clock, owner="t",
                                settings=DeliverySettings(grouping_window=timedelta(minutes=1)))
        worker.deliver_due()
        add_alerts(engine, 4, channels=("hook",), now=clock(), story_base=2000)
        worker.deliver_due()  # deferred: inside the grouping window
        clock.advance(timedelta(minutes=2))
        worker.deliver_due()
    kinds = [hit.payload["type"] for hit in receiver.hits]
    assert kinds == ["alert", "batch"], "a burst after an alert becomes one grouped message"
    assert len(receiver.hits[1].payload["alerts"]) == 4
    for hit in receiver.hits:
        assert errors(hit.payload, SCHEMA, SCHEMA) == []


def test_schema_checker_rejects_a_wrong_payload() -> None:
    assert errors({"type": "alert"}, SCHEMA, SCHEMA)
