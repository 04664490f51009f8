"""A loopback "news farm" for benchmarks: N sites over many loopback addresses, each with a feed
and distinct ~8 KB article pages, answering conditional requests with 304.

Site i lives at http://127.0.0.{2 + i % ADDRESSES}:PORT/s{i}/ (all of 127.0.0.0/8 is loopback on
Linux, so every address is its own host for per-host limits). Its feed lists the newest
`entries` articles; `GET /_farm/publish` on any address adds one new article to every site
(the farm's generation grows by one), changing every feed's ETag and Last-Modified. Pages are
assembled from a fixed pool of sentences by a seeded generator, so they are distinct, cheap to
build and identical on every request. Every page's sentences are drawn word by word by its own
seeded generator, so two articles share no sentence unless one is a copy or carries the topical
sentence (as real pages on different stories share little beyond boilerplate); with
`--shared-sentences` they are drawn instead from one pool of 4,000 sentences (the farm before
2026-11-26: every page shares whole sentences with hundreds of others, so dedup has to verify a
full list of copy candidates for every article, and every site's feed summarises story N with the
same words). Feed summaries are a sentence of the article's own otherwise. With `--copies` every odd site's pages carry the text of
the same article of the site before it (own title and URL), so the monitor sees wire copies
across sources: one story, one alert. One asyncio process serves the raw HTTP/1.1 (keep-alive),
so the farm costs little CPU beside the monitor.

    python -m bench.newsfarm --sites 1000 --entries 20    # prints {"port": ..., "pid": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import sys
from email.utils import formatdate, parsedate_to_datetime
from html import escape

ADDRESSES = 59  # 127.0.0.2 ... 127.0.0.60
EPOCH = 1_780_000_000  # the farm's clock: generation g is EPOCH + g hours
FORMATS = ("rss", "atom", "json")

_TEXT = (
    "government officials said the report would be published after talks with regional "
    "partners on security trade health education water prices farmers markets election "
    "parliament minister village town province border army police court council school "
    "hospital road bridge harvest drought rain flood season budget tax inflation currency "
    "export import company workers strike union protest opposition president spokesman "
    "statement interview analysts expect growth decline figures survey residents families "
    "children women men youth leaders community elders church mosque market port airport"
)
_WORDS = _TEXT.split()
_TOPICAL = (
    "Witnesses said Russian mercenaries of the Wagner group killed dozens of civilians in a "
    "village near Mopti in central Mali, where the army has fought jihadist groups since 2012."
)


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choices(_WORDS, k=rng.randint(12, 24))).capitalize() + "."


def _sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [_sentence(rng) for _ in range(count)]


SENTENCES = _sentences(4000, 7)
TOP = (
    "<header><div class='cookie'>We use cookies to improve your experience. <button>Accept"
    "</button> <a href='/privacy'>Learn more</a></div><nav><ul class='menu'><li><a href='/'>Home"
    "</a></li><li><a href='/world'>World</a></li><li><a href='/africa'>Africa</a></li><li>"
    "<a href='/business'>Business</a></li><li><a href='/sport'>Sport</a></li><li><a href="
    "'/opinion'>Opinion</a></li></ul></nav><div class='share'>Share Tweet Email Print</div>"
    "</header>"
)
BOTTOM = (
    "<aside><h3>READ ALSO</h3><ul><li><a href='/x1'>Floods displace thousands in the south"
    "</a></li><li><a href='/x2'>Markets rally as oil prices ease</a></li><li><a href='/x3'>"
    "Teachers strike over unpaid wages</a></li><li><a href='/x4'>New bridge opens to traffic"
    "</a></li></ul></aside><div class='newsletter'>Sign up for our daily newsletter <input "
    "type='email'><button>Subscribe</button></div><section class='comments'><h4>0 comments</h4>"
    "<p>Be the first to comment.</p></section><footer><p>Contact us | Advertise | Jobs | "
    "Privacy | Terms</p><p>© 2026 Farm News Network. All rights reserved.</p></footer>"
    "<script>window.dataLayer=window.dataLayer||[];dataLayer.push({'event':'pageview'});"
    "</script>"
)


class Farm:
    """The farm's state: its sites, the feed length and the generation."""

    def __init__(
        self, sites: int, entries: int, port: int, copies: bool = False,
        shared_sentences: bool = False,
    ) -> None:
        self.sites, self.entries, self.port, self.generation = sites, entries, port, 0
        self.copies, self.shared_sentences = copies, shared_sentences

    def text_site(self, site: int) -> int:
        """The site whose text this site's articles carry: with `copies`, every odd site
        republishes the article of the same number of the site before it (a wire copy)."""
        return site - 1 if self.copies and site % 2 else site

    def host(self, site: int) -> str:
        return f"127.0.0.{2 + site % ADDRESSES}:{self.port}"

    def article_ids(self) -> range:
        """The articles in every feed now, oldest first."""
        return range(self.generation, self.generation + self.entries)

    def title(self, site: int, article: int) -> str:
        rng = random.Random(site * 1_000_003 + article)
        words = rng.choices(_WORDS, k=7)
        return f"{' '.join(words).capitalize()} (site {site}, story {article})"

    def summary(self, site: int, article: int) -> str:
        """The feed's summary of an article: a sentence of its own (a copy's is the original's),
        as feeds carry the lede; with `shared_sentences`, the same words for every site."""
        if self.shared_sentences:
            return f"Summary of story {article}."
        return _sentence(random.Random(self.text_site(site) * 1_000_003 + article + 17))

    def page(self, site: int, article: int) -> bytes:
        origin = self.text_site(site)
        rng = random.Random(origin * 1_000_003 + article)
        title = self.title(site, article)
        paragraphs = []
        for p in range(rng.randint(11, 14)):
            count = rng.randint(3, 5)
            if self.shared_sentences:
                text = " ".join(rng.choices(SENTENCES, k=count))
            else:
                text = " ".join(_sentence(rng) for _ in range(count))
            if p == 1 and (origin + article) % 25 == 0:  # 4% of articles match the shipped rule
                text = _TOPICAL + " " + text
            paragraphs.append(f"<p>{escape(text)}</p>")
        stamp = formatdate(EPOCH + article * 3600, usegmt=True)
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(title)} | Site {site}</title>"
            f"<link rel='canonical' href='http://{self.host(site)}/s{site}/a/{article}'>"
            f"<meta property='og:site_name' content='Site {site}'>"
            f"<meta name='date' content='{stamp}'></head><body>{TOP}<main><article>"
            f"<h1>{escape(title)}</h1><p class='byline'>By Staff Writer</p>"
            f"{''.join(paragraphs)}</article></main>{BOTTOM}</body></html>"
        ).encode()

    def feed(self, site: int) -> tuple[bytes, str]:
        base = f"http://{self.host(site)}/s{site}"
        items = [(a, self.title(site, a), f"{base}/a/{a}") for a in reversed(self.article_ids())]
        kind = FORMATS[site % len(FORMATS)]
        if kind == "json":
            doc = {
                "version": "https://jsonfeed.org/version/1.1",
                "title": f"Site {site}",
                "items": [
                    {"id": f"s{site}-{a}", "url": url, "title": title,
                     "summary": self.summary(site, a),
                     "date_published": _iso(EPOCH + a * 3600)}
                    for a, title, url in items
                ],
            }
            return json.dumps(doc).encode(), "application/feed+json"
        if kind == "atom":
            entries = "".join(
                f"<entry><id>tag:s{site},2026:{a}</id><title>{escape(title)}</title>"
                f"<link rel='alternate' href='{url}'/><updated>{_iso(EPOCH + a * 3600)}</updated>"
                f"<summary>{escape(self.summary(site, a))}</summary></entry>"
                for a, title, url in items
            )
            return (
                "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
                f"<title>Site {site}</title><id>tag:s{site},2026:feed</id>"
                f"<updated>{_iso(self.modified())}</updated>{entries}</feed>"
            ).encode(), "application/atom+xml"
        entries = "".join(
            f"<item><title>{escape(title)}</title><link>{url}</link>"
            f"<guid isPermaLink='false'>s{site}-{a}</guid>"
            f"<pubDate>{formatdate(EPOCH + a * 3600, usegmt=True)}</pubDate>"
            f"<description>{escape(self.summary(site, a))}</description></item>"
            for a, title, url in items
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Site {site}</title><link>{base}/</link><description>news</description>"
            f"{entries}</channel></rss>"
        ).encode(), "application/rss+xml"

    def modified(self) -> int:
        return EPOCH + (self.generation + self.entries) * 3600

    def etag(self, site: int) -> str:
        return '"' + hashlib.sha1(f"{site}-{self.generation}".encode()).hexdigest()[:16] + '"'

    def respond(self, path: str, headers: dict[str, str]) -> bytes:
        if path == "/_farm/publish":
            self.generation += 1
            return _response(200, str(self.generation).encode(), "text/plain")
        parts = path.split("?", 1)[0].strip("/").split("/")
        try:
            site = int(parts[0][1:]) if parts[0].startswith("s") else -1
        except ValueError:
            site = -1
        if not 0 <= site < self.sites:
            return _response(404, b"not found", "text/plain")
        if parts[1:] == ["feed"]:
            etag = self.etag(site)
            modified = formatdate(self.modified(), usegmt=True)
            validators = {"etag": etag, "last-modified": modified}
            if headers.get("if-none-match") == etag or _not_modified_since(
                headers.get("if-modified-since"), self.modified()
            ):
                return _response(304, b"", "", validators)
            body, ctype = self.feed(site)
            return _response(200, body, ctype, validators)
        if len(parts) == 3 and parts[1] == "a" and parts[2].isdigit():
            return _response(200, self.page(site, int(parts[2])), "text/html; charset=utf-8")
        return _response(404, b"not found", "text/plain")


