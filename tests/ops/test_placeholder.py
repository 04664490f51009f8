"""Placeholder pages: each case says what the source's URL served and what we expect."""

from __future__ import annotations

import pytest

from monitor.health.placeholder import page_facts, placeholder_reason

ARTICLE = (
    "<html><body><h1>Elections postponed</h1>"
    + "<p>The commission said the vote, coming soon after the rainy season, is delayed.</p>" * 40
    + "</body></html>"
)
CASES = [
    # (what the URL served, content type, usual size before, expected reason fragment or None)
    ("<!DOCTYPE html><html><body><h1>This domain is for sale</h1></body></html>", "text/html",
     None, "domain is for sale"),
    ("<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1>"
     "<p>If you see this page, the nginx web server is successfully installed.</p></body></html>",
     "text/html", 30_000, "welcome to nginx"),
    ("<html><body><div>Parked free, courtesy of GoDaddy.com</div></body></html>", None, 30_000,
     "parked free"),
    ("<html><body><h2>Coming soon!</h2></body></html>", "text/html; charset=utf-8", 25_000,
     "coming soon"),
    ('<?xml version="1.0"?><rss version="2.0"><channel><title>coming soon</title></channel></rss>',
     "application/rss+xml", 30_000, None),  # a feed is never a placeholder, whatever it says
    (ARTICLE, "text/html", 6_000, None),  # a long page mentioning a marker is content
    ("<html><body><h2>Coming soon</h2></body></html>", "text/html", 60,
     None),  # it always looked like this: nothing sudden
    ("<html><body><p>News from sudan.com and Khartoum</p></body></html>", "text/html", None, None),
    ("<html><body><p>Maintenance.</p></body></html>", "text/html", 40_000, "usually serves"),
    ("<html><body><p>Maintenance.</p></body></html>", "text/html", 2_000, None),  # was small
]


@pytest.mark.parametrize(("body", "ctype", "typical", "expected"), CASES)
def test_placeholder_cases(body: str, ctype: str | None, typical: int | None,
                           expected: str | None) -> None:
    # the URL served HTML pages of `typical` bytes before
    reason = placeholder_reason(page_facts(body.encode(), ctype), typical, typical_html=True)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_large_pages_are_not_parsed() -> None:
    huge = b"<html><body>" + b"<p>coming soon</p>" * 10_000 + b"</body></html>"
    assert page_facts(huge, "text/html").text_chars is None


def test_a_parking_page_where_a_small_feed_was_is_sudden() -> None:
    parking = b"<html><body><h1>This domain may be for sale</h1></body></html>"
    facts = page_facts(parking, "text/html")
    assert placeholder_reason(facts, typical_size=200, typical_html=False) is not None
    assert placeholder_reason(facts, typical_size=200, typical_html=True) is None  # as before
