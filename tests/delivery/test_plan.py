"""Storm control and digest planning, with a fixed clock and no I/O."""

from __future__ import annotations

from datetime import timedelta

from monitor.delivery.plan import Due, RateLimiter, make_plan, period_end
from monitor.notify.base import ChannelPolicy
from tests.delivery.conftest import START


def due(n: int, channel: str = "slack", attempts: int = 0, mode: str = "immediate",
        rule: str = "r") -> list[Due]:
    return [Due(i, i, channel, rule, f"msg_{i}", attempts, START, mode) for i in range(n)]


def plan(items: list[Due], policy: ChannelPolicy, **kw: object):  # type: ignore[no-untyped-def]
    options = {"now": START, "policies": {"slack": policy}, "batchable": frozenset({"slack"}),
               "grouping_window": timedelta(seconds=60), "last_sent": {},
               "limiter": RateLimiter(), **kw}
    return make_plan(items, **options)  # type: ignore[arg-type]


def test_a_burst_becomes_one_message_and_nothing_is_dropped() -> None:
    result = plan(due(30), ChannelPolicy(rate_limit=1.0))
    assert [s.kind for s in result.sends] == ["group"]
    assert len(result.sends[0].items) == 30 and not result.deferred


def test_after_a_message_new_alerts_wait_for_the_grouping_window() -> None:
    result = plan(due(3), ChannelPolicy(), last_sent={("slack", "r"): START - timedelta(seconds=10)})
    assert not result.sends
    assert set(result.deferred.values()) == {START + timedelta(seconds=50)}


def test_rate_limit_overflow_is_summarised_in_one_message() -> None:
    items = [d for rule in "abcdef" for d in due(1, rule=rule)]
    items = [Due(i, i, "slack", d.rule, f"k{i}", 0, START) for i, d in enumerate(items)]
    result = plan(items, ChannelPolicy(rate_limit=1.0, burst=3))
    assert [s.kind for s in result.sends] == ["single", "single", "overflow"]
    assert sum(len(s.items) for s in result.sends) == 6


def test_rate_limit_exhausted_defers_everything() -> None:
    limiter = RateLimiter()
    policy = ChannelPolicy(rate_limit=1.0, burst=1)
    plan(due(1), policy, limiter=limiter)
    second = plan([Due(9, 9, "slack", "other", "k9", 0, START)], policy, limiter=limiter)
    assert not second.sends and second.deferred == {9: START + timedelta(seconds=1)}


def test_digest_waits_for_the_end_of_its_period() -> None:
    assert period_end(START, "hourly") == START.replace(minute=0, second=0) + timedelta(hours=1)
    result = plan(due(2, mode="daily"), ChannelPolicy())
    assert not result.sends
    later = plan(due(2, mode="daily"), ChannelPolicy(), now=START + timedelta(days=1))
    assert [s.kind for s in later.sends] == ["digest"]


def test_group_key_is_stable_and_single_key_is_the_delivery_key() -> None:
    first = plan(due(3), ChannelPolicy()).sends[0].key
    again = plan(list(reversed(due(3))), ChannelPolicy()).sends[0].key
    assert first == again and first.startswith("grp_")
    assert plan(due(1), ChannelPolicy()).sends[0].key == "msg_0"
