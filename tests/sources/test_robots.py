"""robots.txt: RFC 9309 grouping and longest-match, wildcards, fetch outcomes, the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.sources.robots import RobotsCache, agent_token, parse_robots
from tests.sources.webfake import FakeWeb

ROBOTS = """\
# comments are ignored
User-agent: Googlebot
Disallow: /

User-agent: news-monitor
User-agent: OtherBot
Disallow: /private/
Allow: /private/press-releases/
Disallow: /*.pdf$
Disallow: /search*
Allow: /search-and-rescue-operations-resume

User-agent: *
Disallow: /

Sitemap: https://site.example/news-sitemap.xml
Sitemap: /sitemap_index.xml
"""


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", True),
        ("/2026/11/story", True),
        ("/private/notes", False),
        ("/private/press-releases/2026-11-25", True),
        ("/files/report.pdf", False),
        ("/files/report.pdf?download=1", True),
        ("/search?q=mali", False),
        ("/searchable", False),
        ("/search-and-rescue-operations-resume", True),
        ("/robots.txt", True),
    ],
)
def test_own_group_longest_match_wins(path: str, allowed: bool) -> None:
    rules = parse_robots(ROBOTS, "news-monitor", "https://site.example/robots.txt")
    assert rules.allowed("https://site.example" + path) is allowed


def test_star_group_applies_to_other_agents_and_sitemaps_are_absolute() -> None:
    rules = parse_robots(ROBOTS, "somebot", "https://site.example/robots.txt")
    assert not rules.allowed("https://site.example/2026/11/story")
    assert rules.sitemaps == (
        "https://site.example/news-sitemap.xml",
        "https://site.example/sitemap_index.xml",
    )


def test_agent_token_is_the_product_name() -> None:
    assert agent_token("news-monitor/0.1 (+https://github.com/news-monitor/news-monitor)") == (
        "news-monitor"
    )


def test_hostile_patterns_match_quickly() -> None:
    pattern = "/" + "*a" * 999  # 999 wildcards: a regex translation would backtrack for ages
    rules = parse_robots(f"User-agent: *\nDisallow: {pattern}\n", "x", "https://s.example/")
    assert rules.allowed("https://s.example/" + "a" * 998 + "b" * 5000)
    assert not rules.allowed("https://s.example/" + "ab" * 999)


def _cache(web: FakeWeb, clock_now: list[datetime]) -> RobotsCache:
    fetcher = web.fetcher()
    return RobotsCache(fetcher.get, agent="news-monitor/0.1", clock=lambda: clock_now[0])


def test_missing_robots_allows_everything_and_is_cached_for_its_ttl() -> None:
    web = FakeWeb()
    now = [datetime(2026, 11, 26, tzinfo=UTC)]
    cache = _cache(web, now)
    assert cache.allowed("https://a.example/x") and cache.allowed("https://a.example/y")
    assert web.requests == ["https://a.example/robots.txt"]
    now[0] += timedelta(hours=13)
    assert cache.allowed("https://a.example/z")
    assert len(web.requests) == 2


def test_unreachable_robots_disallows_until_retry() -> None:
    web = FakeWeb()
    web.add("https://down.example/robots.txt", "oops", status=503)
    now = [datetime(2026, 11, 26, tzinfo=UTC)]
    cache = _cache(web, now)
    assert not cache.allowed("https://down.example/story")
    web.add("https://down.example/robots.txt", "User-agent: *\nDisallow:\n", "text/plain")
    now[0] += timedelta(minutes=16)
    assert cache.allowed("https://down.example/story")


def test_forbidden_robots_means_no_restrictions() -> None:
    web = FakeWeb()
    web.add("https://f.example/robots.txt", "no", status=403)
    assert _cache(web, [datetime(2026, 11, 26, tzinfo=UTC)]).allowed("https://f.example/a")


def test_user_agent_names_a_contact_url() -> None:
    from monitor.config.models import FetchSettings

    assert "+https://" in FetchSettings().user_agent
