"""The pipeline with injected fakes: a failing entry is rolled back, reported and retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Connection

from monitor.config.models import FetchSettings, Settings, SourceSpec
from monitor.dedup import DedupInput, DedupResult
from monitor.extract.article import ExtractorPool
from monitor.fetch.client import Fetcher, build_client
from monitor.pipeline import AlertRoute, PipelineDeps, poll_source
from monitor.rules import RuleEngine, load_rules
from monitor.storage import articles_repo, sources_repo
from monitor.storage.db import open_database

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


class FlakyGrouper:
    """Every article is its own story; the article titled `broken` fails while `broken` is set."""

    def __init__(self) -> None:
        self.broken = True

    def classify(self, conn: Connection, item: DedupInput) -> DedupResult:
        if self.broken and item.title == "broken":
            raise RuntimeError("index unavailable")
        return DedupResult(copy_of=None, story_id=item.article_id, reason="story:new")


def feed(request: httpx.Request) -> httpx.Response:
    items = [
        {"id": name, "url": f"https://news.example.org/{name}", "title": name,
         "content_text": f"Text of {name}.", "language": ["not", "a", "string"]}
        for name in ("one", "broken", "three")
    ]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
    return httpx.Response(200, content=body.encode(), headers={"etag": '"v1"'})


def test_a_failing_entry_is_rolled_back_reported_and_retried(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'm.db'}")
    settings = Settings(alert_backlog=True)
    fetch = FetchSettings()
    grouper = FlakyGrouper()
    source = SourceSpec(name="wire", url="https://news.example.org/feed.json", fetch_full=False)
    deps = PipelineDeps(
        engine=engine,
        fetcher=Fetcher(build_client(fetch, httpx.MockTransport(feed)), fetch),
        extractor=ExtractorPool(1),
        rules=RuleEngine.compile(load_rules(ROOT / "rules")),
        grouper=grouper,
        settings=settings,
        clock=lambda: NOW,
        route_for=lambda rule: AlertRoute(("console",)),
    )
    with engine.begin() as conn:
        sources_repo.sync_sources(conn, [source])
        (state,) = sources_repo.get_states(conn)

    outcome = poll_source(deps, source, state)
    assert outcome.error is not None and outcome.error.startswith("entry:")
    assert outcome.new_articles == 2
    with engine.connect() as conn:
        (state,) = sources_repo.get_states(conn)
        titles = [row["title"] for row in articles_repo.iter_articles(conn)]
    assert titles == ["one", "three"]
    assert state.error_count == 1 and state.last_error_kind == "entry"
    assert "index unavailable" in (state.last_error or "")
    assert state.etag is None  # validators not saved: the next poll refetches in full

    grouper.broken = False
    outcome = poll_source(deps, source, state)
    assert outcome.error is None and outcome.new_articles == 1
    with engine.connect() as conn:
        (state,) = sources_repo.get_states(conn)
        titles = [row["title"] for row in articles_repo.iter_articles(conn)]
        assert all(row["language"] is None for row in articles_repo.iter_articles(conn))
    assert titles == ["one", "three", "broken"] and state.error_count == 0
    deps.extractor.close()
    engine.dispose()
