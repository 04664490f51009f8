"""The Slack channel: an incoming webhook receiving Block Kit messages.

Feed text is untrusted. Everything it contributes goes through :func:`escape` (`&`, `<`, `>`
become entities, so `<!channel>`, `<@U123>` and `<http://evil|click>` show as text) inside
`verbatim` mrkdwn objects (Slack does not auto-link URLs or names there) or `plain_text` objects.
The only link is the article's own URL, accepted only as http(s) and with `|`, `<`, `>` and
spaces percent-encoded so it cannot close the link syntax.
"""

from __future__ import annotations

import re
from typing import Any

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
from monitor.notify.payload import encode
from monitor.notify.render import mark, one_line

MAX_BLOCKS = 50
_UNSAFE_IN_LINK = re.compile(r"[|<>\s\"']")


class SlackOptions(ChannelOptionsBase):
    type: str = "slack"
    url: SecretRef = Field(description="the incoming-webhook URL (a credential): {env: NAME}")
    timeout: Seconds = Field(default=15.0, gt=0, le=300)
    rate_limit: float | None = Field(default=1.0, gt=0, description="Slack allows ~1 msg/s")


def entities(text: str) -> str:
    """`&<>` as entities (for text already made one safe line, e.g. by `mark`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(text: str, limit: int = 300) -> str:
    """Untrusted text for Slack mrkdwn: one line, control-free, `&<>` as entities."""
    return entities(one_line(text, limit))


def plain(text: str, limit: int = 150) -> str:
    """Untrusted text for a `plain_text` object: angle brackets become look-alikes, so nothing
    Slack might parse as a mention or link survives even if the object type were changed."""
    return one_line(text, limit).replace("<", "‹").replace(">", "›")


def safe_link(url: str, label: str) -> str:
    """`<url|label>` for an http(s) URL, or the escaped label alone."""
    url = one_line(url, 2000)
    if not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
        return escape(label)
    encoded = _UNSAFE_IN_LINK.sub(lambda m: f"%{ord(m.group()):02X}", url)
    return f"<{encoded}|{escape(label, 150)}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text[:3000], "verbatim": True}


def _meta(alert: AlertMessage) -> str:
    when = f" · {alert.published:%Y-%m-%d %H:%M} UTC" if alert.published else ""
    return f"*Rule:* {escape(alert.rule)} · *Source:* {escape(alert.source)}{when}"


def alert_blocks(alert: AlertMessage) -> list[dict[str, Any]]:
    """Headline, source, highlighted passages, rule, other outlets, link."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(alert.headline),
                                    "emoji": False}},
        {"type": "section", "text": _mrkdwn(_meta(alert))},
    ]
    for passage in alert.passages[:5]:
        # mark() cleans the text (so the markers cannot come from the feed); the pieces keep
        # their spaces, which re-trimming each one with escape() would lose
        text = mark(passage, "\x00", "\x01", escape=entities)
        text = text.replace("\x00", "*").replace("\x01", "*")
        blocks.append({"type": "section", "text": _mrkdwn(
            f">{text[:2500]}\n_{escape(passage.clause, 200)}_")})
    if alert.also_carried_by:
        names = ", ".join(escape(c.source, 80) for c in alert.also_carried_by[:20])
        more = len(alert.also_carried_by) - 20
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"Also carried by: {names}" + (f" and {more} more" if more > 0 else ""))]})
    blocks.append({"type": "section", "text": _mrkdwn(safe_link(alert.url, "Read the article"))})
    return blocks


def _line(alert: AlertMessage) -> str:
    link = safe_link(alert.url, alert.headline)
    return f"• {link} — {escape(alert.source, 80)} ({escape(alert.rule, 80)})"


def batch_blocks(batch: AlertBatch) -> list[dict[str, Any]]:
    """A compact list: one line per alert, packed into sections of at most 3000 characters."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(batch.title)}}
    ]
    lines = [_line(a) for a in batch.alerts]
    if batch.updates:
        lines.append("*Updated stories (new outlets):*")
        lines += [_line(a) + f" +{len(a.also_carried_by)} outlets" for a in batch.updates]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
    if len(blocks) > MAX_BLOCKS:
        hidden = len(blocks) - MAX_BLOCKS + 1
        note = f"{hidden} more sections not shown: run `monitor alerts` for the full list"
        blocks = [*blocks[: MAX_BLOCKS - 1], {"type": "context", "elements": [_mrkdwn(note)]}]
    return blocks


class SlackNotifier:
    def __init__(self, channel: str, *, http: httpx.Client, url: Secret, timeout: float,
                 policy: ChannelPolicy | None = None) -> None:
        self.channel = channel
        self.policy = policy or ChannelPolicy(rate_limit=1.0)
        self._http = http
        self._url = url
        self._timeout = timeout

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        text = escape(f"{alert.rule}: {alert.headline}")
        self._post({"text": text, "blocks": alert_blocks(alert)})

    def send_batch(self, batch: AlertBatch, *, idempotency_key: str) -> None:
        self._post({"text": escape(batch.title), "blocks": batch_blocks(batch)})

    def _post(self, message: dict[str, Any]) -> None:
        what = f"slack {self.channel}"
        try:
            response = self._http.post(
                self._url.reveal(), content=encode(message),
                headers={"content-type": "application/json"}, timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from None
        check_response(response, what)


def _build(channel: str, options: SlackOptions, deps: ChannelDeps) -> SlackNotifier:
    url = options.url.resolve(deps.environ)
    deps.redactor.add(url.reveal())
    return SlackNotifier(channel, http=deps.http, url=url, timeout=options.timeout,
                         policy=options.policy())


def register(registry: ChannelRegistry) -> None:
    registry.register(ChannelType("slack", SlackOptions, _build))
