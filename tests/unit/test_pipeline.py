"""The pipeline with injected fakes (mock transport, in-line work stage), on a real database.

Covers: a failing entry rolled back alone, reported and retried; the catch-up is the first
successful poll (an empty feed counts); a feed over the cap keeps the newest entries and says so;
HTTP 410 disables the source with one operator notice; backoff counts from the end of the poll;
an article over its work budget is skipped, counted, and never retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, select

from monitor.config.models import Settings, SourceSpec
from monitor.dedup import DedupInput, DedupResult
from monitor.delivery.tables import operator_notices
from monitor.health.tables import source_health
from monitor.pipeline import AlertRoute, Pipeline, PipelineDeps
from monitor.pipeline.model import MatchOut, Worked, WorkItem
from monitor.pipeline.stages import OLDEST
from monitor.storage import articles_repo, sources_repo
from monitor.storage.db import open_database
from monitor.storage.direct import Given, Read
from monitor.storage.tables import alerts
from monitor.work.feeds import FeedJob, FeedResult, parse_feed_job

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
FEED_URL = "https://news.example.org/feed.json"


class FlakyGrouper:
    """Every article is its own story; the article titled `broken` fails while `broken` is set."""

    def __init__(self) -> None:
        self.broken = True

    def lock(self, conn: Connection) -> None:
        pass  # one process, SQLite: nothing to serialise

    def reads_ahead(self, conn: Connection, item: DedupInput) -> list[Read]:
        return []  # nothing to look up

    def classify(
        self, conn: Connection, item: DedupInput, given: Given | None = None
    ) -> DedupResult:
        if self.broken and item.title == "broken":
            raise RuntimeError("index unavailable")
        return DedupResult(copy_of=None, story_id=item.article_id, reason="story:new")

    def story_ids(self, conn: Connection, story_id: int) -> list[int]:
        return [story_id]  # stories are never joined here


class InlineWork:
    """The work stage in-line: the feed's fields become the article; `alert-me` matches `r`;
    a title `huge` is over budget."""

    def submit(self, item: WorkItem) -> Future[Worked]:
        future: Future[Worked] = Future()
        if item.entry.title == "huge":
            future.set_result(Worked(None, skipped="cpu budget exceeded (10 s)"))
            return future
        article = articles_repo.NewArticle(
            source=item.source.name, guid=item.entry.guid, url=item.page_url,
            canonical_url=item.page_url, title=item.entry.title, text=item.entry.content,
            author=None, site_name=None, language=None, published_at=item.entry.published,
            fetched_at=OLDEST, extraction="feed", tags=(),
        )
        matches = (MatchOut("r", {"rule": "r", "passages": []}),)
        hit = item.alerting and item.entry.title == "alert-me"
        future.set_result(Worked(article, matches if hit else ()))
        return future

    def parse_feed(self, job: FeedJob) -> Future[FeedResult]:
        """Parsed in-line; a feed with an item `hostile-feed` is over budget."""
        future: Future[FeedResult] = Future()
        over = b'"hostile-feed"' in job.body
        future.set_result(job.skipped("cpu budget exceeded (10 s)") if over else parse_feed_job(job))
        return future

    def close(self) -> None:
        pass


def json_feed(names: list[str], status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        items = [
            {"id": n, "url": f"https://news.example.org/{n}", "title": n.split("#")[0],
             "content_text": f"Text of {n}.",
             "date_published": (NOW - timedelta(minutes=i)).isoformat()}
            for i, n in enumerate(names)
        ]
        body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
        return httpx.Response(status, content=body.encode(), headers={"etag": '"v1"'})

    return handler


class Rig:
    def __init__(self, tmp_path: Path, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.engine = open_database(f"sqlite:///{tmp_path / 'm.db'}")
        self.names: list[str] = []
        self.status = 200
        self.grouper = FlakyGrouper()
        self.grouper.broken = False
        self.source = SourceSpec(name="wire", url=FEED_URL, fetch_full=False)
        deps = PipelineDeps(
            engine=self.engine, work=InlineWork(), grouper=self.grouper, settings=settings,
            clock=clock, route_for=lambda rule: AlertRoute(("console",)), owner="h:1:x",
            fetch_transport=httpx.MockTransport(
                lambda r: json_feed(self.names, self.status)(r)),
        )
        self.pipeline = Pipeline(deps)
        with self.engine.begin() as conn:
            sources_repo.sync_sources(conn, [self.source])

    def poll(self) -> tuple[object, sources_repo.SourceState]:
        with self.engine.connect() as conn:
            (state,) = sources_repo.get_states(conn)
        (future,) = self.pipeline.submit([(self.source, state)])
        outcome = future.result(timeout=30)
        with self.engine.connect() as conn:
            (state,) = sources_repo.get_states(conn)
        return outcome, state

    def titles(self) -> list[str]:
        with self.engine.connect() as conn:
            return [row["title"] for row in articles_repo.iter_articles(conn)]

    def count(self, table: object) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(table)).all())  # type: ignore[call-overload]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path, Settings(alert_backlog=True, jitter=0), lambda: NOW)
    yield made
    made.pipeline.close(5)
    made.engine.dispose()


def test_a_failing_entry_is_rolled_back_reported_and_retried(rig: Rig) -> None:
    rig.grouper.broken = True
    rig.names = ["one", "broken", "three"]
    outcome, state = rig.poll()
    assert outcome.error is not None and outcome.error.startswith("entry:")  # type: ignore[attr-defined]
    assert sorted(rig.titles()) == ["one", "three"]
    assert state.error_count == 1 and state.last_error_kind == "entry"
    assert "index unavailable" in (state.last_error or "")
    assert state.etag is None and state.lease_owner is None

    rig.grouper.broken = False
    outcome, state = rig.poll()
    assert outcome.error is None and outcome.new_articles == 1  # type: ignore[attr-defined]
    assert sorted(rig.titles()) == ["broken", "one", "three"] and state.error_count == 0


def test_empty_feed_at_first_poll_is_the_catch_up_so_the_next_item_alerts(tmp_path: Path) -> None:
    rig = Rig(tmp_path, Settings(jitter=0), lambda: NOW)
    try:
        outcome, state = rig.poll()
        assert outcome.error is None and state.backlog_seen  # type: ignore[attr-defined]
        rig.names = ["alert-me"]
        outcome, state = rig.poll()
        assert outcome.alerts == 1 and rig.count(alerts) == 1  # type: ignore[attr-defined]
    finally:
        rig.pipeline.close(5)


def test_backlog_at_first_poll_does_not_alert(tmp_path: Path) -> None:
    rig = Rig(tmp_path, Settings(jitter=0), lambda: NOW)
    try:
        rig.names = ["alert-me"]
        outcome, _ = rig.poll()
        assert outcome.new_articles == 1 and outcome.alerts == 0  # type: ignore[attr-defined]
    finally:
        rig.pipeline.close(5)


def test_a_feed_over_the_cap_keeps_the_newest_and_records_the_cut(tmp_path: Path) -> None:
    rig = Rig(tmp_path, Settings(alert_backlog=True, jitter=0, max_feed_entries=3), lambda: NOW)
    try:
        rig.names = [f"n{i}" for i in range(5)]  # n0 is the newest
        _, state = rig.poll()
        assert sorted(rig.titles()) == ["n0", "n1", "n2"]
        assert state.entries_cut == 2 and "newest 3 of 5" in (state.last_note or "")
    finally:
        rig.pipeline.close(5)


def test_http_410_disables_the_source_with_one_operator_notice(tmp_path: Path) -> None:
    settings = Settings.model_validate({"jitter": 0, "delivery": {"operator_channels": ["ops"]}})
    rig = Rig(tmp_path, settings, lambda: NOW)
    try:
        rig.status = 410
        _, state = rig.poll()
        assert state.disabled_at is not None and "410" in (state.disabled_reason or "")
        assert rig.count(operator_notices) == 1
        claimed = sources_repo.claim_due(rig.engine, ["wire"], now=NOW + timedelta(days=9),
                                         owner="h:2:y")
        assert claimed == []  # never polled again
    finally:
        rig.pipeline.close(5)


def test_backoff_counts_from_the_end_of_the_poll(tmp_path: Path) -> None:
    ticks = iter(NOW + timedelta(minutes=10 * i) for i in range(100))
    rig = Rig(tmp_path, Settings(jitter=0, default_interval=timedelta(minutes=1)),
              lambda: next(ticks))
    try:
        rig.status = 500
        _, state = rig.poll()
        assert state.last_polled_at is not None and state.next_poll_at is not None
        assert state.next_poll_at - state.last_polled_at == timedelta(minutes=2)
    finally:
        rig.pipeline.close(5)


def test_an_article_over_budget_is_skipped_counted_and_not_retried(rig: Rig) -> None:
    rig.names = ["huge", "alert-me"]
    outcome, state = rig.poll()
    assert outcome.skipped == 1 and outcome.alerts == 1  # type: ignore[attr-defined]
    assert state.skipped_count == 1 and "budget" in (state.last_skipped or "")
    outcome, state = rig.poll()
    assert outcome.skipped == 0 and state.skipped_count == 1  # type: ignore[attr-defined]


def test_a_feed_over_budget_fails_its_poll_with_the_reason_and_the_next_poll_reads_it(
    rig: Rig,
) -> None:
    rig.names = ["hostile-feed"]
    outcome, state = rig.poll()
    assert "feed not parsed: cpu budget exceeded (10 s)" in (outcome.error or "")  # type: ignore[attr-defined]
    assert state.error_count == 1 and state.last_error_kind == "parse"
    assert state.lease_owner is None and rig.titles() == []
    assert rig.count(source_health) == 1  # the response's facts are recorded all the same
    rig.names = ["one"]
    outcome, state = rig.poll()
    assert outcome.error is None and state.error_count == 0  # type: ignore[attr-defined]
    assert rig.titles() == ["one"]


def test_claim_is_one_statement_and_takes_over_dead_local_owners_at_once(db_url: str) -> None:
    import subprocess
    import sys

    engine = open_database(db_url)
    specs = [SourceSpec(name=f"s{i}", url=f"https://ex.org/{i}") for i in range(4)]
    with engine.begin() as conn:
        sources_repo.sync_sources(conn, specs)
    names = [s.name for s in specs]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    host = sources_repo.new_owner().rsplit(":", 2)[0]
    dead_owner = f"{host}:{dead}:dead"
    assert sources_repo.claim_due(engine, names[:2], now=NOW, owner=dead_owner) == ["s0", "s1"]
    assert sources_repo.claim_due(engine, names[2:], now=NOW, owner="elsewhere:1:live") == [
        "s2", "s3"]
    me = sources_repo.new_owner()
    # the dead local owner's leases are taken over at once; the live remote one's are not
    assert sources_repo.claim_due(engine, names, now=NOW, owner=me, limit=10) == ["s0", "s1"]
    with engine.connect() as conn:
        states = {s.name: s for s in sources_repo.get_states(conn)}
    assert states["s0"].leased_by(NOW) == me and states["s3"].leased_by(NOW) == "elsewhere:1:live"
    assert sources_repo.renew(engine, names, owner=me, now=NOW) == {"s0", "s1"}
    with engine.begin() as conn:
        sources_repo.release(conn, ["s0"], owner=me)
        sources_repo.release(conn, ["s3"], owner=me)  # not ours: untouched
        states = {s.name: s for s in sources_repo.get_states(conn)}
    assert states["s0"].lease_owner is None and states["s3"].lease_owner == "elsewhere:1:live"
    later = NOW + timedelta(seconds=91)  # every lease expired: any owner claims, in one statement
    assert sources_repo.claim_due(engine, names, now=later, owner="h:9:z") == names
    engine.dispose()


def test_a_source_refused_by_robots_txt_is_shown_as_robots() -> None:
    from monitor.pipeline.stages import error_kind
    from monitor.sources import SourceDenied

    assert error_kind(SourceDenied("robots.txt disallows https://example.org/section")) == "robots"
