"""The generic JSON webhook channel, signed the Standard Webhooks way.

Headers: `webhook-id` (the idempotency key, the same on every retry), `webhook-timestamp` (Unix
seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry per
active secret so a secret can be rotated without downtime).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence

import httpx
from pydantic import Field

from monitor.config.secrets import Secret, SecretRef
from monitor.config.types import Seconds
from monitor.notify.base import (
    AlertBatch,
    AlertMessage,
    ChannelDeps,
    ChannelOptionsBase,
    ChannelPolicy,
    ChannelRegistry,
    ChannelType,
)
from monitor.notify.classify import check_response, transport_error
from monitor.notify.payload import alert_payload, batch_payload, encode


class WebhookOptions(ChannelOptionsBase):
    type: str = "webhook"
    url: str | SecretRef = Field(description="receiver URL; {env: NAME} when it embeds a token")
    secrets: tuple[SecretRef, ...] = Field(
        default=(), description="signing secrets (whsec_... base64); two during rotation"
    )
    timeout: Seconds = Field(default=15.0, gt=0, le=300)


def _secret_key(secret: Secret) -> bytes:
    raw = secret.reveal()
    if raw.startswith("whsec_"):
        return base64.b64decode(raw.removeprefix("whsec_"))
    return raw.encode("utf-8")


def sign(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[Secret]) -> str:
    """The `webhook-signature` header value for these secrets (space-separated `v1,` entries)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    entries = []
    for secret in secrets:
        digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
        entries.append("v1," + base64.b64encode(digest).decode())
    return " ".join(entries)


class WebhookNotifier:
    def __init__(
        self,
        channel: str,
        *,
        http: httpx.Client,
        url: Secret,
        secrets: Sequence[Secret],
        timeout: float,
        clock: Callable[[], float] = time.time,
        policy: ChannelPolicy | None = None,
    ) -> None:
        self.channel = channel
        self.policy = policy or ChannelPolicy()
        self._http = http
        self._url = url
        self._secrets = tuple(secrets)
        self._timeout = timeout
        self._clock = clock

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        self._post(encode(alert_payload(alert, channel=self.channel)), idempotency_key)

    def send_batch(self, batch: AlertBatch, *, idempotency_key: str) -> None:
        self._post(encode(batch_payload(batch)), idempotency_key)

    def _post(self, body: bytes, idempotency_key: str) -> None:
        timestamp = int(self._clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": idempotency_key,
            "webhook-timestamp": str(timestamp),
        }
        if self._secrets:
            headers["webhook-signature"] = sign(idempotency_key, timestamp, body, self._secrets)
        what = f"webhook {self.channel}"
        try:
            response = self._http.post(
                self._url.reveal(), content=body, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from None
        check_response(response, what)


def _build(channel: str, options: WebhookOptions, deps: ChannelDeps) -> WebhookNotifier:
    url = options.url.resolve(deps.environ) if isinstance(options.url, SecretRef) else Secret(
        options.url
    )
    secrets = [ref.resolve(deps.environ) for ref in options.secrets]
    for secret in (url, *secrets):
        deps.redactor.add(secret.reveal())
    return WebhookNotifier(
        channel,
        http=deps.http,
        url=url,
        secrets=secrets,
        timeout=options.timeout,
        policy=options.policy(),
    )


def register(registry: ChannelRegistry) -> None:
    registry.register(ChannelType("webhook", WebhookOptions, _build))
