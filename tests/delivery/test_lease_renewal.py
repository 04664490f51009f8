"""A normal but slow cycle keeps its lease: no other replica re-sends what it is still sending.

With the defaults (batch 200, concurrency 4, 60 s deadline, 5-minute lease) a cycle of many slow
sends used to outlive the lease claimed at its start, and a second replica took the rest over and
sent it too, without anything having been killed.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, select

from monitor.delivery import claims, record
from monitor.delivery.plan import Send
from monitor.delivery.settings import DeliverySettings
from monitor.delivery.worker import DeliveryWorker
from monitor.notify.base import AlertMessage, ChannelPolicy
from monitor.storage.tables import deliveries
from tests.delivery.conftest import FakeClock, add_alerts


class SlowNotifier:
    """Each send takes `seconds` of the fake clock, then lets another replica run a cycle."""

    def __init__(self, clock: FakeClock, seconds: float, other: list[DeliveryWorker]) -> None:
        self.channel = "a"
        self.policy = ChannelPolicy()
        self.sent: list[int] = []
        self._clock = clock
        self._seconds = seconds
        self._other = other
        self._lock = threading.Lock()

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        with self._lock:
            self._clock.advance(timedelta(seconds=self._seconds))
            self.sent.append(alert.alert_id)
            for worker in self._other:
                worker.deliver_due()


class FastNotifier:
    def __init__(self) -> None:
        self.channel = "a"
        self.policy = ChannelPolicy()
        self.sent: list[int] = []

    def send(self, alert: AlertMessage, *, idempotency_key: str) -> None:
        self.sent.append(alert.alert_id)


def _states(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(s) for s in conn.execute(select(deliveries.c.state)).scalars()]


def test_a_slow_cycle_is_not_sent_twice_by_another_replica(engine: Engine,
                                                           clock: FakeClock) -> None:
    ids = add_alerts(engine, 40, channels=("a",), now=clock())
    settings = DeliverySettings(grouping_window=timedelta(0))  # defaults otherwise
    other = FastNotifier()
    replica_b = DeliveryWorker(engine, {"a": other}, clock=clock, owner="b", settings=settings)
    # four sends per wave, each 15 s of the clock: every wave takes the whole 60 s deadline,
    # ten waves take twice the lease; replica B runs a cycle after every single send
    slow = SlowNotifier(clock, 15, [replica_b])
    replica_a = DeliveryWorker(engine, {"a": slow}, clock=clock, owner="a", settings=settings)
    report = replica_a.deliver_due()
    assert sorted(slow.sent) == sorted(ids) and other.sent == []
    assert report.sent == 40 and report.lost == 0
    assert _states(engine) == ["sent"] * 40


def test_a_worker_paused_past_its_lease_does_not_send_what_was_taken_over(
        engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = add_alerts(engine, 8, channels=("a",), now=clock())
    settings = DeliverySettings(grouping_window=timedelta(0))
    other = FastNotifier()
    replica_b = DeliveryWorker(engine, {"a": other}, clock=clock, owner="b", settings=settings)
    mine = FastNotifier()
    replica_a = DeliveryWorker(engine, {"a": mine}, clock=clock, owner="a", settings=settings)
    renew = claims.renew
    waves = []

    def paused_renew(engine: Engine, token: str, now: object, lease: timedelta) -> set[int]:
        if token.startswith("a:"):
            waves.append(token)
            if len(waves) == 2:  # between two waves, A stops (a pause, not a kill) too long
                clock.advance(timedelta(minutes=6))
                replica_b.deliver_due()
        return renew(engine, token, clock(), lease)

    monkeypatch.setattr(claims, "renew", paused_renew)
    report = replica_a.deliver_due()
    assert sorted(mine.sent) == ids[:4] and sorted(other.sent) == ids[4:]
    assert report.sent == 4 and report.lost == 4
    assert _states(engine) == ["sent"] * 8


def test_an_outcome_is_not_written_over_the_new_lease_holder(
        engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    add_alerts(engine, 1, channels=("a",), now=clock())
    lease = timedelta(minutes=5)
    [due] = claims.claim(engine, "old", clock(), lease, 10)
    clock.advance(lease + timedelta(seconds=1))
    assert claims.claim(engine, "new", clock(), lease, 10)
    # the ownership check ran just before the other replica took over (a race on PostgreSQL)
    monkeypatch.setattr(record, "_still_ours", lambda conn, item, token: True)
    with engine.begin() as conn:
        assert record.record_success(conn, Send("a", "single", (due,)), "old", clock(), {}) == 0
    with engine.connect() as conn:
        row = conn.execute(select(deliveries.c.state, deliveries.c.lease_owner)).one()
    assert tuple(row) == ("pending", "new")


@pytest.mark.parametrize(("lease", "deadline"), [(90, 60), (60, 60), (30, 60)])
def test_a_lease_shorter_than_two_deadlines_is_refused(lease: int, deadline: int) -> None:
    with pytest.raises(ValidationError, match="twice"):
        DeliverySettings(lease=timedelta(seconds=lease),
                         attempt_deadline=timedelta(seconds=deadline))
    assert DeliverySettings(lease=timedelta(seconds=120), attempt_deadline=timedelta(seconds=60))
