"""`monitor sources` rows: kind, live health, activity, last error, next poll and lease owner."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from monitor.health.listing import show_sources, source_rows
from monitor.opsconfig import HealthSettings
from monitor.storage.tables import sources
from tests.ops.conftest import T0, History

HOUR = timedelta(hours=1)


def test_rows_show_health_activity_and_lease(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    wire, down = History(engine, "wire"), History(engine, "down")
    for k in range(8):
        wire.entries(T0 + HOUR * k, count=3)
    down.entries(T0)
    for k in range(1, 10):
        down.failure(T0 + HOUR * k, "timeout: no answer in 60 s")
    now = T0 + 10 * HOUR
    with engine.begin() as conn:
        conn.execute(
            update(sources)
            .where(sources.c.name == "wire")
            .values(lease_owner="host-a:4242:abcd", lease_until=now + timedelta(seconds=60))
        )
    rows = {r.name: r for r in source_rows(engine, [wire.spec, down.spec], HealthSettings(), now)}
    assert rows["wire"].health == "ok" and rows["wire"].kind == "feed"
    assert rows["wire"].leased_by == "host-a:4242:abcd"
    assert rows["wire"].entries_per_day == pytest.approx(24 / 7, abs=0.01)
    assert rows["down"].health == "failing" and "9.0 h" in rows["down"].detail
    assert rows["down"].last_error == "timeout: no answer in 60 s" and rows["down"].leased_by is None

    show_sources(engine, [wire.spec, down.spec], HealthSettings(), now, as_json=True)
    listed = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in listed] == ["down", "wire"]
    assert set(listed[0]) == {
        "name", "kind", "health", "detail", "last_new_entry", "entries_per_day", "last_success",
        "errors", "last_error", "next_poll", "leased_by",
    }
    assert listed[1]["last_new_entry"].startswith("2026-03-02T15:00")
