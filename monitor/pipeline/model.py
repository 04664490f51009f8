"""The values that flow between the pipeline's stages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.config.models import SourceSpec
from monitor.parse.feeds import FeedEntry
from monitor.storage.articles_repo import NewArticle


@dataclass(frozen=True)
class AlertRoute:
    """Where a rule's alerts go: its channels, and immediate or hourly/daily digest delivery."""

    channels: tuple[str, ...]
    delivery: str = "immediate"


class PipelineMetrics(Protocol):
    """What the pipeline reports to the metrics registry (monitor.metrics)."""

    def poll_done(self, outcome: str) -> None: ...

    def fetch_observed(self, seconds: float, kind: str) -> None: ...

    def articles_ingested(self, n: int = 1) -> None: ...

    def article_skipped(self, reason: str) -> None: ...

    def alert_queued(self, rule: str, channels: Sequence[str] = ()) -> None: ...


class NoMetrics:
    """Reports nowhere (CLI one-shot runs and tests)."""

    def poll_done(self, outcome: str) -> None:
        pass

    def fetch_observed(self, seconds: float, kind: str) -> None:
        pass

    def articles_ingested(self, n: int = 1) -> None:
        pass

    def article_skipped(self, reason: str) -> None:
        pass

    def alert_queued(self, rule: str, channels: Sequence[str] = ()) -> None:
        pass


@dataclass
class SourceOutcome:
    """What one poll of one source did."""

    source: str
    new_articles: int = 0
    alerts: int = 0
    skipped: int = 0
    not_modified: bool = False
    error: str | None = None

    @property
    def status(self) -> str:
        """One word for metrics and logs: ok, not_modified, skipped or error."""
        if self.error:
            return "error"
        return "not_modified" if self.not_modified else "ok"


@dataclass(frozen=True)
class WorkItem:
    """An entry to work on: its page (None when not fetched or the fetch failed)."""

    source: SourceSpec
    entry: FeedEntry
    page: bytes | None
    page_url: str
    alerting: bool


@dataclass(frozen=True)
class MatchOut:
    """A rule match as the write stage needs it: the rule and `RuleMatch.to_json()`."""

    rule: str
    json: dict[str, Any]


@dataclass(frozen=True)
class Worked:
    """The work stage's answer: the article to store and its matches, or why it was skipped."""

    article: NewArticle | None
    matches: tuple[MatchOut, ...] = ()
    fingerprints: Any = None
    skipped: str | None = None


@dataclass(frozen=True)
class Written:
    """The write stage's answer for one article."""

    stored: bool
    alerts: list[tuple[str, int]] = field(default_factory=list)  # (rule, story_id)
