"""The pipeline, visible in one place: poll -> parse -> select new -> extract -> ingest.

`poll_source` chains the stages for one source. Each stage is a small function that knows
nothing about scheduling; `ingest` records one article, groups it (copies and stories), matches
every rule and writes alerts to the outbox, all in ONE transaction, so a crash at any line
leaves either nothing or everything of that article.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from monitor.config.models import Settings, SourceSpec
from monitor.dedup import DedupInput, DedupResult
from monitor.delivery.messages import build_payload
from monitor.delivery.outbox import enqueue
from monitor.errors import FetchError, MonitorError, ParseError
from monitor.extract.article import Extracted, ExtractorPool
from monitor.extract.fallback import html_to_text
from monitor.fetch.client import Fetcher
from monitor.fetch.urls import canonical_url
from monitor.parse.feeds import FeedEntry, parse_feed
from monitor.rules import Document, RuleEngine, RuleMatch
from monitor.storage import articles_repo as repo
from monitor.storage import sources_repo
from monitor.storage.sources_repo import SourceState

log = logging.getLogger(__name__)


class Grouper(Protocol):
    """What the pipeline needs from deduplication (see monitor.dedup.DedupIndex)."""

    def classify(self, conn: Connection, item: DedupInput) -> DedupResult: ...


@dataclass(frozen=True)
class AlertRoute:
    """Where a rule's alerts go: its channels, and immediate or hourly/daily digest delivery."""

    channels: tuple[str, ...]
    delivery: str = "immediate"


@dataclass(frozen=True)
class PipelineDeps:
    """The collaborators of the pipeline, built by the composition root."""

    engine: Engine
    fetcher: Fetcher
    extractor: ExtractorPool
    rules: RuleEngine
    grouper: Grouper
    settings: Settings
    clock: Callable[[], datetime]
    route_for: Callable[[str], AlertRoute]
    rng: Random = field(default_factory=Random)


@dataclass(frozen=True)
class Candidate:
    """A new entry with its extracted text, ready to ingest."""

    source: SourceSpec
    entry: FeedEntry
    extracted: Extracted
    page_url: str


@dataclass
class SourceOutcome:
    source: str
    new_articles: int = 0
    alerts: int = 0
    not_modified: bool = False
    error: str | None = None


# --- stages --------------------------------------------------------------------------------


def select_new(engine: Engine, source: SourceSpec, entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """Entries this source has not delivered before (first occurrence of each key)."""
    with engine.connect() as conn:
        unseen = repo.unseen_keys(conn, source.name, (e.key for e in entries))
    chosen: dict[str, FeedEntry] = {}
    for entry in entries:
        if entry.key in unseen and entry.key not in chosen:
            chosen[entry.key] = entry
    return list(chosen.values())


def gather(
    deps: PipelineDeps, source: SourceSpec, entries: Sequence[FeedEntry], full: bool
) -> list[Candidate]:
    """Fetch each entry's page (when wanted) and extract it in the process pool."""
    pending: list[tuple[FeedEntry, Future[Extracted] | None, str]] = []
    for entry in entries:
        if not full:
            pending.append((entry, None, entry.link))
            continue
        try:
            page = deps.fetcher.get(entry.link)
        except FetchError as exc:
            log.warning(
                "article fetch failed source=%s url=%s error=%s", source.name, entry.link, exc
            )
            pending.append((entry, None, entry.link))
            continue
        pending.append((entry, deps.extractor.submit(page.body, page.url), page.url))
    return [
        Candidate(source, entry, deps.extractor.result(future) if future else Extracted(), url)
        for entry, future, url in pending
    ]


_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})?$")
MAX_URL = 2000


def _language(value: object) -> str | None:
    """A plausible language code from untrusted metadata, lower-cased; else None."""
    if isinstance(value, str) and _LANG.match(value.strip()):
        return value.strip().lower().replace("_", "-")
    return None


