"""Listing pages: every fixture page in listings/ carries its expected article links.

Precision and recall of the link heuristics are measured over all fixtures and printed
(`pytest tests/sources/test_listing_pages.py -s`). niger-observer.html was written after the
heuristics were tuned on the other three, as a held-out check.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.config.models import SourceSpec
from monitor.sources.page import article_links, parse_html

LISTINGS = Path(__file__).parent / "listings"
FIXTURES = sorted(p.stem for p in LISTINGS.glob("*.json"))


def _load(name: str) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    expected = json.loads((LISTINGS / f"{name}.json").read_text())
    spec = SourceSpec(name="listing", url=expected["url"], kind="page")
    body = (LISTINGS / f"{name}.html").read_bytes()
    entries = article_links(parse_html(body), expected["url"], spec)
    return expected, [e.link for e in entries], {e.link: e for e in entries}


@pytest.mark.parametrize("name", FIXTURES)
def test_listing_links(name: str) -> None:
    expected, got, entries = _load(name)
    want = set(expected["articles"])
    assert [u for u in got if u not in want] == [], "links that are not articles"
    assert len(want & set(got)) >= len(want) - 1, f"missed: {sorted(want - set(got))}"
    for url, title in expected.get("titles", {}).items():
        assert entries[url].title == title
    for url, moment in expected.get("published", {}).items():
        assert entries[url].published == datetime.fromisoformat(moment)


def test_precision_and_recall_over_all_listings() -> None:
    rows, found, correct, relevant = [], 0, 0, 0
    for name in FIXTURES:
        expected, got, _ = _load(name)
        want = set(expected["articles"])
        hits = len(want & set(got))
        rows.append(f"{name:<20} {hits:>3}/{len(got):<3} {hits:>3}/{len(want):<3}")
        found, correct, relevant = found + len(got), correct + hits, relevant + len(want)
    print("\nlisting               precision recall")
    print("\n".join(rows))
    print(f"{'all':<20} {correct / found:.3f}     {correct / relevant:.3f}")
    assert correct / found >= 0.95 and correct / relevant >= 0.9


def test_selector_include_and_exclude() -> None:
    body = (LISTINGS / "west-africa-wire.html").read_bytes()
    url = "https://westafricawire.example/news/africa"
    spec = SourceSpec(name="w", url=url, kind="page", selector="section.top-stories")
    assert len(article_links(parse_html(body), url, spec)) == 5
    spec = SourceSpec(name="w", url=url, kind="page", include=[r"/news/africa/"], exclude=["niger"])
    links = [e.link for e in article_links(parse_html(body), url, spec)]
    assert links == [
        f"{url}/mali-junta-extends-transition-to-2029",
        f"{url}/ceasefire-holds",
        f"{url}/c7d2k9x4o1eo",
        f"{url}/senegal-fishermen-protest-foreign-trawlers",
        f"{url}/burkina-faso-journalists-conscripted",
    ]


def test_include_patterns_replace_the_heuristics_but_not_the_hard_refusals() -> None:
    page = b"""<html><body><a href="/item?id=7">A</a><a href="/item?id=8">B</a>
    <a href="/item?id=9.pdf">c</a><a href="/files/x.pdf?id=1">pdf</a></body></html>"""
    spec = SourceSpec(name="h", url="https://h.example/", kind="page", include=[r"/item\?id="])
    links = [e.link for e in article_links(parse_html(page), "https://h.example/", spec)]
    assert links == [
        "https://h.example/item?id=7",
        "https://h.example/item?id=8",
        "https://h.example/item?id=9.pdf",
    ]


def test_entries_are_bounded_and_hostile_markup_is_harmless() -> None:
    cards = "".join(
        f'<a href="/story/{i}-a-long-enough-slug-here">Story {i}</a>' for i in range(5000)
    )
    spec = SourceSpec(name="b", url="https://b.example/", kind="page", max_entries=100)
    page = f"<html><body>{'<div>' * 200}{cards}</body></html>".encode()
    assert len(article_links(parse_html(page), "https://b.example/", spec)) == 100
    # libxml2 stops descending past its depth limit (huge_tree is off): fewer links, no crash
    page = f"<html><body>{'<div>' * 100_000}{cards}</body></html>".encode()
    assert len(article_links(parse_html(page), "https://b.example/", spec)) <= 100


def test_page_wide_body_classes_do_not_hide_the_listing() -> None:
    page = b"""<html><body class="has-menu tags-archive"><main>
    <a href="/2026/11/25/army-retakes-town">Army retakes the town after a week</a></main></body></html>"""
    spec = SourceSpec(name="c", url="https://c.example/", kind="page")
    assert len(article_links(parse_html(page), "https://c.example/", spec)) == 1


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://news.site.co.uk/2026/11/a-story-here", True),
        ("https://other.co.uk/2026/11/a-story-here", False),
        ("https://b.github.io/2026/11/a-story-here", False),
        ("http://127.0.0.1:9/2026/11/a-story-here", False),
    ],
)
def test_same_site_uses_the_registered_domain(url: str, same: bool) -> None:
    from monitor.sources.urlclean import same_site

    base = "https://a.github.io/" if "github" in url else "https://www.site.co.uk/"
    assert same_site(url, base) is same
