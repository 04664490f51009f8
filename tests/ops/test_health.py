"""Source health with a fixed clock: one notice when a source goes wrong, one when it recovers.

The history is written as the pipeline records it (polls on `sources`, entries in
`seen_entries`, responses through `observe_fetch`); `evaluate_health` runs as the daemon runs it,
many times, so a notice per evaluation would show.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from monitor.delivery.tables import operator_notices
from monitor.health import evaluate_health, observe_fetch, page_facts
from monitor.health.cadence import usual_gap
from monitor.opsconfig import HealthSettings
from tests.ops.conftest import T0, History, notice_count, notices

SETTINGS = HealthSettings()
HOUR = timedelta(hours=1)
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>' + (
    b"<item><title>Story</title><link>https://wire.example.org/a</link></item>" * 60
) + b"</channel></rss>"
STUB = b"<html><body><p>Back shortly.</p></body></html>"
PARKED = (
    b"<!DOCTYPE html><html><head><title>wire.example.org</title></head><body>"
    b"<h1>wire.example.org is for sale</h1><p>This domain may be for sale. Buy this domain "
    b"today.</p><script>var ads = 1;</script></body></html>"
)


def evaluate(engine: Engine, history: History, now: datetime, channels: tuple[str, ...] = ("ops",)) -> list[str]:
    changes = evaluate_health(engine, [history.spec], SETTINGS, channels, now)
    return [c.after for c in changes]


def test_usual_gap_merges_a_poll_into_one_arrival() -> None:
    backlog = [T0 + timedelta(seconds=i) for i in range(20)]
    hourly = [T0 + HOUR * k for k in range(1, 6)]
    assert usual_gap(backlog) is None
    assert usual_gap(backlog + hourly) == HOUR


def test_a_silent_source_raises_one_notice_and_one_recovery(engine: Engine) -> None:
    wire = History(engine)
    for k in range(10):  # hourly news: the silence threshold is max(4 h, 24 h) = 24 h
        wire.entries(T0 + HOUR * k, count=2)
    last = T0 + HOUR * 9
    for k in range(1, 24):
        wire.success(last + HOUR * k)
        assert evaluate(engine, wire, last + HOUR * k) == []
    for k in range(25, 40):  # polled, nothing new, for more than a day
        wire.success(last + HOUR * k)
        evaluate(engine, wire, last + HOUR * k)
    assert notices(engine) == ["source wire is silent"]
    wire.entries(last + HOUR * 41)
    for k in range(41, 45):
        evaluate(engine, wire, last + HOUR * k)
    assert notices(engine) == ["source wire is silent", "source wire recovered"]


def test_silence_follows_the_sources_own_cadence(engine: Engine) -> None:
    weekly = History(engine, "weekly")
    for k in range(5):
        weekly.entries(T0 + timedelta(days=7 * k))
    last = T0 + timedelta(days=28)
    weekly.success(last + timedelta(days=20))  # under 4 x 7 days: still its rhythm
    assert evaluate(engine, weekly, last + timedelta(days=20)) == []
    weekly.success(last + timedelta(days=29))
    assert evaluate(engine, weekly, last + timedelta(days=29)) == ["silent"]


def test_downtime_of_the_daemon_is_not_silence(engine: Engine) -> None:
    wire = History(engine)
    for k in range(5):
        wire.entries(T0 + HOUR * k)
    # nobody polled for three days: the evidence is polls, not the wall clock
    assert evaluate(engine, wire, T0 + timedelta(days=3)) == []
    assert notice_count(engine) == 0


def test_a_failing_source_raises_one_notice_and_one_recovery(engine: Engine) -> None:
    wire = History(engine)
    wire.entries(T0)
    for minutes in range(15, 12 * 60, 15):
        wire.failure(T0 + timedelta(minutes=minutes))
        evaluate(engine, wire, T0 + timedelta(minutes=minutes))
        if minutes <= 6 * 60:
            assert notice_count(engine) == 0, minutes
    assert notices(engine) == ["source wire is failing"]
    wire.success(T0 + 13 * HOUR)
    for k in range(13, 16):
        evaluate(engine, wire, T0 + HOUR * k)
    assert notices(engine) == ["source wire is failing", "source wire recovered"]
    with engine.connect() as conn:
        body = conn.execute(select(operator_notices.c.body)).scalars().first()
    assert body is not None and "connect: refused" in body and "s3cret" not in body


def test_a_parked_page_raises_one_notice_and_one_recovery(engine: Engine) -> None:
    wire = History(engine)
    for k in range(3):
        wire.entries(T0 + HOUR * k)
        with engine.begin() as conn:
            assert observe_fetch(conn, "wire", page_facts(FEED, "application/rss+xml"), T0 + HOUR * k) is None
        evaluate(engine, wire, T0 + HOUR * k)
    for k in range(3, 8):  # the domain lapsed: the feed URL now serves a parking page
        with engine.begin() as conn:
            assert observe_fetch(conn, "wire", page_facts(PARKED, "text/html"), T0 + HOUR * k)
        wire.failure(T0 + HOUR * k, "parse: not a feed")
        evaluate(engine, wire, T0 + HOUR * k)
    assert notices(engine) == ["source wire is parked"]
    with engine.begin() as conn:
        observe_fetch(conn, "wire", page_facts(FEED, "application/rss+xml"), T0 + HOUR * 8)
    wire.entries(T0 + HOUR * 8)
    evaluate(engine, wire, T0 + HOUR * 8)
    evaluate(engine, wire, T0 + HOUR * 9)
    assert notices(engine) == ["source wire is parked", "source wire recovered"]


def test_a_page_that_shrinks_to_a_stub_counts_as_parked(engine: Engine) -> None:
    listing = History(engine, "listing")
    page = b"<html><body>" + b"<p><a href='/news/1'>A long headline about the region</a></p>" * 300
    with engine.begin() as conn:
        for k in range(3):
            observe_fetch(conn, "listing", page_facts(page, "text/html"), T0 + HOUR * k)
        reason = observe_fetch(
            conn, "listing", page_facts(STUB, "text/html"), T0 + 3 * HOUR
        )
    assert reason is not None and "usually serves" in reason
    listing.success(T0 + 3 * HOUR)
    assert evaluate(engine, listing, T0 + 3 * HOUR) == ["parked"]


def test_without_operator_channels_the_state_is_still_kept(engine: Engine) -> None:
    wire = History(engine)
    wire.entries(T0)
    for k in range(1, 12):
        wire.failure(T0 + HOUR * k)
        evaluate(engine, wire, T0 + HOUR * k, channels=())
    assert notice_count(engine) == 0
    with engine.connect() as conn:
        from monitor.health.tables import source_health

        assert conn.execute(select(source_health.c.status)).scalar() == "failing"


def test_many_sources_changing_at_once_share_one_notice(engine: Engine) -> None:
    fleet = [History(engine, f"site{n}") for n in range(8)]
    specs = [h.spec for h in fleet]
    for h in fleet:
        h.entries(T0)
    for k in range(1, 10):  # the network is down: every source fails for 9 hours
        for h in fleet:
            h.failure(T0 + HOUR * k)
        evaluate_health(engine, specs, SETTINGS, ("ops",), T0 + HOUR * k)
    assert notices(engine) == ["8 sources are failing"]
    for h in fleet:
        h.success(T0 + 10 * HOUR)
    evaluate_health(engine, specs, SETTINGS, ("ops",), T0 + 10 * HOUR)
    evaluate_health(engine, specs, SETTINGS, ("ops",), T0 + 11 * HOUR)
    assert notices(engine) == ["8 sources are failing", "8 sources recovered"]