def _bounded_url(url: str) -> str:
    """URLs longer than the column keep their start and a hash of the whole, staying unique."""
    if len(url) <= MAX_URL:
        return url
    return url[: MAX_URL - 65] + "#" + hashlib.sha256(url.encode()).hexdigest()


def to_document(candidate: Candidate) -> tuple[repo.NewArticle, Document]:
    """The stored article and the rule document for a candidate (feed text as fallback)."""
    entry, ex, source = candidate.entry, candidate.extracted, candidate.source
    title = ex.title or html_to_text(entry.title) or entry.link
    text = ex.text or html_to_text(entry.content) or html_to_text(entry.summary)
    paragraphs = text.split("\n\n")
    if paragraphs and paragraphs[0].strip() == title.strip():
        text = "\n\n".join(paragraphs[1:])
    language = _language(ex.language) or _language(entry.language) or source.language
    published = entry.published or ex.published
    article = repo.NewArticle(
        source=source.name,
        guid=entry.guid,
        url=candidate.page_url,
        canonical_url=_bounded_url(canonical_url(ex.canonical_url or candidate.page_url)),
        title=title,
        text=text,
        author=ex.author or entry.author,
        site_name=ex.site_name,
        language=language,
        published_at=published,
        fetched_at=datetime.min,
        extraction="trafilatura" if ex.text else "feed",
        tags=source.tags,
    )
    document = Document(
        title=title,
        body=text,
        language=language,
        source=source.name,
        tags=frozenset(source.tags),
        url=candidate.page_url,
        published=published,
    )
    return article, document


def group(
    conn: Connection, grouper: Grouper, article_id: int, article: repo.NewArticle
) -> DedupResult:
    """Copy and story of a new article. The dedup index always records it (so it is listed as
    "also carried by"); an identical canonical URL overrides the index's decision."""
    decision = grouper.classify(
        conn,
        DedupInput(
            article_id=article_id,
            title=article.title,
            text=article.text,
            language=article.language,
            published=article.published_at,
            fetched=article.fetched_at,
            source=article.source,
        ),
    )
    same_url = repo.find_by_canonical_url(conn, article.canonical_url, article_id)
    if decision.copy_of is None and same_url is not None and same_url["story_id"] is not None:
        original = int(same_url["copy_of"] or same_url["id"])
        return DedupResult(copy_of=original, story_id=int(same_url["story_id"]), reason="same-url")
    return decision


def alert_payload(article: repo.NewArticle, match: RuleMatch) -> dict[str, Any]:
    return build_payload(
        headline=article.title,
        url=article.url,
        source=article.source,
        published=article.published_at,
        language=article.language,
        passages=[
            {
                "field": p.field,
                "text": p.text,
                "highlights": [list(h) for h in p.highlights],
                "clause": p.clause,
            }
            for p in match.passages
        ],
    )


def ingest(deps: PipelineDeps, candidate: Candidate, *, alerting: bool) -> int:
    """Store, group, match and enqueue one article atomically; returns the alerts created."""
    now = deps.clock()
    article, document = to_document(candidate)
    article = repo.NewArticle(**{**article.__dict__, "fetched_at": now})
    created = 0
    with deps.engine.begin() as conn:
        if not repo.mark_seen(conn, candidate.source.name, candidate.entry.key, now):
            return 0  # another worker took this entry
        article_id = repo.insert_article(conn, article)
        grouping = group(conn, deps.grouper, article_id, article)
        repo.set_grouping(conn, article_id, story_id=grouping.story_id, copy_of=grouping.copy_of)
        if not alerting:
            return 0
        for match in deps.rules.match(document):
            repo.record_match(conn, article_id, match.rule, match.to_json(), now)
            route = deps.route_for(match.rule)
            alert_id = enqueue(
                conn,
                rule=match.rule,
                story_id=grouping.story_id,
                article_id=article_id,
                payload=alert_payload(article, match),
                channels=route.channels,
                now=now,
                delivery=route.delivery,
            )
            if alert_id is not None:
                created += 1
                log.info(
                    "alert queued rule=%s story=%s url=%s",
                    match.rule,
                    grouping.story_id,
                    article.url,
                )
    return created