def _iso(timestamp: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _not_modified_since(value: str | None, modified: int) -> bool:
    if not value:
        return False
    try:
        return parsedate_to_datetime(value).timestamp() >= modified
    except (TypeError, ValueError):
        return False


_REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 400: "Bad Request"}


def _response(status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS[status]}", f"content-length: {len(body)}"]
    if ctype:
        lines.append(f"content-type: {ctype}")
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Http(asyncio.Protocol):
    def __init__(self, farm: Farm) -> None:
        self.farm = farm
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            request = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if len(request) != 3:
                self.transport.write(_response(400, b"", ""))
                self.transport.close()
                return
            self.transport.write(self.farm.respond(request[1], headers))
            if headers.get("connection", "").lower() == "close":
                self.transport.close()
                return


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        return int(probe.getsockname()[1])


async def serve(farm: Farm, addresses: int) -> None:
    loop = asyncio.get_running_loop()
    servers = [
        await loop.create_server(lambda: _Http(farm), f"127.0.0.{2 + a}", farm.port, backlog=1024)
        for a in range(addresses)
    ]
    print(json.dumps({"port": farm.port, "pid": os.getpid()}), flush=True)
    stop = asyncio.Event()
    if not sys.stdin.isatty():  # started by a benchmark: stop at end of file on stdin
        loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not os.read(0, 4096) else None)
    await stop.wait() if not sys.stdin.isatty() else asyncio.Future()
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--copies", action="store_true",
                        help="odd sites republish the text of the site before them")
    parser.add_argument("--shared-sentences", action="store_true",
                        help="draw every page's sentences from one pool of 4,000")
    args = parser.parse_args()
    farm = Farm(args.sites, args.entries, args.port or free_port(), args.copies,
                args.shared_sentences)
    try:
        asyncio.run(serve(farm, min(ADDRESSES, args.sites)))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
