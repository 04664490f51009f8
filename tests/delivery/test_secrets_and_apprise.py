"""Secrets never leak (logs, errors, DB, CLI output); Apprise reaches a loopback json:// target."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from monitor.config.models import ChannelSpec
from monitor.delivery.cli import alerts
from monitor.delivery.factory import build_notifiers
from monitor.delivery.settings import DeliverySettings
from monitor.delivery.tables import delivery_attempts, operator_notices
from monitor.delivery.worker import DeliveryWorker
from monitor.notify.base import ChannelDeps
from monitor.notify.registry import builtin_registry
from monitor.storage.tables import deliveries
from tests.delivery.conftest import FakeClock, add_alerts
from tests.support.receivers import SmtpServer, WebhookReceiver

pytestmark = pytest.mark.e2e


def specs(raw: dict[str, dict[str, Any]]) -> dict[str, ChannelSpec]:
    registry = builtin_registry()
    result = {}
    for name, entry in raw.items():
        channel_type = registry.get(entry["type"])
        assert channel_type is not None
        options = channel_type.options_model.model_validate(entry)
        result[name] = ChannelSpec(name=name, type=entry["type"], options=options)
    return result


class App:
    def __init__(self, engine: Engine, notifiers: Any, clock: FakeClock) -> None:
        self._engine, self._notifiers, self._clock = engine, notifiers, clock

    def engine(self) -> Engine:
        return self._engine

    def notifiers(self) -> Any:
        return self._notifiers

    def clock(self) -> Any:
        return self._clock()

    def delivery_settings(self) -> DeliverySettings:
        return DeliverySettings(operator_channels=("hook",))


def test_sentinel_secrets_appear_nowhere(engine: Engine, clock: FakeClock,
                                         caplog: pytest.LogCaptureFixture,
                                         capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    with WebhookReceiver() as receiver, SmtpServer(auth_fails=True) as smtp, \
            httpx.Client() as http:
        receiver.default = 500
        port = receiver.url.split(":")[2].split("/")[0]
        sentinels = {
            "SLACK_URL": f"http://127.0.0.1:{port}/services/T0/B0/SentinelSlack7781",
            "HOOK_URL": f"http://127.0.0.1:{port}/hook/SentinelHook5512",
            "HOOK_SECRET": "whsec_" + base64.b64encode(b"SentinelSigningKey-42").decode(),
            "SMTP_PW": "SentinelSmtpPassword9931",
            "APPRISE_URL": f"json://127.0.0.1:{port}/SentinelApprise3317",
        }
        channels = specs({
            "slack": {"type": "slack", "url": {"env": "SLACK_URL"}},
            "hook": {"type": "webhook", "url": {"env": "HOOK_URL"},
                     "secrets": [{"env": "HOOK_SECRET"}]},
            "mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port,
                     "security": "none", "username": "u", "password": {"env": "SMTP_PW"},
                     "from": "a@b.c", "to": ["d@e.f"]},
            "push": {"type": "apprise", "url": {"env": "APPRISE_URL"}},
        })
        deps = ChannelDeps(http=http, environ=sentinels)
        notifiers = build_notifiers(channels, builtin_registry(), deps)
        add_alerts(engine, 2, channels=tuple(channels), now=clock())
        worker = DeliveryWorker(engine, notifiers, clock=clock, owner="t", settings=
                                DeliverySettings(give_up_after=timedelta(minutes=30),
                                                 operator_channels=("hook",)))
        errors: list[str] = []
        for _ in range(8):
            errors += worker.deliver_due().errors
            clock.advance(timedelta(minutes=10))
        result = CliRunner().invoke(alerts, ["--since", "30d"],
                                    obj=App(engine, notifiers, clock))
        replay = CliRunner().invoke(alerts, ["replay", "1"], obj=App(engine, notifiers, clock))
    with engine.connect() as conn:
        stored = [str(x) for x in conn.execute(select(deliveries.c.last_error)).scalars()]
        stored += [str(x) for x in conn.execute(select(delivery_attempts.c.error)).scalars()]
        stored += [str(x) for x in conn.execute(select(operator_notices.c.body)).scalars()]
    out, err = capfd.readouterr()
    haystack = "\n".join([caplog.text, *errors, *stored, result.output, replay.output, out, err,
                          *(repr(n) for n in notifiers.values())])
    assert errors and "HTTP 500" in haystack
    assert "SMTP 535" in haystack or "SMTPAuthenticationError" in haystack
    for name, value in sentinels.items():
        for fragment in {value, value.split("/")[-1], base64.b64decode(
                value[6:]).decode() if name == "HOOK_SECRET" else value}:
            assert fragment not in haystack, f"{name} leaked"


def test_apprise_json_target_on_loopback(engine: Engine, clock: FakeClock) -> None:
    with WebhookReceiver() as receiver, httpx.Client() as http:
        target = receiver.url.replace("http://", "json://")
        channels = specs({"push": {"type": "apprise", "url": {"env": "A"}}})
        notifiers = build_notifiers(channels, builtin_registry(),
                                    ChannelDeps(http=http, environ={"A": target}))
        add_alerts(engine, 1, channels=("push",), now=clock())
        worker = DeliveryWorker(engine, notifiers, clock=clock, owner="t")
        assert worker.deliver_due().sent == 1
        receiver.default = 500
        add_alerts(engine, 1, channels=("push",), now=clock(), story_base=5000)
        clock.advance(timedelta(minutes=5))
        assert worker.deliver_due().retrying == 1
    body = receiver.hits[0].payload
    assert "Civilians killed near Moura" in body["title"]
    assert "Matched passages" in body["message"]
