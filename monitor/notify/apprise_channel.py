"""The Apprise channel (`type: apprise`): Teams, Telegram, Discord, ntfy, Matrix... by URL.

The Apprise URL is a credential, so it is a SecretRef and registered with the log redactor.
Apprise gets one URL, no config files, no plugin directories and no image URLs (so it fetches
nothing and points receivers at nothing but our text): its only network I/O is to the target.
Apprise reports only success or failure, so every failure is retried (see `classify`). The title
may become a mail Subject (mailto://), so it is made header-safe like the email channel's.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from typing import Any

import apprise
from pydantic import Field

from monitor.config.secrets import Secret, SecretRef
from monitor.config.types import Seconds
from monitor.errors import DeliveryError
from monitor.notify.base import (
    AlertBatch,
    AlertMessage,
    ChannelDeps,
    ChannelOptionsBase,
    ChannelPolicy,
    ChannelRegistry,
    ChannelType,
)
from monitor.notify.classify import apprise_failed
from monitor.notify.headers import header_safe
from monitor.notify.render import batch_text, plain_text

# Apprise imports the deprecated `imghdr` lazily, inside notify(); import it once here, quietly,
# so that a send never raises a DeprecationWarning where warnings are errors.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    importlib.import_module("imghdr")


class AppriseOptions(ChannelOptionsBase):
    type: str = "apprise"
    url: SecretRef = Field(description="the Apprise URL, e.g. tgram://TOKEN/CHAT: {env: NAME}")
    timeout: Seconds = Field(default=15.0, gt=0, le=300)


def _client(url: Secret, timeout: float) -> Any:
    asset = apprise.AppriseAsset(plugin_paths=[], service_timeout=timeout, allow_templates=False)
    asset.image_url_mask = ""
    asset.image_url_logo = ""
    client = apprise.Apprise(asset=asset)
    if not client.add(url.reveal()):
        raise DeliveryError("apprise URL not understood by Apprise", retryable=False)
    return client


class AppriseNotifier:
    def __init__(self, channel: str, *, url: Secret, timeout: float,
                 policy: ChannelPolicy | None = None) -> None:
        self.channel = channel
        self.policy = policy or ChannelPolicy()
        self._url = url
        self._timeout = timeout

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        self._notify(header_safe(f"{alert.rule}: {alert.headline}", 250), plain_text(alert))

    def send_batch(self, batch: AlertBatch, *, idempotency_key: str) -> None:
        self._notify(header_safe(batch.title, 250), batch_text(batch))

    def _notify(self, title: str, body: str) -> None:
        client = _client(self._url, self._timeout)
        ok = client.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT,
                           interpret_escapes=False)
        if not ok:
            raise apprise_failed(f"apprise {self.channel}")


def _build(channel: str, options: AppriseOptions, deps: ChannelDeps) -> AppriseNotifier:
    url = options.url.resolve(deps.environ)
    deps.redactor.add(url.reveal())
    return AppriseNotifier(channel, url=url, timeout=options.timeout, policy=options.policy())


def register(registry: ChannelRegistry) -> None:
    registry.register(ChannelType("apprise", AppriseOptions, _build))
