"""Loopback news sites without feeds, for end-to-end source tests.

Each `SiteServer` is one site on its own loopback port (robots.txt lives at a host's root,
so sites cannot share one server under path prefixes). A site holds
articles rendered as pages with boilerplate, and publishes them as a listing page (with
navigation noise, tag links, pagination, social links), a gzipped news sitemap behind a
sitemap index, or a homepage that announces an RSS feed. Pages answer conditional GETs;
every request is logged.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from monitor.corpus import CorpusArticle

Doc = tuple[str, bytes]  # content type, body


@dataclass
class Published:
    slug: str
    article: CorpusArticle
    when: datetime


@dataclass
class SiteServer:
    """One site on its own loopback port. `style` is listing, sitemap or feed."""

    name: str
    style: str
    robots: str = "User-agent: *\nDisallow: /*/private/\n"
    articles: list[Published] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)
    clock: datetime = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def publish(self, article: CorpusArticle, slug: str, *, private: bool = False) -> str:
        with self._lock:
            self.clock += timedelta(hours=1)
            slug = f"private/{slug}" if private else slug
            self.articles.insert(0, Published(slug, article, self.clock))
        return self.article_url(slug)

    def article_url(self, slug: str) -> str:
        return f"{self.base}/2026/11/{slug}"

    def fetched(self, part: str) -> list[int]:
        return [status for path, status in self.requests if part in path]

    # --- documents ----------------------------------------------------------------------

    def documents(self) -> dict[str, Doc]:
        docs: dict[str, Doc] = {"/robots.txt": ("text/plain", self.robots.encode())}
        for item in self.articles:
            docs[f"/2026/11/{item.slug}"] = ("text/html; charset=utf-8", self._page(item))
        if self.style == "listing":
            docs["/"] = ("text/html", b"<html><body><p>Welcome</p></body></html>")
            docs["/section/security"] = ("text/html; charset=utf-8", self._listing())
            docs["/section/security?page=2"] = ("text/html", self._listing())
        elif self.style == "sitemap":
            robots = self.robots + "Sitemap: /sitemap_index.xml\n"  # relative, as some sites do
            docs["/robots.txt"] = ("text/plain", robots.encode())
            docs["/"] = ("text/html", b"<html><body><p>Nothing to see</p></body></html>")
            docs["/sitemap_index.xml"] = ("application/xml", self._index())
            docs["/sitemaps/news.xml.gz"] = ("application/x-gzip", gzip.compress(self._news()))
            docs["/sitemaps/2019.xml"] = ("application/xml", self._old())
        elif self.style == "feed":
            docs["/"] = ("text/html; charset=utf-8", self._home())
            docs["/feeds/all.rss"] = ("application/rss+xml", self._rss())
            docs["/comments/feed/"] = ("application/rss+xml", self._rss())
        return docs

    def _page(self, item: Published) -> bytes:
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in item.article.paragraphs)
        return f"""<!doctype html><html lang="{item.article.lang or "en"}"><head><meta charset="utf-8">
<title>{html.escape(item.article.title)} | {self.name}</title>
<meta property="article:published_time" content="{item.when.isoformat()}"></head>
<body><nav><a href="/">Home</a> <a href="/section/security">Security</a></nav>
<main><article><h1>{html.escape(item.article.title)}</h1>{body}</article></main>
<footer><a href="/about">About</a></footer></body></html>""".encode()

    def _listing(self) -> bytes:
        cards = "\n".join(
            f"""<article class="card"><h2><a href="/2026/11/{i.slug}?utm_source=section">{html.escape(i.article.title)}</a></h2>
<time datetime="{i.when.isoformat()}">{i.when:%d %B}</time> <a href="/tag/sahel">Sahel</a>
<a href="/author/staff-writer">Staff writer</a> <a href="https://twitter.com/intent/tweet?url=/2026/11/{i.slug}">Tweet</a></article>"""
            for i in self.articles
        )
        return f"""<!doctype html><html><head><title>Security | {self.name}</title></head><body>
<header class="site-header"><nav><a href="/">Home</a> <a href="/section/security">Security</a>
<a href="/section/politics">Politics</a> <a href="/login">Log in</a></nav></header>
<main><h1>Security</h1>{cards}
<div class="pagination"><a href="/section/security?page=2">2</a> <a href="/section/security?page=2">Next</a></div></main>
<aside><a href="/category/security">All security news</a> <a href="/feeds/security.rss">RSS</a></aside>
<footer><a href="/about-us">About us</a> <a href="https://www.facebook.com/{self.name}">Facebook</a></footer>
</body></html>""".encode()

    def _index(self) -> bytes:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{self.base}/sitemaps/2019.xml</loc><lastmod>2019-12-31</lastmod></sitemap>
<sitemap><loc>{self.base}/sitemaps/news.xml.gz</loc></sitemap>
</sitemapindex>""".encode()

    def _news(self) -> bytes:
        urls = "\n".join(
            f"""<url><loc>{self.base}/2026/11/{escape(i.slug)}</loc>
<news:news><news:publication><news:name>{self.name}</news:name><news:language>{i.article.lang or "en"}</news:language></news:publication>
<news:publication_date>{i.when.isoformat()}</news:publication_date><news:title>{escape(i.article.title)}</news:title></news:news></url>"""
            for i in self.articles
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}</urlset>""".encode()

    def _old(self) -> bytes:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{self.base}/2019/01/old-story</loc><lastmod>2019-01-02</lastmod></url></urlset>""".encode()

    def _home(self) -> bytes:
        return f"""<!doctype html><html><head><title>{self.name}</title>
<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">
<link rel="alternate" type="application/rss+xml" title="{self.name} news" href="/feeds/all.rss">
</head><body><a href="/2026/11/x">x</a></body></html>""".encode()

    def _rss(self) -> bytes:
        items = "\n".join(
            f"""<item><title>{escape(i.article.title)}</title><link>{self.base}/2026/11/{escape(i.slug)}</link>
<guid>{self.base}/2026/11/{escape(i.slug)}</guid><pubDate>{format_datetime(i.when)}</pubDate></item>"""
            for i in self.articles
        )
        return f"""<?xml version="1.0"?><rss version="2.0"><channel><title>{self.name}</title>
<link>{self.base}/</link><description>news</description>{items}</channel></rss>""".encode()

    # --- HTTP ---------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with site._lock:
                    doc = site.documents().get(self.path)
                if doc is None:
                    return self._answer(404, "text/plain", b"not found")
                etag = '"' + hashlib.sha256(doc[1]).hexdigest()[:16] + '"'
                if self.headers.get("if-none-match") == etag:
                    return self._answer(304, doc[0], b"", etag)
                return self._answer(200, doc[0], doc[1], etag)

            def _answer(self, status: int, ctype: str, body: bytes, etag: str = "") -> None:
                with site._lock:
                    site.requests.append((self.path, status))
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                if etag:
                    self.send_header("etag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
