"""Feed documents parsed by the work pool's processes: entries and facts, a document that is no
feed, and a hostile feed stopped by the budget while articles flow on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.config.models import Settings
from monitor.errors import ParseError
from monitor.rules import RuleSet
from monitor.work import FeedJob, SourceMeta, WorkJob, WorkPool
from tests.work.conftest import ARTICLE

MakeSettings = Callable[..., Settings]


def rss(items: int) -> bytes:
    entries = "".join(
        f"<item><title>Story {i}</title><link>https://daily.example/a/{i}</link>"
        f"<guid>daily-{i}</guid><description>Floods in the delta, day {i}.</description></item>"
        for i in range(items)
    )
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Daily</title>"
        f"<link>https://daily.example/</link>{entries}</channel></rss>"
    ).encode()


def test_a_feed_is_parsed_with_its_facts_and_a_non_feed_gives_its_error(
    ruleset: RuleSet, settings: MakeSettings
) -> None:
    with WorkPool(ruleset, settings(workers=1)) as pool:
        good = pool.submit_feed(FeedJob("https://daily.example/feed", rss(3), "application/rss+xml"))
        bad = pool.submit_feed(FeedJob("https://daily.example/feed", b"<html>moved</html>",
                                       "text/html"))
        feed, facts = good.result(timeout=120).parsed()
        assert [e.link for e in feed.entries] == [f"https://daily.example/a/{i}" for i in range(3)]
        assert facts.size == len(rss(3)) and not facts.html
        result = bad.result(timeout=120)
        assert result.facts is not None and result.facts.html  # still recorded by the poll
        with pytest.raises(ParseError, match="not a feed"):
            result.parsed()
        assert pool.stats.skipped == 0 and pool.stats.workers_lost == 0


def test_a_feed_over_the_cpu_budget_fails_alone(ruleset: RuleSet, settings: MakeSettings) -> None:
    with WorkPool(ruleset, settings(workers=2, cpu_seconds=0.5, wall_seconds=300)) as pool:
        assert pool.wait_ready(120)
        hostile = pool.submit_feed(FeedJob("http://hostile.test/feed", rss(60_000), None))
        others = [
            pool.submit(WorkJob(SourceMeta("daily"), f"https://daily.example/a/{n}", ARTICLE))
            for n in range(10)
        ]
        result = hostile.result(timeout=120)
        assert result.skipped == "cpu budget exceeded (0.5 s)"
        with pytest.raises(ParseError, match=r"feed not parsed: cpu budget exceeded \(0.5 s\)"):
            result.parsed()
        assert all(f.result(timeout=120).skipped is None for f in others)
        assert pool.stats.workers_lost == 1
