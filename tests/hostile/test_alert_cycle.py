"""Hostile articles that match a rule, through two real cycles to a real SMTP server and webhook.

Dense pages (one matching sentence repeated: 66 KB and 198 KB) must match quickly within the
memory limit; a 5 MB title must be bounded in storage and in the webhook body; a title made only
of an RFC 2047 encoded word must still give a non-empty, safe subject; header, HTML and mention
injection must be escaped; and a source whose feed is empty at its first poll must alert on its
first real item (the catch-up is the first *successful* poll).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest

from tests.hostile.support import (
    HostileServer,
    Ran,
    Reply,
    article_titles,
    assert_no_traceback,
    rss,
    run_monitor,
    write_config,
)
from tests.support.receivers import Hit, SmtpServer, WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(450)]  # two cycles of up to 200 s

# Each source reports a different event, so that no two articles are copies of one story.
EVENTS = {
    "dense-66k": "Wagner group fighters killed civilians in the village of Moura in central Mali.",
    "dense-198k": "Russian mercenaries executed villagers near Menaka in eastern Mali.",
    "huge-title": "Wagner group fighters killed twelve herders near Gao in northern Mali.",
    "rfc2047": "Wagner fighters shot dead traders at the market of Kidal in Mali.",
    "injection": "Wagner group fighters killed worshippers at a mosque in Tessit in northern Mali.",
    "empty-first": "Russian mercenaries killed women and children in Hombori, central Mali.",
}
HUGE = 5 * 10**6
INJECTED = ("Wagner group fighters kill worshippers in Tessit&#13;&#10;Bcc: victim@example.org&#13;&#10; "
            "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &lt;@U123&gt;")


@dataclass
class World:
    first: Ran
    second: Ran
    emails: list[EmailMessage]
    hits: list[Hit]
    slack: list[Hit]
    titles: list[str]


def _item(name: str, title: str, *, link_path: str | None = None) -> dict[str, str]:
    return {
        "title": title,
        "link": f"http://127.0.0.1/{link_path or name}/1",
        "guid": f"{name}-1",
        "description": f"{EVENTS[name]} Witnesses in {name} described the attack.",
    }


def _page(sentence: str, size: int) -> bytes:
    repeats = size // len(sentence) + 1
    paragraphs = "".join(f"<p>{sentence * 10}</p>" for _ in range(repeats // 10 + 1))
    return (f"<html><head><title>{sentence}</title></head><body><article><h1>{sentence}</h1>"
            f"{paragraphs}</article></body></html>").encode()


def _routes(server: HostileServer) -> dict[str, Reply]:
    routes: dict[str, Reply] = {}
    for name, size in (("dense-66k", 66_000), ("dense-198k", 198_000)):
        routes[f"/{name}/page"] = Reply(body=_page(EVENTS[name] + " ", size), ctype="text/html")
        item = _item(name, EVENTS[name])
        item["link"] = server.url(f"/{name}/page")
        routes[f"/{name}"] = Reply(body=rss([item]))
    huge_title = EVENTS["huge-title"] + " " + "lorem ipsum " * (HUGE // 12)
    routes["/huge-title"] = Reply(body=rss([_item("huge-title", huge_title)]))
    routes["/rfc2047"] = Reply(body=rss([_item("rfc2047", "=?utf-8?q?Wagner_fighters_in_Kidal?=")]))
    routes["/injection"] = Reply(body=rss([_item("injection", INJECTED)]))
    routes["/empty-first"] = Reply(body=rss([]))
    return routes


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp_path = tmp_path_factory.mktemp("alerts")
    with (
        HostileServer() as server,
        SmtpServer() as smtp,
        WebhookReceiver() as hook,
        WebhookReceiver(default=200) as slack,
    ):
        server.routes.update(_routes(server))
        sources = [
            {"name": name, "url": server.url(name), "interval": "0s",
             "fetch_full": name.startswith("dense"), "alert_backlog": name != "empty-first"}
            for name in EVENTS
        ]
        channels: dict[str, Any] = {
            "mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port,
                     "security": "none", "from": "monitor@example.org",
                     "to": ["analysts@example.org"]},
            "hook": {"type": "webhook", "url": hook.url},
            "chat": {"type": "slack", "url": {"env": "HOSTILE_SLACK_URL"}, "rate_limit": 100},
        }
        settings = {"default_channels": ["mail", "hook", "chat"]}
        config = write_config(tmp_path, sources, channels, settings)
        env = {"HOSTILE_SLACK_URL": slack.url}
        first = run_monitor(config, "run", "--once", env=env, timeout=200)
        server.routes["/empty-first"] = Reply(body=rss([_item("empty-first", EVENTS["empty-first"])]))
        second = run_monitor(config, "run", "--once", env=env, timeout=200)
        titles = article_titles(config)
        yield World(first, second, smtp.emails(), list(hook.hits), list(slack.hits), titles)


def _hits_for(world: World, name: str) -> list[Hit]:
    return [h for h in world.hits if h.payload["article"]["source"] == name]


def _emails_for(world: World, name: str) -> list[EmailMessage]:
    found = []
    for mail in world.emails:
        body = mail.get_body(("plain",))
        if body is not None and f"/{name}/" in body.get_content():
            found.append(mail)
    return found


def test_both_cycles_finish_without_a_traceback(world: World) -> None:
    for ran in (world.first, world.second):
        assert_no_traceback(ran)
        assert ran.returncode == 0, ran.output[-3000:]


@pytest.mark.parametrize("name", ["dense-66k", "dense-198k"])
def test_dense_pages_match_within_the_limits(world: World, name: str) -> None:
    """One alert per dense page, inside the memory limit (M's linear-time matching)."""
    assert len(_hits_for(world, name)) == 1, world.first.output[-3000:]


def test_a_5_mb_title_is_bounded_in_storage_and_in_the_webhook_body(world: World) -> None:
    (hit,) = _hits_for(world, "huge-title")
    assert len(hit.body) < 100_000
    assert hit.payload["article"]["headline"].startswith("Wagner group fighters")
    (stored,) = [t for t in world.titles if t.startswith(EVENTS["huge-title"][:40])]
    assert len(stored) <= 1_000
    (mail,) = _emails_for(world, "huge-title")
    assert len(str(mail["Subject"])) < 300


def test_an_encoded_word_title_gives_a_non_empty_safe_subject(world: World) -> None:
    (mail,) = _emails_for(world, "rfc2047")
    subject = str(mail["Subject"])
    assert "Kidal" in subject and "=?" not in subject
    assert subject.strip() not in ("", "[news-monitor]")


def test_injection_in_a_title_is_escaped_everywhere(world: World) -> None:
    (mail,) = _emails_for(world, "injection")
    assert mail["Bcc"] is None and "\n" not in str(mail["Subject"])
    html = mail.get_body(("html",))
    assert html is not None and "<script>" not in html.get_content()
    (hit,) = _hits_for(world, "injection")
    assert b"\r" not in hit.body and b"\n" not in hit.body  # escaped inside JSON strings
    assert json.loads(hit.body)["article"]["headline"].startswith("Wagner group fighters")
    (chat,) = [h for h in world.slack if b"Tessit" in h.body]
    for forbidden in (b"<!channel>", b"<@U123>", b"<script>"):
        assert forbidden not in chat.body


def test_an_empty_first_poll_then_one_matching_item_gives_one_alert(world: World) -> None:
    assert len(_hits_for(world, "empty-first")) == 1, world.second.output[-3000:]
    assert len(_emails_for(world, "empty-first")) == 1


def test_each_story_alerted_once(world: World) -> None:
    sources = sorted(h.payload["article"]["source"] for h in world.hits)
    assert sources == sorted(EVENTS), sources
