"""Logging set-up: one line per event to standard error, as text or as JSON.

Log calls use a fixed vocabulary of keys inside the message (`source=`, `url=`, `rule=`,
`channel=`, `story=`, `attempt=`, `error=`), so lines can be grepped and parsed alike.

The text format is `time level=... logger=... message`. With `MONITOR_LOG_FORMAT=json` each line
is one JSON object with the stable keys `ts`, `level`, `logger`, `msg` (the whole message),
`event` (the message before its first key), every `key=value` of the message as a field (a value
runs to the next ` key=`, so `error=` may hold spaces) and `exc` for a traceback. Message keys
never replace the stable ones; URLs lose their user-info and the values of secret-looking query
parameters (`token`, `key`, `sig`...) before anything is written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from monitor.errors import MonitorError

STABLE = ("ts", "level", "logger", "msg", "event", "exc")
_URL = re.compile(r"\bhttps?://[^\s\"'<>]+")
_SECRET_PARAM = re.compile(r"(?i)token|key|secret|pass|auth|sig|session|code")
_KEY = re.compile(r"(?:^|\s)([a-z][a-z0-9_]{0,30})=")
FORMATS = ("text", "json")


def message_fields(message: str) -> tuple[str, dict[str, str]]:
    """The event text and the `key=value` pairs of a log message."""
    matches = list(_KEY.finditer(message))
    if not matches:
        return message.strip(), {}
    fields: dict[str, str] = {}
    for match, after in zip(matches, [*matches[1:], None], strict=True):
        end = after.start() if after else len(message)
        fields.setdefault(match.group(1), message[match.end() : end].strip())
    return message[: matches[0].start()].strip(), fields


def safe_url(value: str) -> str:
    """A URL without user-info, and with the values of secret-looking query parameters masked."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "<unparsable url>"
    host = parts.netloc.rpartition("@")[2]
    query = "&".join(
        f"{name}=<secret>" if _SECRET_PARAM.search(name) else f"{name}={val}" if sep else name
        for name, sep, val in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment))


def scrub_urls(text: str) -> str:
    """`text` with every URL in it passed through `safe_url`."""
    return _URL.sub(lambda m: safe_url(m.group(0)), text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, keys as described in the module docstring."""

    def format(self, record: logging.LogRecord) -> str:
        message = scrub_urls(record.getMessage())
        event, fields = message_fields(message)
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": message,
            "event": event,
        }
        for key, value in fields.items():
            if key not in STABLE:
                out[key] = value
        if record.exc_info:
            out["exc"] = scrub_urls(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", fmt: str | None = None) -> None:
    """Log to standard error as `fmt`: `text` or `json` ($MONITOR_LOG_FORMAT, else text)."""
    chosen = (fmt or os.environ.get("MONITOR_LOG_FORMAT") or "text").strip().lower()
    if chosen not in FORMATS:
        raise MonitorError(f"MONITOR_LOG_FORMAT must be text or json, not {chosen[:40]!r}")
    handler = logging.StreamHandler(sys.stderr)
    if chosen == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
                "%Y-%m-%dT%H:%M:%S%z",
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "trafilatura", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
