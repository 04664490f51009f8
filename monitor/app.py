"""The composition root: builds every collaborator from the validated configuration.

`App` owns the database engine, the HTTP clients, the extraction pool, the compiled rules, the
deduplication index, the notifiers and the delivery worker. Nothing else in the package reads
configuration or constructs these; everything else receives them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Connection, Engine

from monitor.config.loader import AppConfig
from monitor.config.models import SourceSpec
from monitor.dedup import DedupIndex
from monitor.delivery.factory import build_delivery_worker, build_notifiers
from monitor.delivery.worker import DeliveryReport
from monitor.extract.article import ExtractorPool, extract_html
from monitor.fetch.client import Fetcher, build_client
from monitor.notify.base import Carrier, ChannelDeps, Notifier
from monitor.notify.registry import builtin_registry
from monitor.pipeline import AlertRoute, PipelineDeps, SourceOutcome, poll_source
from monitor.rules import Document, RuleEngine, RuleSet
from monitor.rules.sources import document_from_file as rules_document_from_file
from monitor.storage import articles_repo, sources_repo
from monitor.storage.db import open_database

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
POLL_LEASE = timedelta(
    minutes=30
)  # longer than any poll: a feed plus its pages, each with a deadline


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
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        settings = config.settings
        self.engine: Engine = open_database(config.database_url)
        self.fetcher = Fetcher(build_client(settings.fetch, fetch_transport), settings.fetch)
        self._channel_http = httpx.Client(timeout=30.0, follow_redirects=False, verify=True)
        self._extractor: ExtractorPool | None = None
        self._polls = ThreadPoolExecutor(
            max_workers=settings.fetch.concurrency, thread_name_prefix="poll"
        )
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()
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

    @property
    def extractor(self) -> ExtractorPool:
        if self._extractor is None:
            self._extractor = ExtractorPool(self.config.settings.extract_workers)
        return self._extractor

    def _carriers(self, conn: Connection, story_id: int, article_id: int) -> list[Carrier]:
        return [
            Carrier(source=c.source, title=c.title, url=c.url, is_copy=c.is_copy)
            for c in self.dedup.also_carried_by(conn, story_id)
            if c.article_id != article_id
        ]

    def pipeline_deps(self) -> PipelineDeps:
        return PipelineDeps(
            engine=self.engine,
            fetcher=self.fetcher,
            extractor=self.extractor,
            rules=self.rules,
            grouper=self.dedup,
            settings=self.config.settings,
            clock=self.clock,
            route_for=self._routes.__getitem__,
        )

    # --- the cycle ---------------------------------------------------------------------

    def poll_due(self, *, wait: bool = True) -> list[SourceOutcome]:
        """Poll every enabled source whose time has come (each claimed with a lease).

        With `wait=False` (the daemon's tick) the polls run in the background pool and the call
        returns at once, so one slow source never holds up the others; sources still being
        polled by this process are skipped.
        """
        specs = {s.name: s for s in self.config.sources if s.enabled}
        with self.engine.begin() as conn:
            sources_repo.sync_sources(conn, specs.values())
        with self._lock:
            idle = [name for name in specs if name not in self._in_flight]
        claimed = sources_repo.claim_due(
            self.engine, idle, now=self.clock(), owner=self.owner, lease=POLL_LEASE
        )
        if not claimed:
            return []
        with self.engine.connect() as conn:
            states = {s.name: s for s in sources_repo.get_states(conn, claimed)}
        deps = self.pipeline_deps()
        with self._lock:
            self._in_flight.update(claimed)
        futures = [self._polls.submit(self._poll_one, deps, specs[n], states[n]) for n in claimed]
        return [f.result() for f in futures] if wait else []

    def _poll_one(
        self, deps: PipelineDeps, source: SourceSpec, state: sources_repo.SourceState
    ) -> SourceOutcome:
        try:
            return poll_source(deps, source, state)
        except Exception as exc:
            log.exception("poll crashed source=%s", source.name)
            return SourceOutcome(source.name, error=f"internal: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._in_flight.discard(source.name)

    def deliver(self) -> DeliveryReport:
        return self.delivery.deliver_due()

    def run_cycle(self) -> CycleReport:
        """One full cycle: poll everything due, extract, match, deliver."""
        report = CycleReport(sources=self.poll_due())
        report.delivery = self.deliver()
        return report

    def prune(self) -> int:
        with self.engine.begin() as conn:
            return self.dedup.prune(conn, self.clock())

    def close(self) -> None:
        """Finish in-flight polls, then release every resource."""
        self._polls.shutdown(wait=True)
        if self._extractor is not None:
            self._extractor.close()
        self._channel_http.close()
        self.engine.dispose()

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


def document_from_file(path: Path) -> Document:
    """A Document from an HTML page (extracted like a fetched page) or a corpus/text file."""
    if path.suffix.lower() in (".html", ".htm"):
        ex = extract_html(path.read_bytes(), path.as_uri())
        return Document(title=ex.title, body=ex.text, language=ex.language, url=path.as_uri())
    return rules_document_from_file(path)
