"""One article over its work budget never holds up the others (real processes and sockets).

A hostile site serves a 2.3 MB article page of 20,000 distinct matching paragraphs (several
seconds of CPU to extract and match) while the work budget is 1 s of CPU: that article is stopped, recorded as skipped on its source and never retried, and the
other source's article is still polled, matched and alerted in the same cycle. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.corpus import CorpusArticle
from monitor.storage import sources_repo
from monitor.storage.db import create_db_engine
from tests.e2e.harness import HOOK_SECRET, fixture_article, monitor, write_config
from tests.support.newsserver import NewsServer
from tests.support.receivers import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PARAGRAPHS = tuple(
    f"Report {i}: Wagner fighters killed {i} civilians near Moura in central Mali, witnesses said."
    for i in range(20_000)
)  # distinct, so extraction cannot skip repeats


def test_an_article_over_budget_is_skipped_and_the_others_still_alert(
    tmp_path: Path, db_url: str
) -> None:
    hostile = CorpusArticle(id="dense", title="Dense", paragraphs=PARAGRAPHS, lang="en")
    with NewsServer() as news, WebhookReceiver(secrets=(HOOK_SECRET,)) as hook:
        news.add_site("wire", "rss", "share")
        news.add_site("dense", "rss", "plain")
        news.publish("wire", fixture_article("wire-moura"))
        news.publish("dense", hostile)
        sources = [{"name": n, "url": news.feed_url(n), "interval": "0s"} for n in ("dense", "wire")]
        channels = {"hook": {"type": "webhook", "url": hook.url, "secrets": [{"env": "E2E_HOOK_SECRET"}]}}
        settings = {"alert_backlog": True, "jitter": 0, "work": {"cpu_seconds": 1, "wall_seconds": 120}}
        config = write_config(tmp_path, sources, channels, settings)
        env = {"E2E_HOOK_SECRET": HOOK_SECRET, "DATABASE_URL": db_url}
        first = monitor(config, "run", "--once", env=env)
        assert first.returncode == 0, first.stderr
        assert "article skipped source=dense" in first.stderr and "budget" in first.stderr
        assert "Traceback" not in first.stderr
        assert [h.payload["article"]["source"] for h in hook.accepted()] == ["wire"]
        again = monitor(config, "run", "--once", env=env)
        assert again.returncode == 0 and "article skipped" not in again.stderr  # never retried
    engine = create_db_engine(db_url)
    with engine.connect() as conn:
        states = {s.name: s for s in sources_repo.get_states(conn)}
    engine.dispose()
    assert states["dense"].skipped_count == 1 and "budget" in (states["dense"].last_skipped or "")
    assert states["wire"].skipped_count == 0 and states["dense"].error_count == 0
