"""A hostile web, polled in one real cycle: every source below misbehaves in its own way.

One `monitor run --once` (1 GiB address-space limit, real SQLite) polls them all; each test then
reads its source's row. Trickling and silent servers must be cut at the fetch deadline, bombs at
the size cap, entity tricks must stay inert, redirects to private addresses must be refused at
connect time, 429/503 must honour Retry-After, 410 must disable the source, a failing source's
backoff must count from the end of its poll, a long feed must be cut to the newest N with the cut
recorded, and an empty feed must be a successful poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.hostile.support import (
    HostileServer,
    Ran,
    Reply,
    article_titles,
    assert_no_traceback,
    compression_bomb,
    rss,
    run_monitor,
    source_rows,
    write_config,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(200)]

MAX_FEED_ENTRIES = 50

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>laughs &lol9;</title>
<link>http://127.0.0.1/laughs</link><description>&lol9;</description></item></channel></rss>"""

QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "' + b"x" * 50_000 + b'">]>'
    b"<rss version='2.0'><channel><title>q</title><item><title>quadratic "
    + b"&a;" * 50_000
    + b"</title><link>http://127.0.0.1/quadratic</link></item></channel></rss>"
)

XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">
<!ENTITY remote SYSTEM "http://169.254.169.254/latest/meta-data/">]>
<rss version="2.0"><channel><title>t</title><item><title>xxe &xxe; &remote;</title>
<link>http://127.0.0.1/xxe</link></item></channel></rss>"""


@dataclass
class World:
    ran: Ran
    rows: dict[str, dict[str, Any]]
    titles: list[str]
    server: HostileServer
    started: datetime


def _redirect(to: str) -> Reply:
    return Reply(302, b"", "text/plain", {"location": to})


