"""Email over a real aiosmtpd server on loopback: 250 accepted, 451 retried, 550 failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from monitor.delivery.settings import DeliverySettings
from monitor.delivery.worker import DeliveryWorker
from monitor.notify.base import ChannelDeps
from monitor.notify.email import EmailNotifier, EmailOptions, _build
from monitor.storage.tables import deliveries
from tests.delivery.conftest import FakeClock, add_alerts
from tests.support.receivers import SmtpServer

pytestmark = pytest.mark.e2e


def email_notifier(port: int, **extra: object) -> EmailNotifier:
    options = EmailOptions.model_validate({
        "type": "email", "host": "127.0.0.1", "port": port, "security": "none",
        "from": "monitor@example.org", "to": ["desk@example.org"], **extra})
    import httpx

    return _build("mail", options, ChannelDeps(http=httpx.Client(), environ={"SMTP_PW": "pw"}))


def test_451_retries_then_250_with_the_same_message_id(engine: Engine, clock: FakeClock) -> None:
    add_alerts(engine, 1, channels=("mail",), now=clock())
    with SmtpServer() as smtp:
        smtp.script.append("451 4.3.0 try again later")
        worker = DeliveryWorker(engine, {"mail": email_notifier(smtp.port)}, clock=clock,
                                owner="t", settings=DeliverySettings(grouping_window=timedelta(0)))
        assert worker.deliver_due().retrying == 1
        clock.advance(timedelta(minutes=5))
        assert worker.deliver_due().sent == 1
    with engine.connect() as conn:
        key = conn.execute(select(deliveries.c.idempotency_key)).scalar_one()
    (message,) = smtp.messages
    assert message["Message-ID"] == f"<{key}@news-monitor>"
    assert message.is_multipart()
    kinds = [part.get_content_type() for part in message.walk()]
    assert "text/plain" in kinds and "text/html" in kinds


def test_550_fails_permanently(engine: Engine, clock: FakeClock) -> None:
    add_alerts(engine, 1, channels=("mail",), now=clock())
    with SmtpServer() as smtp:
        smtp.script.append("550 5.1.1 mailbox unavailable")
        worker = DeliveryWorker(engine, {"mail": email_notifier(smtp.port)}, clock=clock,
                                owner="t", settings=DeliverySettings())
        report = worker.deliver_due()
    assert report.failed == 1 and "SMTP 550" in report.errors[0]
    with engine.connect() as conn:
        assert conn.execute(select(deliveries.c.state)).scalar_one() == "failed"


def test_daily_digest_is_one_email_with_text_and_html(engine: Engine, clock: FakeClock) -> None:
    add_alerts(engine, 3, channels=("mail",), now=clock())
    with SmtpServer() as smtp:
        worker = DeliveryWorker(engine, {"mail": email_notifier(smtp.port, digest="daily")},
                                clock=clock, owner="t", settings=DeliverySettings())
        assert worker.deliver_due().sent == 0
        clock.advance(timedelta(hours=12))
        assert worker.deliver_due().sent == 3
    (message,) = smtp.messages
    assert "3 digest for wagner-sahel" in message["Subject"]
    text = message.get_payload()[0].get_payload(decode=True).decode()
    assert text.count("Civilians killed near Moura") == 3
