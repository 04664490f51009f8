"""End to end over real sockets: news server -> `monitor run --once` -> SMTP and webhook.

Three sites publish fixture articles in RSS, Atom and JSON Feed with different boilerplate.
The first cycle only records each source's backlog; after new articles appear, the second cycle
alerts exactly once per story on both channels; a third cycle sends nothing and the feeds
answer 304 Not Modified.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import HOOK_SECRET, export, fixture_article, monitor, write_config
from tests.support.newsserver import NewsServer
from tests.support.receivers import SmtpServer, WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ENV = {"E2E_HOOK_SECRET": HOOK_SECRET}


@pytest.fixture
def world() -> Iterator[tuple[NewsServer, SmtpServer, WebhookReceiver]]:
    with NewsServer() as news, SmtpServer() as smtp, WebhookReceiver(secrets=(HOOK_SECRET,)) as hook:
        news.add_site("wire", "rss", "share")
        news.add_site("portal", "atom", "portal")
        news.add_site("desk", "json", "plain")
        yield news, smtp, hook


def config_for(tmp_path: Path, news: NewsServer, smtp: SmtpServer, hook: WebhookReceiver) -> Path:
    sources = [{"name": name, "url": news.feed_url(name), "interval": "0s"} for name in news.sites]
    channels: dict[str, Any] = {
        "desk-email": {
            "type": "email",
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "from": "monitor@example.org",
            "to": ["analysts@example.org"],
        },
        "desk-hook": {"type": "webhook", "url": hook.url, "secrets": [{"env": "E2E_HOOK_SECRET"}]},
    }
    return write_config(tmp_path, sources, channels, {"jitter": 0})


def test_backlog_then_alerts_then_quiet(
    tmp_path: Path, world: tuple[NewsServer, SmtpServer, WebhookReceiver]
) -> None:
    news, smtp, hook = world
    config = config_for(tmp_path, news, smtp, hook)
    news.publish("wire", fixture_article("neg-opera"))
    news.publish("desk", fixture_article("neg-mutiny"))
    news.publish("portal", fixture_article("wire-moura"), slug="old-moura-copy")

    first = monitor(config, "run", "--once", env=ENV)
    assert first.returncode == 0, first.stderr
    assert smtp.emails() == [] and hook.hits == []  # backlog does not alert

    hombori = fixture_article("wire-hombori")
    news.publish("wire", fixture_article("neg-jihadist"))
    news.publish("wire", hombori)
    news.publish("desk", fixture_article("neg-actor"))
    news.publish("portal", fixture_article("neg-opera"), slug="opera-review")

    second = monitor(config, "run", "--once", env=ENV)
    assert second.returncode == 0, second.stderr
    assert len(smtp.emails()) == 1, ([m["Subject"] for m in smtp.emails()], second.stderr)
    assert len(hook.hits) == 1
    assert all(r.verified for r in hook.hits)
    assert hombori.title in hook.hits[0].payload["article"]["headline"]
    mail = smtp.emails()[0]
    assert hombori.title[:40] in mail["Subject"]
    assert mail.get_body(("plain",)) is not None and mail.get_body(("html",)) is not None
    assert "<mark>" in mail.get_body(("html",)).get_content()

    third = monitor(config, "run", "--once", env=ENV)
    assert third.returncode == 0, third.stderr
    assert len(smtp.emails()) == 1 and len(hook.hits) == 1
    feed_statuses = {site: news.statuses(f"/{site}/feed") for site in news.sites}
    assert all(statuses[-1] == 304 for statuses in feed_statuses.values()), feed_statuses

    records = export(config, ENV)
    by_title = {r["title"]: r for r in records}
    assert by_title[hombori.title]["rules"], "the Hombori report matched a rule"
    assert not by_title[fixture_article("neg-actor").title]["rules"]
    assert {
        "url",
        "canonical_url",
        "source",
        "title",
        "language",
        "published",
        "fetched",
        "rules",
        "story_id",
        "copy_of",
    } <= set(records[0])
    assert all("utm_" not in r["canonical_url"] for r in records)
