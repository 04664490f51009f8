"""Plain-text rendering of alerts, shared by the console and the text part of emails.

Feed-derived text is untrusted: control characters (including CR/LF inside one-line fields) are
removed before anything is shown, so a headline cannot forge extra lines or terminal escapes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from monitor.notify.base import AlertBatch, AlertMessage, PassageView

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u200e\u200f\u202a-\u202e]")


def clean(text: str) -> str:
    """Untrusted text without lone surrogates (unencodable) and control characters but newlines."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", unicodedata.normalize("NFC", text))


def one_line(text: str, limit: int = 300) -> str:
    """Collapse untrusted text to one safe line of at most `limit` characters."""
    text = clean(text.replace("\r", " ").replace("\n", " "))
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mark(
    passage: PassageView, left: str, right: str, escape: Callable[[str], str] | None = None
) -> str:
    """The passage text with each highlight wrapped in `left`/`right`.

    `escape`, when given, is applied to the text between markers (not to the markers).
    """
    esc: Callable[[str], str] = escape or (lambda s: s)
    text = one_line(passage.text, limit=10_000)
    out: list[str] = []
    pos = 0
    for start, end in sorted(passage.highlights):
        if start < pos or end > len(text) or start >= end:
            continue
        out.append(esc(text[pos:start]))
        out.append(left + esc(text[start:end]) + right)
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def plain_text(alert: AlertMessage) -> str:
    """A readable plain-text body for one alert."""
    lines = [
        f"[{one_line(alert.rule)}] {one_line(alert.headline)}",
        f"Source: {one_line(alert.source)}"
        + (f" · {alert.published:%Y-%m-%d %H:%M} UTC" if alert.published else "")
        + (f" · {one_line(alert.language)}" if alert.language else ""),
        f"Link: {one_line(alert.url, 2000)}",
    ]
    if alert.passages:
        lines.append("")
        lines.append("Matched passages:")
        for passage in alert.passages:
            lines.append(f"  » {mark(passage, '[', ']')}")
            lines.append(f"    ({one_line(passage.clause, 200)})")
    if alert.also_carried_by:
        lines.append("")
        lines.append("Also carried by:")
        for other in alert.also_carried_by:
            url = one_line(other.url, 2000)
            lines.append(f"  - {one_line(other.source)}: {one_line(other.title)} <{url}>")
    return "\n".join(lines) + "\n"


def batch_text(batch: AlertBatch) -> str:
    """A plain-text body for several alerts: each in full, then the updated stories."""
    parts = [one_line(batch.title) + "\n"]
    for alert in batch.alerts:
        parts.append("─" * 60 + "\n" + plain_text(alert))
    if batch.updates:
        parts.append("═" * 60 + "\nUpdated stories (new outlets since last sent):\n")
        for alert in batch.updates:
            url = one_line(alert.url, 2000)
            parts.append(
                f"  - [{one_line(alert.rule)}] {one_line(alert.headline)} <{url}>"
                f" now carried by {len(alert.also_carried_by)} other outlet(s)\n"
            )
    return "\n".join(parts)
