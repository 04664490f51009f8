"""Source kinds: how a configured source becomes entries (feeds, sitemaps, listing pages).

The pipeline asks `reader_for(spec, env)` for the source's reader and drives it (see
monitor.sources.model for the contract). `env` carries the robots.txt policy and the size cap;
`kind: feed` needs neither, page and sitemap sources that respect robots.txt need the policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.config.models import SourceSpec
from monitor.sources.feed import FeedReader
from monitor.sources.model import SourceDenied, SourceRead, SourceReader

__all__ = ["SourceDenied", "SourceEnv", "SourceRead", "SourceReader", "reader_for"]


@dataclass(frozen=True)
class SourceEnv:
    """What readers may use besides the fetched bytes."""

    max_bytes: int = 10 * 2**20


_READERS: dict[str, Callable[[SourceEnv], SourceReader]] = {
    "feed": lambda env: FeedReader(),
}


def reader_for(spec: SourceSpec, env: SourceEnv | None = None) -> SourceReader:
    """The reader for `spec.kind`."""
    return _READERS[spec.kind](env or SourceEnv())