def _routes(server: HostileServer) -> dict[str, Reply]:
    port = server.port
    items = [
        {"title": f"item {i}", "link": f"http://127.0.0.1/capped/{i}",
         "pubDate": (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i)).strftime(
             "%a, %d %b %Y %H:%M:%S +0000")}
        for i in range(MAX_FEED_ENTRIES + 70)
    ]
    return {
        "/trickle": Reply(behaviour="trickle"),
        "/silent": Reply(behaviour="silent"),
        "/gzip-bomb": Reply(body=compression_bomb("gzip"), headers={"content-encoding": "gzip"}),
        "/deflate-bomb": Reply(
            body=compression_bomb("deflate"), headers={"content-encoding": "deflate"}
        ),
        "/laughs": Reply(body=LAUGHS),
        "/quadratic": Reply(body=QUADRATIC),
        "/xxe": Reply(body=XXE),
        "/redirect-v4": _redirect(f"http://127.0.0.2:{port}/empty"),
        "/redirect-mapped": _redirect(f"http://[::ffff:127.0.0.2]:{port}/empty"),
        "/redirect-integer": _redirect(f"http://2130706434:{port}/empty"),
        "/redirect-short": _redirect(f"http://127.2:{port}/empty"),
        "/redirect-metadata": _redirect("http://169.254.169.254/latest/meta-data/"),
        "/rate-limited": Reply(429, b"slow down", "text/plain", {"retry-after": "3600"}),
        "/unavailable": Reply(503, b"maintenance", "text/plain", {"retry-after": "7200"}),
        "/broken": Reply(500, b"oops", "text/plain"),
        "/gone": Reply(410, b"gone", "text/plain"),
        "/slow-failure": Reply(500, b"late oops", "text/plain", delay=3.0),
        "/capped": Reply(body=rss(items)),
        "/empty": Reply(body=rss([])),
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp_path = tmp_path_factory.mktemp("fetch")
    with HostileServer() as server:
        server.routes.update(_routes(server))
        sources = [
            {"name": path.strip("/"), "url": server.url(path), "interval": "1s",
             "fetch_full": False}
            for path in server.routes
        ]
        settings = {
            "max_feed_entries": MAX_FEED_ENTRIES,
            "fetch": {"allow_networks": ["127.0.0.1/32"], "deadline": "4s",
                      "read_timeout": "5s", "concurrency": 32, "per_host_concurrency": 16},
        }
        config = write_config(tmp_path, sources, settings=settings)
        started = datetime.now(UTC)
        ran = run_monitor(config, "run", "--once", timeout=150)
        yield World(ran, source_rows(config), article_titles(config), server, started)


def _when(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def test_the_cycle_finishes_without_a_traceback(world: World) -> None:
    assert_no_traceback(world.ran)
    assert world.ran.returncode in (0, 1), world.ran.output[-3000:]  # 1: some sources failed


@pytest.mark.parametrize("name", ["trickle", "silent"])
def test_trickling_and_silent_servers_are_cut_at_the_deadline(world: World, name: str) -> None:
    row = world.rows[name]
    assert row["last_error_kind"] == "timeout", row
    assert row["error_count"] == 1


@pytest.mark.parametrize("name", ["gzip-bomb", "deflate-bomb"])
def test_compression_bombs_stop_at_the_size_cap(world: World, name: str) -> None:
    row = world.rows[name]
    assert row["last_error_kind"] == "too_large", row


@pytest.mark.parametrize("name", ["laughs", "quadratic", "xxe"])
def test_entity_tricks_are_inert(world: World, name: str) -> None:
    row = world.rows[name]
    assert row["last_error"] is None and row["last_success_at"] is not None, row
    (title,) = [t for t in world.titles if t.startswith(name)]
    assert len(title) < 2000 and "root:" not in title and "lollol" not in title


@pytest.mark.parametrize(
    "name",
    ["redirect-v4", "redirect-mapped", "redirect-integer", "redirect-short", "redirect-metadata"],
)
def test_redirects_to_private_addresses_are_refused(world: World, name: str) -> None:
    row = world.rows[name]
    assert row["last_error_kind"] == "blocked_address", row
    assert world.server.hits("/empty") == 1  # only the `empty` source itself reached it


@pytest.mark.parametrize(("name", "seconds"), [("rate-limited", 3600), ("unavailable", 7200)])
def test_retry_after_is_honoured(world: World, name: str, seconds: int) -> None:
    row = world.rows[name]
    assert row["last_error_kind"] == "rate_limited", row
    assert _when(row["next_poll_at"]) >= world.started + timedelta(seconds=seconds - 60)


def test_a_server_error_backs_off_and_is_kept(world: World) -> None:
    row = world.rows["broken"]
    assert row["last_error_kind"] == "http_status" and "500" in row["last_error"], row
    assert row["error_count"] == 1 and _when(row["next_poll_at"]) > _when(row["last_polled_at"])


def test_410_gone_disables_the_source(world: World) -> None:
    row = world.rows["gone"]
    assert row["disabled_at"] is not None and "410" in (row["disabled_reason"] or ""), row


def test_backoff_counts_from_the_end_of_the_poll(world: World) -> None:
    """interval 1s, one failure: a 2 s backoff. The server answered 3 s after the poll began, so
    a backoff counted from the start would already have expired when the poll ended."""
    row = world.rows["slow-failure"]
    (answered,) = world.server.answered["/slow-failure"]
    assert row["error_count"] == 1, row
    assert _when(row["next_poll_at"]) >= datetime.fromtimestamp(answered, UTC), row


def test_a_long_feed_keeps_the_newest_entries_and_records_the_cut(world: World) -> None:
    row = world.rows["capped"]
    assert row["last_error"] is None and row["entries_cut"] == 70, row
    kept = sorted(int(t.split()[1]) for t in world.titles if t.startswith("item "))
    assert kept == list(range(70, 70 + MAX_FEED_ENTRIES))


def test_an_empty_feed_is_a_successful_poll(world: World) -> None:
    row = world.rows["empty"]
    assert row["last_error"] is None and row["last_success_at"] is not None, row
    assert row["backlog_seen"] == 1
