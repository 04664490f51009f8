"""A source's own include/exclude URL patterns (regular expressions searched in the URL)."""

from __future__ import annotations

import re

from monitor.config.models import SourceSpec


class UrlFilter:
    """`wanted(url)`: matches an include pattern (when there are any) and no exclude pattern."""

    def __init__(self, spec: SourceSpec, base_url: str) -> None:
        self._include = [re.compile(p) for p in spec.include]
        self._exclude = [re.compile(p) for p in spec.exclude]
        self.base_url = base_url

    @property
    def has_include(self) -> bool:
        return bool(self._include)

    def wanted(self, url: str) -> bool:
        if self._include and not any(p.search(url) for p in self._include):
            return False
        return not any(p.search(url) for p in self._exclude)
