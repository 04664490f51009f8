"""Metrics: counters the pipeline bumps and gauges read from the database, in the text format
that Prometheus parses (checked with prometheus_client's own parser)."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from monitor.delivery.outbox import enqueue
from monitor.metrics import Metrics
from monitor.storage.tables import articles
from tests.ops.conftest import T0


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_are_per_registry_and_bounded() -> None:
    a, b = Metrics(), Metrics()
    a.poll_done("ok")
    a.poll_done("timeout")
    a.fetch_observed(0.3, "feed")
    a.articles_ingested(3)
    a.deliveries_done(sent=2, retrying=1, failed=0, dead=0)
    for n in range(250):
        a.alert_queued(f"rule-{n}", ["desk"])
    got = samples(a)
    assert got[("monitor_polls_total", (("outcome", "ok"),))] == 1
    assert got[("monitor_articles_ingested_total", ())] == 3
    assert got[("monitor_deliveries_total", (("outcome", "sent"),))] == 2
    assert got[("monitor_fetch_seconds_count", (("kind", "feed"),))] == 1
    assert got[("monitor_alerts_queued_total", (("channel", "desk"), ("rule", "other")))] == 50
    assert ("monitor_polls_total", (("outcome", "ok"),)) not in samples(b)


def test_database_gauges_read_the_outbox_at_scrape_time(engine: Engine) -> None:
    now = T0 + timedelta(minutes=10)
    with engine.begin() as conn:
        article = conn.execute(
            articles.insert().values(
                source="wire", url="https://wire.example.org/a", canonical_url="https://wire.example.org/a",
                title="t", text="x", fetched_at=T0, extraction="feed", tags=[],
            )
        ).inserted_primary_key[0]
        enqueue(conn, rule="coups", story_id=1, article_id=int(article), payload={"headline": "t"},
                channels=["desk", "ops"], now=T0)
    metrics = Metrics()
    metrics.watch_database(engine, lambda: now)
    got = samples(metrics)
    assert got[("monitor_db_up", ())] == 1
    assert got[("monitor_outbox_depth", ())] == 2
    assert got[("monitor_deliveries_by_state", (("channel", "desk"), ("state", "pending")))] == 1
    assert got[("monitor_outbox_oldest_age_seconds", ())] == 600
    engine.dispose()


def test_an_unreachable_database_is_a_gauge_not_an_error(tmp_path: object) -> None:
    from sqlalchemy import create_engine

    metrics = Metrics()
    metrics.watch_database(create_engine("sqlite:////nonexistent/dir/x.db"), lambda: T0)
    assert samples(metrics)[("monitor_db_up", ())] == 0
