"""Source kinds: how a configured source becomes entries (feeds, sitemaps, listing pages).

The pipeline asks `reader_for(spec, env)` for the source's reader and drives it (the contract
is in monitor.sources.model). `env` carries what readers may use besides fetched bytes: the
robots.txt cache (which fetches through the pipeline's Fetcher) and the size cap. Build it once
per application with `source_env(fetcher, settings, clock)`. `kind: feed` needs no env; page
and sitemap sources do, and `reader_for` refuses them without one rather than ignore robots.txt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from monitor.config.models import Settings, SourceSpec
from monitor.errors import MonitorError
from monitor.fetch.client import Fetcher
from monitor.sources.feed import FeedReader
from monitor.sources.model import SourceDenied, SourceRead, SourceReader
from monitor.sources.page import PageReader
from monitor.sources.robots import RobotsCache
from monitor.sources.sitemap import SitemapReader

__all__ = [
    "RobotsCache",
    "SourceDenied",
    "SourceEnv",
    "SourceRead",
    "SourceReader",
    "reader_for",
    "source_env",
]


@dataclass(frozen=True)
class SourceEnv:
    """What readers may use besides the fetched bytes."""

    robots: RobotsCache
    max_bytes: int = 10 * 2**20


def source_env(fetcher: Fetcher, settings: Settings, clock: Callable[[], datetime]) -> SourceEnv:
    """The environment of every reader of one application (one robots.txt cache)."""
    robots = RobotsCache(lambda url: fetcher.get(url), agent=settings.fetch.user_agent, clock=clock)
    return SourceEnv(robots, settings.fetch.max_bytes)


_READERS: dict[str, Callable[[SourceEnv], SourceReader]] = {
    "sitemap": lambda env: SitemapReader(env.robots, env.max_bytes),
    "page": lambda env: PageReader(env.robots),
}


def reader_for(spec: SourceSpec, env: SourceEnv | None = None) -> SourceReader:
    """The reader for `spec.kind`."""
    if spec.kind == "feed":
        return FeedReader()
    if env is None:
        raise MonitorError(f"source {spec.name}: kind {spec.kind} needs a SourceEnv (robots.txt)")
    return _READERS[spec.kind](env)
