"""Keeps channel secrets out of third-party log lines.

httpx logs every request URL at INFO, and Apprise logs its targets: a Slack webhook URL or an
Apprise URL *is* a credential. Channel builders register their secrets with a
:class:`SecretRedactor`; :func:`install` attaches it as a filter to those libraries' loggers, where
it replaces every registered value (and the URL forms httpx prints) with `<secret>`.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

LIBRARY_LOGGERS = (
    "httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.proxy", "apprise",
    "urllib3", "urllib3.connectionpool", "urllib3.connection", "requests",
)
MASK = "<secret>"


def _fragments(value: str) -> set[str]:
    parts = {value}
    if "://" in value:
        split = urlsplit(value)
        parts |= {split.path + ("?" + split.query if split.query else ""), split.netloc}
        if split.password:
            parts.add(split.password)
        if split.username:
            parts.add(split.username)
        parts |= {segment for segment in split.path.split("/") if len(segment) >= 8}
    return {p for p in parts if len(p) >= 6 and p not in ("localhost",)}


class SecretRedactor(logging.Filter):
    """A logging filter that masks registered secret values in the formatted message."""

    def __init__(self) -> None:
        super().__init__()
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        with self._lock:
            self._values |= _fragments(value)

    def redact(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._values:
            message = record.getMessage()
            cleaned = self.redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def install(redactor: SecretRedactor, loggers: tuple[str, ...] = LIBRARY_LOGGERS) -> None:
    """Attach `redactor` to the loggers of the libraries that print URLs (idempotent)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if redactor not in logger.filters:
            logger.addFilter(redactor)
