"""Plain-text rendering of alerts, shared by the console and the text part of emails.

Feed-derived text is untrusted: control characters (including CR/LF inside one-line fields) are
removed before anything is shown (`sanitise`), so a headline cannot forge extra lines or terminal
escapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from monitor.notify.base import AlertBatch, AlertMessage, PassageView
from monitor.notify.sanitise import clean as clean
from monitor.notify.sanitise import one_line as one_line
from monitor.notify.sanitise import one_line_pieces


def _ranges(highlights: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The usable highlights: in bounds, non-empty, non-overlapping, in order."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    for start, end in sorted(highlights):
        if start < pos or end > length or start >= end:
            continue
        ranges.append((start, end))
        pos = end
    return ranges


def mark(
    passage: PassageView, left: str, right: str, escape: Callable[[str], str] | None = None
) -> str:
    """The passage text, made one safe line, with each highlight wrapped in `left`/`right`.

    Highlights are offsets into the raw passage text; the text is cut at them before it is
    cleaned (`one_line_pieces`), so they stay on the same characters whatever whitespace or
    control characters the cleaning removes. `escape`, when given, is applied to the text
    between markers (not to the markers).
    """
    esc: Callable[[str], str] = escape or (lambda s: s)
    text = passage.text
    cuts: list[tuple[int, int, bool]] = []
    pos = 0
    for start, end in _ranges(passage.highlights, len(text)):
        cuts += [(pos, start, False), (start, end, True)]
        pos = end
    cuts.append((pos, len(text), False))
    pieces = one_line_pieces([text[a:b] for a, b, _ in cuts], limit=10_000)
    out: list[str] = []
    for piece, (_, _, highlighted) in zip(pieces, cuts, strict=True):
        out.append(left + esc(piece) + right if highlighted and piece else esc(piece))
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
