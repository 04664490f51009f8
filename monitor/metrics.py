"""Prometheus metrics of one application: counters the pipeline bumps, gauges read at scrape.

`Metrics` owns a private `CollectorRegistry` (never the process-global one), so tests and several
`App`s in one process never share counters. The pipeline calls the plain methods at the points
they name; `DatabaseCollector` reads the outbox and source health from the database when
`/metrics` is scraped. Label values are bounded: outcomes and kinds are short closed-ish sets,
rule and channel names come from the configuration and are capped at `MAX_LABEL_VALUES` per
label (the rest count as `other`); source names are never labels.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from monitor.delivery.outbox import PENDING, SENT
from monitor.delivery.tables import operator_notices
from monitor.health.evaluate import STATES
from monitor.health.tables import source_health
from monitor.storage.db import READ_ONLY
from monitor.storage.tables import alerts, deliveries, sources

log = logging.getLogger(__name__)
MAX_LABEL_VALUES = 200
OTHER = "other"
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class LabelCap:
    """Admits the first `limit` distinct values of a label; later ones become `other`."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        value = value[:100] or "unknown"
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) < self._limit:
                self._seen.add(value)
                return value
        return OTHER


class Metrics:
    """The counters of one running application (thread-safe, cheap to call)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self._polls = Counter("monitor_polls", "Source polls by outcome", ["outcome"], registry=r)
        self._fetch = Histogram(
            "monitor_fetch_seconds",
            "Duration of one HTTP fetch, by kind of request",
            ["kind"],
            buckets=FETCH_BUCKETS,
            registry=r,
        )
        self._articles = Counter("monitor_articles_ingested", "Articles stored", registry=r)
        self._skipped = Counter(
            "monitor_articles_skipped", "Articles skipped, by reason", ["reason"], registry=r
        )
        self._alerts = Counter(
            "monitor_alerts_queued", "Alerts queued, by rule and channel", ["rule", "channel"],
            registry=r,
        )
        self._deliveries = Counter(
            "monitor_deliveries", "Deliveries attempted, by outcome", ["outcome"], registry=r
        )
        self._small = LabelCap(32)  # outcomes, kinds, reasons: short vocabularies
        self._rules = LabelCap()
        self._channels = LabelCap()

    def poll_done(self, outcome: str) -> None:
        """One poll finished: `ok`, `not_modified`, or the error kind (`timeout`, `parse`...)."""
        self._polls.labels(self._small(outcome)).inc()

    def fetch_observed(self, seconds: float, kind: str) -> None:
        """One HTTP request took `seconds`; `kind` is e.g. `feed`, `page`, `sitemap`."""
        self._fetch.labels(self._small(kind)).observe(max(seconds, 0.0))

    def articles_ingested(self, n: int = 1) -> None:
        self._articles.inc(n)

    def article_skipped(self, reason: str) -> None:
        """An article over its budget or crashed its worker: `cpu`, `memory`, `crash`..."""
        self._skipped.labels(self._small(reason)).inc()

    def alert_queued(self, rule: str, channels: Sequence[str] = ()) -> None:
        """One alert written to the outbox for `rule`, to be delivered to `channels`."""
        for channel in channels or ("none",):
            self._alerts.labels(self._rules(rule), self._channels(channel)).inc()

    def deliveries_done(self, *, sent: int, retrying: int, failed: int, dead: int) -> None:
        """What one delivery cycle did (the counts of `DeliveryReport`)."""
        for outcome, n in (("sent", sent), ("retrying", retrying), ("failed", failed),
                           ("dead", dead)):
            if n:
                self._deliveries.labels(outcome).inc(n)

    def watch_database(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        """Also report the outbox and source health, read from `engine` at each scrape."""
        self.registry.register(DatabaseCollector(engine, clock))

    def watch(self, collector: Collector) -> None:
        self.registry.register(collector)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time; a failing read gives `monitor_db_up 0`."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def describe(self) -> Iterator[Metric]:
        return iter(())  # gauges are produced by collect(); nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("monitor_db_up", "1 if the database answered this scrape")
        try:
            families = list(self._read())
        except (SQLAlchemyError, OSError) as exc:  # a scrape never raises: database down
            log.warning("metrics: database read failed error=%s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        now = self._clock()
        with self._engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            waiting = conn.execute(
                select(deliveries.c.state, deliveries.c.channel, func.count())
                .where(deliveries.c.state != SENT)  # sent rows grow forever: counted in-process
                .group_by(deliveries.c.state, deliveries.c.channel)
            ).all()
            oldest = conn.execute(
                select(func.min(alerts.c.created_at))
                .select_from(deliveries.join(alerts, alerts.c.id == deliveries.c.alert_id))
                .where(deliveries.c.state == PENDING)
            ).scalar()
            health: dict[str, int] = dict(
                conn.execute(
                    select(source_health.c.status, func.count()).group_by(source_health.c.status)
                ).all()
            )
            total = conn.execute(select(func.count()).select_from(sources)).scalar() or 0
            leased = conn.execute(
                select(func.count()).select_from(sources).where(sources.c.lease_until >= now)
            ).scalar() or 0
            notices = conn.execute(
                select(func.count())
                .select_from(operator_notices)
                .where(operator_notices.c.state == PENDING)
            ).scalar() or 0
        states = GaugeMetricFamily(
            "monitor_deliveries_by_state",
            "Deliveries not sent (yet), by state and channel",
            labels=["state", "channel"],
        )
        for state, channel, count in sorted(waiting):
            states.add_metric([str(state), str(channel)[:100]], count)
        yield states
        depth = sum(count for state, _, count in waiting if state == PENDING)
        yield GaugeMetricFamily(
            "monitor_outbox_depth", "Deliveries waiting to be sent", value=depth
        )
        age = 0.0
        if isinstance(oldest, datetime):
            age = max((now - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "monitor_outbox_oldest_age_seconds", "Age of the oldest alert still pending", value=age
        )
        gauge = GaugeMetricFamily(
            "monitor_sources_by_health", "Sources by health state", labels=["health"]
        )
        counted = 0
        for state in STATES:
            gauge.add_metric([state], health.get(state, 0))
            counted += health.get(state, 0)
        gauge.add_metric(["unknown"], max(total - counted, 0))
        yield gauge
        yield GaugeMetricFamily("monitor_sources", "Sources known to the database", value=total)
        yield GaugeMetricFamily(
            "monitor_sources_leased", "Sources being polled right now (live lease)", value=leased
        )
        yield GaugeMetricFamily(
            "monitor_operator_notices_pending", "Operator notices not yet sent", value=notices
        )
