"""The composition root: builds every collaborator from the validated configuration.

`App` owns the database engine, the HTTP clients, the extraction pool, the compiled rules, the
deduplication index, the notifiers and the delivery worker. Nothing else in the package reads
configuration or constructs these; everything else receives them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Set
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
from sqlalchemy import Connection, Engine

from monitor.config.loader import AppConfig
from monitor.dedup import DedupIndex
from monitor.delivery.factory import build_delivery_worker, build_notifiers
from monitor.delivery.worker import DeliveryReport
from monitor.extract.article import extract_html
from monitor.fetch.client import Fetcher, build_client
from monitor.health import Transition, evaluate_health
from monitor.metrics import Metrics
from monitor.notify.base import Carrier, ChannelDeps, Notifier
from monitor.notify.registry import builtin_registry
from monitor.pipeline import AlertRoute, Pipeline, PipelineDeps, PoolWork, SourceOutcome
from monitor.rules import Document, RuleEngine, RuleSet
from monitor.rules.sources import document_from_file as rules_document_from_file
from monitor.sources import reader_for, source_env
from monitor.storage import articles_repo, sources_repo
from monitor.storage.db import READ_ONLY, open_database
from monitor.work import WorkPool

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class CycleReport:
    """What one cycle did; `failed` is true if any source or delivery failed."""

    sources: list[SourceOutcome] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def failed(self) -> bool:
        return (
            any(o.error for o in self.sources)
            or self.delivery.failed > 0
            or bool(self.delivery.retrying)
        )

    @property
    def new_articles(self) -> int:
        return sum(o.new_articles for o in self.sources)

    @property
    def alerts(self) -> int:
        return sum(o.alerts for o in self.sources)


class App:
    """Everything the daemon and the CLI commands need, built once from the config."""

    def __init__(
        self,
        config: AppConfig,
        *,
        clock: Clock = utcnow,
        fetch_transport: httpx.BaseTransport | None = None,
        async_fetch_transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.owner = sources_repo.new_owner()
        settings = config.settings
        self.engine: Engine = open_database(config.database_url, pool_size=pool_size(config))
        self.fetcher = Fetcher(build_client(settings.fetch, fetch_transport), settings.fetch)
        self._async_transport = async_fetch_transport
        self._channel_http = httpx.Client(timeout=30.0, follow_redirects=False, verify=True)
        self._pipeline: Pipeline | None = None
        self._synced = False  # sources table brought in line with the configuration
        self._enabled = {s.name: s for s in self.config.sources if s.enabled}  # fixed too
        self.metrics = Metrics()
        self.metrics.watch_database(self.engine, clock)  # O (issue 10): gauges read at scrape
        self.rules = RuleEngine.compile(config.ruleset)
        self.dedup = DedupIndex(window=settings.dedup_window)
        deps = ChannelDeps(http=self._channel_http, environ=environ or config.environ)
        self.notifiers: dict[str, Notifier] = build_notifiers(
            config.channels, builtin_registry(), deps
        )
        self.delivery = build_delivery_worker(
            self.engine,
            settings.delivery,
            self.notifiers,
            clock,
            owner=self.owner,
            carriers=self._carriers,
        )
        self._routes = {
            rule.name: AlertRoute(config.channels_for(rule.channels), rule.delivery)
            for rule in config.ruleset.rules
        }

    def _carriers(self, conn: Connection, story_id: int, article_id: int) -> list[Carrier]:
        return [
            Carrier(source=c.source, title=c.title, url=c.url, is_copy=c.is_copy)
            for c in self.dedup.also_carried_by(conn, story_id)
            if c.article_id != article_id
        ]

    @property
    def pipeline(self) -> Pipeline:
        """The running stages (started on first use: CLI commands that only read never do)."""
        if self._pipeline is None:
            settings = self.config.settings
            work = PoolWork(WorkPool(self.config.ruleset, settings), settings.bounds)
            deps = PipelineDeps(
                engine=self.engine,
                work=work,
                grouper=self.dedup,
                settings=settings,
                clock=self.clock,
                route_for=self._routes.__getitem__,
                owner=self.owner,
                fetch_transport=self._async_transport,
                reader_for=partial(reader_for, env=source_env(self.fetcher, settings, self.clock)),
                metrics=self.metrics,
            )
            self._pipeline = Pipeline(deps)
        return self._pipeline

    # --- the cycle ---------------------------------------------------------------------

    def poll_due(self) -> list[SourceOutcome]:
        """Poll every due, enabled source once; returns when they are done.

        Sources are claimed as the pipeline has room for them (as the daemon does), not all at
        once, so replicas running cycles at the same time share the sources between them."""
        claimed: list[Future[SourceOutcome]] = []
        polled: set[str] = set()
        pending: set[Future[SourceOutcome]] = set()
        pipeline = self.pipeline
        while True:
            room = pipeline.capacity()
            new = self._claim(limit=room, exclude=polled)
            claimed.extend(f for _, f in new)
            polled.update(name for name, _ in new)
            pending.update(f for _, f in new)
            if len(new) < room or not pending:
                break  # nothing else is due
            # full: wait until half the room is free (one claim per batch, not per poll)
            while pending and pipeline.capacity() < max(room // 2, 1):
                _, pending = wait(pending, return_when=FIRST_COMPLETED)
        return [f.result() for f in claimed]

    def feed_pipeline(self) -> int:
        """Claim no more due sources than the pipeline has room for and hand them over; returns
        at once with how many were claimed (the daemon's claim loop). Claiming only what fits
        keeps the in-flight bound and lets replicas share the sources."""
        room = self.pipeline.capacity()
        return len(self._claim(limit=room)) if room else 0

    def _claim(
        self, *, limit: int | None, exclude: Set[str] = frozenset()
    ) -> list[tuple[str, Future[SourceOutcome]]]:
        specs = self._enabled
        if not self._synced:  # the configuration is fixed for the App's life: once is enough
            with self.engine.begin() as conn:
                sources_repo.sync_sources(conn, specs.values())
            self._synced = True
        pipeline = self.pipeline
        busy = pipeline.in_flight() | exclude  # still being polled here: never claimed twice
        claimed = sources_repo.claim_due(
            self.engine,
            [name for name in specs if name not in busy] if busy else list(specs),
            now=self.clock(),
            owner=self.owner,
            limit=limit,
        )
        if not claimed:
            return []
        with self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})  # not queued behind the writer
            states = {s.name: s for s in sources_repo.get_states(conn, claimed)}
        futures = pipeline.submit([(specs[n], states[n]) for n in claimed])
        return list(zip(claimed, futures, strict=True))

    def deliver(self) -> DeliveryReport:
        report = self.delivery.deliver_due()
        self.metrics.deliveries_done(  # O (issue 10)
            sent=report.sent, retrying=report.retrying, failed=report.failed, dead=report.dead
        )
        return report

    def check_health(self) -> list[Transition]:
        """Assess every source's health; one operator notice per change (O, issue 10)."""
        settings = self.config.settings
        return evaluate_health(
            self.engine,
            self.config.sources,
            settings.health,
            settings.delivery.operator_channels,
            self.clock(),
        )

    def run_cycle(self) -> CycleReport:
        """One full cycle: poll everything due, extract, match, deliver."""
        report = CycleReport(sources=self.poll_due())
        report.delivery = self.deliver()
        return report

    def prune(self) -> int:
        with self.engine.begin() as conn:
            return self.dedup.prune(conn, self.clock())

    def close(self) -> None:
        """Drain in-flight polls (within `settings.drain_timeout`), then release everything."""
        pipeline, self._pipeline = self._pipeline, None
        with contextlib.ExitStack() as release:  # each runs even if an earlier step raised
            release.callback(self.engine.dispose)
            release.callback(self._channel_http.close)
            release.callback(self.fetcher.close)
            if pipeline is not None:
                pipeline.close(self.config.settings.drain_timeout.total_seconds())

    # --- for the rules CLI (RulesHost) -------------------------------------------------

    def ruleset(self) -> RuleSet:
        return self.config.ruleset

    def document_from(self, file_or_url: str) -> Document:
        if file_or_url.startswith(("http://", "https://")):
            page = self.fetcher.get(file_or_url)
            ex = extract_html(page.body, page.url)
            return Document(
                title=ex.title,
                body=ex.text,
                language=ex.language,
                url=page.url,
                published=ex.published,
            )
        return document_from_file(Path(file_or_url))

    def archive(self, since: datetime) -> Iterable[Document]:
        with self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})  # a long read must not block the daemon
            for row in articles_repo.iter_articles(conn, since):
                yield Document(
                    title=row["title"],
                    body=row["text"],
                    language=row["language"],
                    source=row["source"],
                    tags=frozenset(row["tags"] or ()),
                    url=row["url"],
                    published=row["published_at"] or row["fetched_at"],
                )


def pool_size(config: AppConfig) -> int:
    """Database connections the stages can hold at once, so none waits for the pool: the
    writer, two read threads, the lease keeper, the scheduler's tick (claims), maintenance,
    the delivery worker's senders, a health check and the ops server, plus a margin."""
    return 1 + 2 + 1 + 1 + 1 + config.settings.delivery.concurrency + 1 + 1 + 2


def document_from_file(path: Path) -> Document:
    """A Document from an HTML page (extracted like a fetched page) or a corpus/text file."""
    if path.suffix.lower() in (".html", ".htm"):
        ex = extract_html(path.read_bytes(), path.as_uri())
        return Document(title=ex.title, body=ex.text, language=ex.language, url=path.as_uri())
    return rules_document_from_file(path)
