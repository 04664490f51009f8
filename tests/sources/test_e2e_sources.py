"""End to end over loopback sites without usable feeds: App cycles, real sockets, real webhook.

Three sites: one with only a listing page (navigation noise, tags, pagination, social links),
one with only a gzipped news sitemap behind a sitemap index named in robots.txt, and one added
with `monitor sources add` from its homepage. The first cycle records each backlog silently;
the second ingests exactly the new articles and alerts once for the one a rule matches.
robots.txt disallows /private/: a listed private article is never fetched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from monitor.app import App, CycleReport
from monitor.config.loader import load_config
from tests.e2e.harness import HOOK_SECRET, ROOT, fixture_article, monitor, write_config
from tests.sources.sites import SiteServer
from tests.support.receivers import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ENV = {"E2E_HOOK_SECRET": HOOK_SECRET}


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secrets=(HOOK_SECRET,)) as receiver:
        yield receiver


def _config(tmp_path: Path, sources: list[dict[str, Any]], hook: WebhookReceiver) -> Path:
    channels = {
        "desk-hook": {"type": "webhook", "url": hook.url, "secrets": [{"env": "E2E_HOOK_SECRET"}]}
    }
    return write_config(tmp_path, sources, channels, {"jitter": 0})


def _cycle(config: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CycleReport, list[str]]:
    monkeypatch.setenv("E2E_HOOK_SECRET", HOOK_SECRET)
    app = App(load_config(config, ROOT / "rules"))
    try:
        report = app.run_cycle()
        with app.engine.connect() as conn:
            titles = [r[0] for r in conn.execute(text("SELECT title FROM articles ORDER BY id"))]
    finally:
        app.close()
    assert not [o.error for o in report.sources if o.error], report.sources
    return report, titles


def _two_cycles(
    site: SiteServer,
    config: Path,
    hook: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    backlog: int = 2,
) -> None:
    site.publish(fixture_article("neg-opera"), "opera-review")
    site.publish(fixture_article("neg-actor"), "actor-obituary")
    first, titles = _cycle(config, monkeypatch)
    assert first.new_articles == backlog and first.alerts == 0 and hook.hits == []

    hombori = fixture_article("wire-hombori")
    jihadist = fixture_article("neg-jihadist")
    site.publish(jihadist, "jihadist-film-festival")
    site.publish(hombori, "hombori-attack")
    if site.style != "feed":
        site.publish(fixture_article("wire-moura"), "moura-report", private=True)
    second, titles = _cycle(config, monkeypatch)
    assert second.new_articles == 2, titles
    assert second.alerts == 1
    assert set(titles[-2:]) == {hombori.title, jihadist.title}
    assert len(hook.hits) == 1 and hook.hits[0].verified
    assert hombori.title in hook.hits[0].payload["article"]["headline"]
    assert site.fetched("/private/") == [], "robots.txt disallows /private/"


def test_listing_page_site(
    tmp_path: Path, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SiteServer("listing-site", "listing") as site:
        source = {
            "name": "listing",
            "url": f"{site.base}/section/security",
            "kind": "page",
            "interval": "0s",
        }
        _two_cycles(site, _config(tmp_path, [source], hook), hook, monkeypatch)
        assert site.fetched("?page=2") == [] and site.fetched("/tag/") == []


def test_news_sitemap_site(
    tmp_path: Path, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SiteServer("sitemap-site", "sitemap") as site:
        source = {"name": "sitemap", "url": f"{site.base}/", "kind": "sitemap", "interval": "0s"}
        # the backlog includes the one URL of the old 2019 sitemap the index also lists
        _two_cycles(site, _config(tmp_path, [source], hook), hook, monkeypatch, backlog=3)
        assert site.fetched("/sitemaps/news.xml.gz") == [200, 200]
        assert site.fetched("/robots.txt")


def test_site_added_from_its_homepage(
    tmp_path: Path, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SiteServer("feed-site", "feed") as site:
        config = _config(tmp_path, [], hook)
        config.write_text("# my sources\n" + config.read_text())
        added = monitor(
            config, "sources", "add", f"{site.base}/", "--tag", "sahel", "--write", env=ENV
        )
        assert added.returncode == 0, added.stderr
        assert "announced by the page" in added.stderr
        sources = yaml.safe_load(config.read_text())["sources"]
        assert sources == [
            {
                "name": f"127.0.0.1-{site.base.rsplit(':', 1)[1]}-feeds-all.rss",
                "url": f"{site.base}/feeds/all.rss",
                "tags": ["sahel"],
            }
        ]
        assert config.read_text().startswith("# my sources\n")
        data = yaml.safe_load(config.read_text())
        data["sources"][0]["interval"] = "0s"  # poll again at once in the second cycle
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        _two_cycles(site, config, hook, monkeypatch)
