"""A loopback news server for end-to-end tests: sites with feeds and article pages.

Each site has its own page boilerplate (navigation, share buttons, "READ ALSO" links, cookie
banners, footers) around the article, and publishes a feed in one format (RSS 2.0, Atom or
JSON Feed) with ETag and Last-Modified validators, answering 304 to conditional requests.
Special paths answer errors: /error/500, /error/429 (Retry-After), /slow (trickles bytes),
/huge (a body larger than any cap). Every request is logged for assertions.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from monitor.corpus import CorpusArticle

BOILERPLATE = {
    "plain": (
        "<nav>Home | World | Africa | Business | Sport</nav>",
        "<footer>© News Site. All rights reserved. Privacy | Terms</footer>",
    ),
    "share": (
        "<header><div class='cookie'>We use cookies to improve your experience. "
        "<button>Accept</button></div><ul class='menu'><li>Politics</li><li>Africa</li>"
        "<li>Opinion</li></ul></header><div class='share'>Share Tweet Email</div>",
        "<aside><h3>READ ALSO</h3><ul><li><a href='/x'>Floods displace thousands in the "
        "south</a></li><li><a href='/y'>Markets rally as oil prices ease</a></li></ul></aside>"
        "<div class='newsletter'>Sign up for our daily newsletter</div><footer>Contact us "
        "| Advertise | Jobs</footer>",
    ),
    "portal": (
        "<div id='top'><a href='/'>PORTAL NEWS</a> Latest Trending Video Podcasts</div>",
        "<section class='comments'><h4>0 comments</h4><p>Be the first to comment.</p>"
        "</section><footer>Portal News Network 2026</footer>",
    ),
}


@dataclass
class Site:
    name: str
    feed_format: str = "rss"  # rss | atom | json
    boilerplate: str = "plain"
    articles: list[tuple[str, CorpusArticle]] = field(default_factory=list)
    updated: datetime = field(default_factory=lambda: datetime(2026, 3, 1, tzinfo=UTC))


class NewsServer:
    """Serves sites at http://127.0.0.1:PORT/<site>/feed and /<site>/a/<slug>."""

    def __init__(self) -> None:
        self.sites: dict[str, Site] = {}
        self.requests: list[tuple[str, int, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> NewsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_site(self, name: str, feed_format: str = "rss", boilerplate: str = "plain") -> Site:
        site = Site(name, feed_format, boilerplate)
        self.sites[name] = site
        return site

    def publish(self, site: str, article: CorpusArticle, slug: str | None = None) -> str:
        with self._lock:
            entry = self.sites[site]
            slug = slug or article.id
            entry.articles.insert(0, (slug, article))
            entry.updated = max(entry.updated, article.published or entry.updated)
            entry.updated = datetime.fromtimestamp(entry.updated.timestamp() + 60, UTC)
        return self.article_url(site, slug)

    def article_url(self, site: str, slug: str) -> str:
        return f"{self.base}/{site}/a/{slug}?utm_source=rss&utm_medium=feed"

    def feed_url(self, site: str) -> str:
        return f"{self.base}/{site}/feed"

    def statuses(self, path_part: str) -> list[int]:
        return [status for path, status, _ in self.requests if path_part in path]

    # --- rendering ---------------------------------------------------------------------

    def page(self, site: Site, article: CorpusArticle, slug: str) -> bytes:
        top, bottom = BOILERPLATE[site.boilerplate]
        paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
        published = (article.published or site.updated).isoformat()
        canonical = f"{self.base}/{site.name}/a/{slug}"
        return f"""<!doctype html>
<html lang="{article.lang or "en"}"><head><meta charset="utf-8">
<title>{html.escape(article.title)} | {site.name}</title>
<link rel="canonical" href="{canonical}">
<meta property="og:site_name" content="{site.name}">
<meta property="article:published_time" content="{published}">
<script>var tracking = {{"id": 1}};</script>
</head><body>{top}
<main><article><h1>{html.escape(article.title)}</h1>
<p class="byline">By Staff Writer · {published[:10]}</p>
{paragraphs}
</article></main>{bottom}</body></html>""".encode()

    def feed(self, site: Site) -> tuple[bytes, str]:
        items = [(slug, a, self.article_url(site.name, slug)) for slug, a in site.articles]

        def when(a: CorpusArticle) -> datetime:
            return a.published or site.updated

        if site.feed_format == "json":
            doc: dict[str, Any] = {
                "version": "https://jsonfeed.org/version/1.1",
                "title": site.name,
                "items": [
                    {
                        "id": f"{site.name}:{slug}",
                        "url": url,
                        "title": a.title,
                        "summary": a.paragraphs[0] if a.paragraphs else "",
                        "date_published": when(a).isoformat(),
                    }
                    for slug, a, url in items
                ],
            }
            return json.dumps(doc).encode(), "application/feed+json"
        if site.feed_format == "atom":
            entries = "".join(
                f"<entry><id>tag:{site.name},2026:{slug}</id><title>{html.escape(a.title)}</title>"
                f"<link rel='alternate' href='{html.escape(url)}'/><updated>{when(a).isoformat()}</updated>"
                f"<summary>{html.escape(a.paragraphs[0] if a.paragraphs else '')}</summary></entry>"
                for slug, a, url in items
            )
            body = (
                f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
                f"<title>{site.name}</title><id>tag:{site.name},2026:feed</id>"
                f"<updated>{site.updated.isoformat()}</updated>{entries}</feed>"
            )
            return body.encode(), "application/atom+xml"
        entries = "".join(
            f"<item><title>{html.escape(a.title)}</title><link>{html.escape(url)}</link>"
            f"<guid isPermaLink='false'>{site.name}-{slug}</guid>"
            f"<pubDate>{format_datetime(when(a))}</pubDate>"
            f"<description>{html.escape(a.paragraphs[0] if a.paragraphs else '')}</description></item>"
            for slug, a, url in items
        )
        body = (
            f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{site.name}</title><link>{self.base}/{site.name}/</link>"
            f"<description>news</description>{entries}</channel></rss>"
        )
        return body.encode(), "application/rss+xml"

    # --- HTTP --------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(
                self,
                status: int,
                body: bytes = b"",
                ctype: str = "text/html",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if body:
                    self.wfile.write(body)
                with server._lock:
                    server.requests.append((self.path, status, dict(self.headers)))

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                parts = path.strip("/").split("/")
                if path == "/error/500":
                    return self._send(500, b"oops")
                if path == "/error/429":
                    return self._send(429, b"slow down", headers={"retry-after": "120"})
                if path == "/huge":
                    return self._send(
                        200, b"<rss>" + b"x" * (3 * 2**20) + b"</rss>", "application/rss+xml"
                    )
                if path == "/slow":
                    self.send_response(200)
                    self.send_header("content-type", "application/rss+xml")
                    self.end_headers()
                    try:
                        for _ in range(60):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.1)
                    except OSError:
                        pass
                    with server._lock:
                        server.requests.append((self.path, 200, dict(self.headers)))
                    return None
                site = server.sites.get(parts[0]) if parts else None
                if site is None:
                    return self._send(404, b"not found")
                with server._lock:
                    if len(parts) == 2 and parts[1] == "feed":
                        body, ctype = server.feed(site)
                        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                        modified = format_datetime(site.updated, usegmt=True)
                        page: bytes | None = None
                    elif len(parts) == 3 and parts[1] == "a":
                        found = [a for slug, a in site.articles if slug == parts[2]]
                        if not found:
                            body = b""
                        else:
                            page = server.page(site, found[0], parts[2])
                        etag, modified, ctype = "", "", "text/html; charset=utf-8"
                    else:
                        body = b""
                if len(parts) == 2 and parts[1] == "feed":
                    if self.headers.get("if-none-match") == etag:
                        return self._send(304, headers={"etag": etag})
                    return self._send(200, body, ctype, {"etag": etag, "last-modified": modified})
                if len(parts) == 3 and parts[1] == "a" and found:
                    assert page is not None
                    return self._send(200, page, ctype)
                return self._send(404, b"not found")

        return Handler
