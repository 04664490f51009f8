"""Recognising a parked or placeholder page where a source used to serve news.

Two testable signals, checked on the source's own URL (not on article pages):

- markers: a short HTML page (under `MARKER_TEXT` characters of text) that is new where it is
  served (the URL used to serve a feed, or a page four times larger) and whose visible text
  says the domain is parked or for sale, the site is "coming soon", under construction,
  suspended, or a web server's default page;
- shrinkage: a page whose usual size (learned while it served content) was at least
  `MIN_TYPICAL` bytes now serves under a twentieth of it with almost no text.

A feed URL that now serves an HTML page is only a placeholder when a marker says so; an ordinary
HTML error page stays a parse failure (reported after `failing_after`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.extract.fallback import html_to_text

MARKERS = (
    "domain is for sale",
    "domain may be for sale",
    "buy this domain",
    "this domain is parked",
    "domain parking",
    "parked free",
    "parked domain",
    "sedoparking",
    "parkingcrew",
    "bodis.com",
    "hugedomains",
    "afternic",
    "coming soon",
    "under construction",
    "account has been suspended",
    "account suspended",
    "welcome to nginx",
    "apache2 ubuntu default page",
    "apache2 debian default page",
    "it works!",
    "future home of something quite cool",
)
MIN_TYPICAL = 4000
SHRINK = 20
TINY_TEXT = 300
MARKER_TEXT = 2000
MAX_INSPECT = 100_000  # a larger page is not a placeholder: not parsed at all
_HTML = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_SPACE = re.compile(r"\s+")


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    return bool(_HTML.match(body[:2048]))


@dataclass(frozen=True)
class PageFacts:
    """What placeholder detection needs from one response (small, picklable)."""

    size: int
    html: bool = False
    text_chars: int | None = None  # visible text; None when not HTML or too large to matter
    marker: str | None = None  # the first placeholder marker in the text, if any


def page_facts(body: bytes, content_type: str | None) -> PageFacts:
    """Inspect one response (CPU: parses HTML up to `MAX_INSPECT` bytes; run it off the writer)."""
    html = looks_like_html(body, content_type)
    if len(body) > MAX_INSPECT or not html:
        return PageFacts(len(body), html)
    text = _SPACE.sub(" ", html_to_text(body.decode("utf-8", "replace"))).strip().lower()
    marker = next((m for m in MARKERS if m in text), None) if len(text) < MARKER_TEXT else None
    return PageFacts(len(body), html, len(text), marker)


def placeholder_reason(
    facts: PageFacts, typical_size: int | None = None, typical_html: bool | None = None
) -> str | None:
    """Why this response looks like a placeholder, or None when it looks like content.
    `typical_size` and `typical_html` describe what the URL usually served (None: unknown)."""
    if facts.text_chars is None:
        return None
    # a marker counts on a page that is new: HTML where a feed was, or far smaller than the
    # usual page. A listing that always said "coming soon" in a corner is no sudden change.
    sudden = typical_size is None or not typical_html or facts.size * 4 < typical_size
    if facts.marker and sudden:
        return f'placeholder page: says "{facts.marker}"'
    if (
        typical_size is not None
        and typical_size >= MIN_TYPICAL
        and facts.size * SHRINK < typical_size
        and facts.text_chars < TINY_TEXT
    ):
        return f"placeholder page: {facts.size} bytes where it usually serves ~{typical_size}"
    return None


def next_typical(previous: int | None, size: int) -> int:
    """The usual size after one more content response (a slow moving average)."""
    return size if previous is None else round(previous * 0.8 + size * 0.2)
