"""robots.txt (RFC 9309): parsing, matching, and a per-host cache that fetches through our Fetcher.

Rules are matched longest-pattern-first (Allow wins a tie), with `*` and `$` wildcards matched
without regular expressions, so a hostile pattern cannot make matching slow. Fetch outcomes
follow the RFC: a 4xx answer means "no restrictions", an unreachable robots.txt (5xx, 429,
timeouts, connection errors) means "disallow everything" until a short retry time passes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from monitor.errors import FetchError, FetchErrorKind
from monitor.fetch.client import FetchResult

MAX_ROBOTS_BYTES = 512 * 1024
MAX_RULES = 5000
MAX_SITEMAPS = 50


@dataclass(frozen=True)
class RobotsRules:
    """The rules of one host for one agent, plus its `Sitemap:` lines."""

    rules: tuple[tuple[bool, str], ...] = ()  # (allow, pattern)
    sitemaps: tuple[str, ...] = ()
    disallow_all: bool = False
    reason: str | None = None

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if parts.path == "/robots.txt":
            return True
        if self.disallow_all:
            return False
        best: tuple[int, bool] = (-1, True)
        for allow, pattern in self.rules:
            if _matches(pattern, path) and (len(pattern), allow) > best:
                best = (len(pattern), allow)
        return best[1]


def _matches(pattern: str, path: str) -> bool:
    """RFC 9309 path matching: prefix match, `*` any run of characters, `$` end of path."""
    anchored = pattern.endswith("$")
    if anchored:
        pattern = pattern[:-1]
    parts = pattern.split("*")
    if not path.startswith(parts[0]):
        return False
    if len(parts) == 1:
        return path == parts[0] if anchored else True
    pos = len(parts[0])
    for middle in parts[1:-1]:
        found = path.find(middle, pos)
        if found < 0:
            return False
        pos = found + len(middle)
    last = parts[-1]
    if anchored:
        return path.endswith(last) and len(path) - len(last) >= pos
    return path.find(last, pos) >= 0


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: `news-monitor` of
    `news-monitor/0.1 (+https://...)`."""
    return user_agent.split("/", 1)[0].split()[0].strip().lower() if user_agent.strip() else "*"


def parse_robots(text: str, agent: str, base_url: str) -> RobotsRules:
    """The rules for `agent` (its own groups if any, else the `*` groups, merged)."""
    groups: dict[str, list[tuple[bool, str]]] = {}
    sitemaps: list[str] = []
    current: list[str] = []
    in_rules = False
    for raw in text[:MAX_ROBOTS_BYTES].splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:
                current, in_rules = [], False
            name = value.split("/", 1)[0].strip().lower()
            current.append(name)
            groups.setdefault(name, [])
        elif key in ("allow", "disallow"):
            in_rules = True
            if value and len(value) <= 2000:
                for name in current:
                    if len(groups[name]) < MAX_RULES:
                        groups[name].append((key == "allow", value))
        elif key == "sitemap" and value and len(sitemaps) < MAX_SITEMAPS:
            sitemaps.append(urljoin(base_url, value))
    rules = groups.get(agent, groups.get("*", []))
    return RobotsRules(tuple(rules), tuple(sitemaps))


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


@dataclass
class _Cached:
    rules: RobotsRules
    expires: datetime
    lock: threading.Lock = field(default_factory=threading.Lock)


class RobotsCache:
    """robots.txt per scheme+host, fetched through the given function and kept for `ttl`."""

    def __init__(
        self,
        fetch: Callable[[str], FetchResult],
        *,
        agent: str,
        clock: Callable[[], datetime],
        ttl: timedelta = timedelta(hours=12),
        retry: timedelta = timedelta(minutes=15),
        max_hosts: int = 2000,
    ) -> None:
        self._fetch = fetch
        self._agent = agent_token(agent)
        self._clock = clock
        self._ttl = ttl
        self._retry = retry
        self._max_hosts = max_hosts
        self._hosts: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def rules(self, url: str) -> RobotsRules:
        key = robots_url(url)
        now = self._clock()
        with self._lock:
            entry = self._hosts.get(key)
            if entry is None:
                entry = self._hosts[key] = _Cached(RobotsRules(), now)
                while len(self._hosts) > self._max_hosts:
                    self._hosts.popitem(last=False)
            self._hosts.move_to_end(key)
        with entry.lock:  # one fetch per host at a time; the others wait for its answer
            if entry.expires <= now:
                entry.rules, lifetime = self._load(key)
                entry.expires = now + lifetime
            return entry.rules

    def allowed(self, url: str) -> bool:
        return self.rules(url).allowed(url)

    def sitemaps(self, url: str) -> list[str]:
        return list(self.rules(url).sitemaps)

    def _load(self, url: str) -> tuple[RobotsRules, timedelta]:
        try:
            result = self._fetch(url)
        except FetchError as exc:
            status = exc.status or 0
            if exc.kind is FetchErrorKind.HTTP_STATUS and 400 <= status < 500:
                return RobotsRules(reason=f"robots.txt HTTP {status}: no restrictions"), self._ttl
            reason = f"robots.txt unreachable ({exc.kind.value}): everything disallowed"
            return RobotsRules(disallow_all=True, reason=reason), self._retry
        text = result.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return parse_robots(text, self._agent, result.url), self._ttl