def next_poll(
    deps: PipelineDeps,
    source: SourceSpec,
    now: datetime,
    errors: int = 0,
    retry_after: float | None = None,
) -> datetime:
    """Interval with jitter; exponential backoff (capped at a day) while the source fails."""
    interval = source.interval if source.interval is not None else deps.settings.default_interval
    if errors:
        interval = min(interval * 2 ** min(errors, 8), timedelta(days=1))
    jitter = deps.settings.jitter
    delay = interval * (1 + deps.rng.uniform(-jitter, jitter))
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=min(retry_after, 86400)))
    return now + delay


class EntryError(MonitorError):
    """Some entries of a feed could not be ingested; they stay unseen and are retried."""


def error_kind(exc: Exception) -> str:
    """The kind shown in `monitor sources` for a failed poll."""
    if isinstance(exc, FetchError):
        return exc.kind.value
    if isinstance(exc, ParseError):
        return "parse"
    if isinstance(exc, EntryError):
        return "entry"
    return "internal"


def ingest_all(
    deps: PipelineDeps, candidates: Sequence[Candidate], alerting: bool, outcome: SourceOutcome
) -> list[str]:
    """Ingest each candidate on its own; a failing entry is rolled back, reported, and skipped.

    A failed entry stays unseen, and the caller records the poll as failed without saving the
    feed's new validators, so the next poll fetches the feed in full and tries the entry again.
    """
    failed = []
    for candidate in candidates:
        try:
            outcome.alerts += ingest(deps, candidate, alerting=alerting)
            outcome.new_articles += 1
        except Exception as exc:  # one bad entry must not block the others
            log.exception(
                "entry failed source=%s url=%s error=%s",
                candidate.source.name,
                candidate.entry.link,
                exc,
            )
            failed.append(f"{candidate.entry.link}: {type(exc).__name__}: {exc}"[:500])
    return failed


# --- the chain -----------------------------------------------------------------------------


def poll_source(deps: PipelineDeps, source: SourceSpec, state: SourceState) -> SourceOutcome:
    """Run every stage for one source and record the outcome in its state row."""
    outcome = SourceOutcome(source.name)
    now = deps.clock()
    try:
        result = deps.fetcher.get(state.url, etag=state.etag, last_modified=state.last_modified)
        if result.not_modified:
            outcome.not_modified = True
            entries: list[FeedEntry] = []
        else:
            entries = parse_feed(result.body, result.url)
        new = select_new(deps.engine, source, entries)
        alert_backlog = source.alert_backlog
        if alert_backlog is None:
            alert_backlog = deps.settings.alert_backlog
        alerting = state.backlog_seen or alert_backlog
        candidates = gather(deps, source, new, full=source.fetch_full and alerting)
        failed = ingest_all(deps, candidates, alerting, outcome)
        if failed:
            raise EntryError(
                f"{len(failed)} of {len(candidates)} entries failed; first: {failed[0]}"
            )
    except Exception as exc:  # every failure is recorded on the source, shown, retried
        kind = error_kind(exc)
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        outcome.error = f"{kind}: {exc}"
        if isinstance(exc, MonitorError):
            log.warning("poll failed source=%s error=%s", source.name, exc)
        else:
            log.exception("poll failed source=%s error=%s", source.name, exc)
        with deps.engine.begin() as conn:
            sources_repo.record_failure(
                conn,
                source.name,
                now=now,
                kind=kind,
                error=str(exc),
                next_poll=next_poll(deps, source, now, state.error_count + 1, retry_after),
            )
        return outcome
    with deps.engine.begin() as conn:
        sources_repo.record_success(
            conn,
            source.name,
            now=now,
            next_poll=next_poll(deps, source, now),
            etag=result.etag,
            last_modified=result.last_modified,
        )
    log.info(
        "poll done source=%s new=%d alerts=%d not_modified=%s",
        source.name,
        outcome.new_articles,
        outcome.alerts,
        outcome.not_modified,
    )
    return outcome
