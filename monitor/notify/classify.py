"""The one place that decides what a receiver's answer means for a delivery.

Every channel translates its library's outcome here into "accepted" (return) or a
`DeliveryError` that says whether to retry, when (Retry-After), or to disable the endpoint:

- HTTP 2xx accepted; 408, 429, 5xx, connection errors and timeouts retry (Retry-After honoured);
  410 Gone disables the endpoint; any other 4xx fails for good.
- SMTP 2yz accepted; 4yz retries; 5yz fails for good; a dropped connection retries.

Messages never include URLs, hosts or credentials: they may be secret.
"""

from __future__ import annotations

import smtplib

import httpx

from monitor.errors import DeliveryError
from monitor.notify.http_status import retry_after_seconds

MAX_RETRY_AFTER = 24 * 3600.0


def http_status(status: int, retry_after: str | None, what: str) -> None:
    """Return on 2xx; otherwise raise the classified DeliveryError."""
    if 200 <= status < 300:
        return
    if status in (408, 429) or status >= 500:
        delay = retry_after_seconds(retry_after)
        raise DeliveryError(
            f"{what} answered HTTP {status}", retryable=True,
            retry_after=min(delay, MAX_RETRY_AFTER) if delay is not None else None,
        )
    if status == 410:
        raise DeliveryError(
            f"{what} answered HTTP 410 Gone", retryable=False, disable_endpoint=True
        )
    raise DeliveryError(f"{what} answered HTTP {status}", retryable=False)


def check_response(response: httpx.Response, what: str) -> None:
    http_status(response.status_code, response.headers.get("retry-after"), what)


def transport_error(exc: httpx.HTTPError, what: str) -> DeliveryError:
    """An httpx failure before any answer: always worth retrying (never includes the URL)."""
    return DeliveryError(f"{what}: {type(exc).__name__}", retryable=True)


def smtp_error(exc: Exception, what: str) -> DeliveryError:
    """Translate an smtplib / socket failure."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        retry = bool(codes) and all(400 <= code < 500 for code in codes)
        lowest = min(codes, default=0)
        return DeliveryError(f"{what}: recipients refused ({lowest})", retryable=retry)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return DeliveryError(f"{what}: SMTP {code}", retryable=code < 500)
    return DeliveryError(f"{what}: {type(exc).__name__}", retryable=True)


def timed_out(what: str, seconds: float) -> DeliveryError:
    return DeliveryError(f"{what}: no answer within the {seconds:g}s deadline", retryable=True)


def unexpected(exc: BaseException, what: str) -> DeliveryError:
    """A notifier bug: retried, and described by type only (its text may hold a secret)."""
    return DeliveryError(f"{what}: internal error {type(exc).__name__}", retryable=True)


def apprise_failed(what: str) -> DeliveryError:
    """Apprise says only "not sent": retry (it cannot tell a 410 from a 503)."""
    return DeliveryError(f"{what}: the service did not accept the notification", retryable=True)
