"""The one exception hierarchy of news-monitor.

Every error the package raises on purpose derives from :class:`MonitorError`. Third-party
errors (httpx, feedparser, SQLAlchemy, smtplib...) are translated into these where the library
is called, so callers never need to know which library failed. Exceptions never log: the code
that catches them decides what to tell the user.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class MonitorError(Exception):
    """Base class of every error news-monitor raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in the configuration: where it is, what is there, what would be valid."""

    file: str
    path: str
    value: object
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        shown = _short_repr(self.value)
        return f"{where}: {self.message} (got {shown})" if shown else f"{where}: {self.message}"


def _short_repr(value: object) -> str:
    if value is None or value == "":
        return ""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(MonitorError):
    """The configuration is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"{count} configuration problem{'s' if count != 1 else ''}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class RuleSyntaxError(MonitorError):
    """A rule query could not be parsed; points at the column (1-based) with a caret."""

    def __init__(self, message: str, query: str, column: int) -> None:
        self.message = message
        self.query = query
        self.column = column
        caret = " " * (max(column, 1) - 1) + "^"
        super().__init__(f"{message} at column {column}\n  {query}\n  {caret}")


class UnknownRuleError(MonitorError, KeyError):
    """A rule name that no loaded rule file defines."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        shown = ", ".join(sorted(known)[:20]) or "no rules loaded"
        super().__init__(f"unknown rule '{name}' (known: {shown})")

    def __str__(self) -> str:
        return str(self.args[0])


class FetchErrorKind(enum.Enum):
    """The closed set of reasons a fetch can fail (shown in `monitor sources`)."""

    DNS = "dns"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    TLS = "tls"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BLOCKED_ADDRESS = "blocked_address"
    HTTP_STATUS = "http_status"
    RATE_LIMITED = "rate_limited"
    PROTOCOL = "protocol"
    BAD_URL = "bad_url"


class FetchError(MonitorError):
    """A fetch failed; `kind` says why, `retry_after` is the server's hint in seconds."""

    def __init__(
        self,
        kind: FetchErrorKind,
        url: str,
        detail: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.url = url
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"{kind.value}: {detail} ({url})")


class ParseError(MonitorError):
    """A feed or page could not be parsed at all (partial results are not errors)."""


class DeliveryError(MonitorError):
    """A channel failed to deliver; `retryable` says whether trying again may help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        disable_endpoint: bool = False,
    ) -> None:
        self.retryable = retryable
        self.retry_after = retry_after
        self.disable_endpoint = disable_endpoint
        super().__init__(message)


_UNEXPECTED_HINTS: dict[type[BaseException], str] = {
    RecursionError: "input nested too deeply to process",
    MemoryError: "out of memory",
}


def unexpected_error_message(exc: BaseException) -> str:
    """One line for an error no code path expected, for the command line's last-resort handler.

    Database drivers wrapped by SQLAlchemy carry the driver's own message in `orig` ("database is
    locked"); the statement and SQLAlchemy's help link that follow it are left out. The details
    stay in the traceback, logged at debug level (`--log-level DEBUG`).
    """
    for kind, hint in _UNEXPECTED_HINTS.items():
        if isinstance(exc, kind):
            return f"{hint} ({type(exc).__name__}); run with --log-level DEBUG for details"
    original = getattr(exc, "orig", None)
    if isinstance(original, BaseException):
        first = (str(original).splitlines() or [""])[0]
        if "database is locked" in first:
            return "database is locked: another process is writing to it; try again shortly"
        return f"database error: {first[:300]} ({type(exc).__name__})"
    first = (str(exc).splitlines() or [""])[0]
    detail = f": {first[:300]}" if first else ""
    return f"unexpected {type(exc).__name__}{detail}; run with --log-level DEBUG for details"
