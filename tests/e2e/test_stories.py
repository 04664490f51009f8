"""End to end: six copies of one wire story through six feeds give ONE alert naming the other
five outlets; a different incident the same week gives its own alert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.corpus import CorpusArticle, parse_article
from tests.e2e.harness import HOOK_SECRET, ROOT, export, monitor, write_config
from tests.support.newsserver import NewsServer
from tests.support.receivers import SmtpServer, WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CORPUS = ROOT / "tests" / "fixtures" / "dedup_corpus"
ENV = {"E2E_HOOK_SECRET": HOOK_SECRET}
SITES = [("wire", "rss", "share"), ("portal", "atom", "portal"), ("desk", "json", "plain"),
         ("daily", "rss", "plain"), ("globe", "atom", "share"), ("post", "json", "portal")]


def corpus(name: str) -> CorpusArticle:
    path = next(CORPUS.rglob(f"{name}.md"))
    return parse_article(path.read_text(encoding="utf-8"), path=path)


@pytest.fixture
def world() -> Iterator[tuple[NewsServer, SmtpServer, WebhookReceiver]]:
    with NewsServer() as news, SmtpServer() as smtp, WebhookReceiver(secrets=(HOOK_SECRET,)) as hook:
        for name, fmt, boiler in SITES:
            news.add_site(name, fmt, boiler)
        yield news, smtp, hook


def test_six_copies_one_alert_two_incidents_two_alerts(
    tmp_path: Path, world: tuple[NewsServer, SmtpServer, WebhookReceiver]
) -> None:
    news, smtp, hook = world
    copies = ["wire-tiema", "wire-tiema-copy1", "wire-tiema-copy2", "wire-tiema-copy3",
              "wire-tiema-copy4", "wire-tiema-copy5"]
    for (site, _, _), name in zip(SITES, copies, strict=True):
        news.publish(site, corpus(name), slug=f"{name}-page")
    news.publish("portal", corpus("wire-sanakoro"), slug="sanakoro")  # another incident, same week

    sources = [{"name": name, "url": news.feed_url(name)} for name, _, _ in SITES]
    channels = {
        "desk-email": {"type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
                       "from": "monitor@example.org", "to": ["analysts@example.org"]},
        "desk-hook": {"type": "webhook", "url": hook.url, "secrets": [{"env": "E2E_HOOK_SECRET"}]},
    }
    config = write_config(tmp_path, sources, channels, {"alert_backlog": True})
    result = monitor(config, "run", "--once", env=ENV)
    assert result.returncode == 0, result.stderr

    assert len(hook.hits) == 2, [r.payload for r in hook.hits]
    assert len(smtp.emails()) == 2
    by_story = {r.payload["story_id"]: r.payload for r in hook.hits}
    tiema = next(p for p in by_story.values() if "Tiema" in str(p) or "Djenne" in str(p))
    carriers = {c["source"] for c in tiema["also_carried_by"]}
    alerted_source = tiema["article"]["source"]
    assert carriers == {name for name, _, _ in SITES} - {alerted_source}, tiema["also_carried_by"]
    sanakoro = next(p for p in by_story.values() if p is not tiema)
    assert "31" in sanakoro["article"]["headline"] and sanakoro["also_carried_by"] == []

    records = export(config, ENV)
    tiema_records = [r for r in records if r["story_id"] == tiema["story_id"]]
    assert len(tiema_records) == 6
    # Which copy arrives first varies between runs (six feeds polled concurrently). A garbled full
    # copy arriving after a lead-only copy is grouped into the story but not recognised as a copy
    # (a known order dependence, see the issue note), so more than one "original" can appear;
    # every copy still points at an article of the same story and the story alerts once.
    ids = {r["id"] for r in tiema_records}
    assert any(r["copy_of"] is None for r in tiema_records)
    assert sum(r["copy_of"] is not None for r in tiema_records) >= 4
    assert all(r["copy_of"] in ids for r in tiema_records if r["copy_of"] is not None)
