"""`kind: page`: a listing or section page whose same-site article links become entries.

Links inside navigation (`<nav>`, page headers and footers, menus, breadcrumbs, pagination,
share and social blocks, cookie banners) are skipped; the rest are kept when they look like
articles (monitor.sources.links), or match the source's `include` patterns when it has any.
`selector` narrows the search to the listing area. Each URL becomes one entry, titled by its
longest anchor text, dated by a `<time datetime>` in its card when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree, html

from monitor.config.models import SourceSpec
from monitor.errors import ParseError
from monitor.fetch.client import FetchResult
from monitor.parse.feeds import FeedEntry
from monitor.sources.css import css_to_xpath
from monitor.sources.dates import parse_w3c
from monitor.sources.filters import UrlFilter
from monitor.sources.links import looks_like_article, refused
from monitor.sources.model import SourceDenied, SourceRead
from monitor.sources.robots import RobotsCache
from monitor.sources.urlclean import clean_url, same_site

MAX_ANCHORS = 20_000
CARD_NODES = 300
NOISE_TAGS = frozenset({"nav", "script", "style", "noscript", "template", "form", "select"})
EDGE_TAGS = frozenset({"header", "footer"})  # noise unless inside an <article> card
NOISE_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar"})
NOISE_WORDS = frozenset(
    """nav navbar navigation menu menus breadcrumb breadcrumbs pagination pager paging share
    sharing social cookie cookies consent newsletter subscribe login signin masthead topbar
    toolbar skip tags tagcloud""".split()  # noqa: SIM905 - a word list reads better as text
)
_TOKEN = re.compile(r"[a-z]+")
_CHARSET = re.compile(r"charset=([\w.-]+)", re.IGNORECASE)


def parse_html(body: bytes, content_type: str = "") -> html.HtmlElement:
    match = _CHARSET.search(content_type)
    parser = html.HTMLParser(
        encoding=match.group(1) if match else None,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = html.document_fromstring(body, parser=parser)
    except (etree.ParserError, LookupError, ValueError) as exc:
        raise ParseError(f"not an HTML page: {exc}") from None
    if root is None:
        raise ParseError("not an HTML page: empty document")
    return root


def _noise(element: etree._Element) -> bool:
    """Whether `element` or an ancestor is navigation-like chrome rather than content."""
    in_article = False
    node: etree._Element | None = element
    chain = []
    while node is not None:
        chain.append(node)
        node = node.getparent()
    for node in chain:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("body", "html"):  # their classes describe the page (`has-menu`), not chrome
            break
        if tag == "article":
            in_article = True
        if tag in NOISE_TAGS or (node.get("role") or "").lower() in NOISE_ROLES:
            return True
        names = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
        if NOISE_WORDS.intersection(_TOKEN.findall(names)):
            return True
    return any(isinstance(n.tag, str) and n.tag in EDGE_TAGS for n in chain) and not in_article


def _text(anchor: html.HtmlElement) -> str:
    text = " ".join(anchor.text_content().split())
    if not text:
        text = anchor.get("title") or ""
        for image in anchor.iter("img"):
            text = text or image.get("alt") or ""
    return " ".join(text.split())[:500]


def _card_time(anchor: etree._Element) -> datetime | None:
    """The `<time datetime>` of the smallest ancestor (up to 4 up) holding one, if that card
    is small (at most CARD_NODES elements) and links to little else."""
    node = anchor.getparent()
    for _ in range(4):
        if node is None:
            return None
        stamp, links = None, 0
        for count, element in enumerate(node.iter()):
            if count > CARD_NODES:
                return None
            if element.tag == "a" and element.get("href") is not None:
                links += 1
            elif element.tag == "time" and stamp is None and element.get("datetime"):
                stamp = str(element.get("datetime"))
        if stamp is not None:
            return parse_w3c(stamp) if links <= 3 else None
        node = node.getparent()
    return None


def _areas(root: html.HtmlElement, selector: str | None) -> list[etree._Element]:
    if selector is None:
        body = root.find("body")
        return [body if body is not None else root]
    found = root.xpath(css_to_xpath(selector))
    return [e for e in found if isinstance(e, etree._Element)]


def _anchors(areas: list[etree._Element]) -> Iterator[etree._Element]:
    seen: set[etree._Element] = set()  # holds the proxies, so nested areas yield each once
    count = 0
    for area in areas:
        candidates = [area] if area.tag == "a" else area.iter("a")
        for anchor in candidates:
            if anchor in seen or anchor.get("href") is None:
                continue
            seen.add(anchor)
            count += 1
            if count > MAX_ANCHORS:
                return
            yield anchor


def base_url(root: html.HtmlElement, page_url: str) -> str:
    base = root.find(".//base[@href]")
    if base is not None:
        candidate = urljoin(page_url, str(base.get("href")))
        if same_site(candidate, page_url):
            return candidate
    return page_url


def article_links(root: html.HtmlElement, page_url: str, spec: SourceSpec) -> list[FeedEntry]:
    """The article entries of a listing page, in page order, at most `spec.max_entries`."""
    base = base_url(root, page_url)
    urls = UrlFilter(spec, page_url)
    own = clean_url(page_url)
    found: dict[str, tuple[str, datetime | None]] = {}
    for anchor in _anchors(_areas(root, spec.selector)):
        link = clean_url(urljoin(base, str(anchor.get("href")).strip()))
        if link is None or link == own or not same_site(link, spec.url) or _noise(anchor):
            continue
        text = _text(anchor)
        if urls.has_include:
            if refused(link) in ("file", "social") or not urls.wanted(link):
                continue
        elif not urls.wanted(link) or not looks_like_article(link, text):
            continue
        title, published = found.get(link, ("", None))
        found[link] = (
            text if len(text) > len(title) else title,
            published or _card_time(anchor),
        )
        if len(found) >= spec.max_entries:
            break
    return [
        FeedEntry(None, link, title, "", "", published, None, spec.language)
        for link, (title, published) in found.items()
    ]


class PageReader:
    """Reads one listing page; conditional GET on it is safe (an unchanged page lists nothing
    new)."""

    conditional = True

    def __init__(self, robots: RobotsCache) -> None:
        self._robots = robots

    def start_urls(self, spec: SourceSpec) -> list[str]:
        if spec.respect_robots and not self._robots.allowed(spec.url):
            raise SourceDenied(f"robots.txt disallows {spec.url}")
        return [spec.url]

    def read(self, spec: SourceSpec, result: FetchResult) -> SourceRead:
        if result.not_modified:
            return SourceRead([])
        root = parse_html(result.body, result.content_type)
        entries = article_links(root, result.url, spec)
        notes = []
        if len(entries) >= spec.max_entries:
            notes.append(f"read the first {spec.max_entries} article links (max_entries)")
        if spec.respect_robots:
            allowed = [e for e in entries if self._robots.allowed(e.link)]
            if len(allowed) < len(entries):
                notes.append(f"robots.txt disallows {len(entries) - len(allowed)} article links")
            entries = allowed
        return SourceRead(entries, [], "; ".join(notes) or None)
