"""Feed text cannot inject email headers, HTML, Slack mentions or links, or break JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from monitor.notify.base import AlertBatch, AlertMessage, Carrier, PassageView
from monitor.notify.email import EmailOptions, build_message, header_safe
from monitor.notify.payload import alert_payload, encode
from monitor.notify.slack import alert_blocks, batch_blocks

EVIL_HEADLINE = (
    "Attack\r\nBcc: victim@example.org\r\n\r\n=?utf-8?b?QmNjOiB4QHkuY29t?= <!channel> <@U123> "
    "<!here> <http://evil.example|click> <script>alert(1)</script> \"quoted\" \ud800"
)


def evil_alert() -> AlertMessage:
    return AlertMessage(
        alert_id=7, rule="wagner", headline=EVIL_HEADLINE,
        url="javascript:alert(1)", source="Evil <!channel> Times",
        published=datetime(2025, 3, 1, tzinfo=UTC), language="en", story_id=1,
        created_at=datetime(2025, 3, 1, tzinfo=UTC),
        passages=(PassageView("<b>Wagner</b> <@U999> killed", ((3, 9),), "@wagner"),),
        also_carried_by=(Carrier("<!everyone>", "t", "http://x|y>"),),
    )


def test_email_headers_cannot_be_injected() -> None:
    options = EmailOptions.model_validate(
        {"host": "h", "from": "a@b.c", "to": ["d@e.f"], "security": "none"})
    msg = build_message(evil_alert(), options, "msg_abc\r\nX-Evil: 1")
    from email import message_from_bytes

    raw = msg.as_bytes()
    parsed = message_from_bytes(raw)
    assert sorted(parsed.keys()) == sorted(
        ["Subject", "From", "To", "Date", "Message-ID", "MIME-Version", "Content-Type"])
    assert b"=?utf-8?b?QmNj" not in raw.split(b"\n\n", 1)[0]
    assert parsed["Message-ID"] == "<msg_abcX-Evil1@news-monitor>"
    assert header_safe("a\nb=?utf-8?q?x?=c") == "a bc"


def test_email_html_is_escaped_and_links_are_safe() -> None:
    options = EmailOptions.model_validate({"host": "h", "from": "a@b.c", "to": ["d@e.f"]})
    html = build_message(evil_alert(), options, "k").get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Wagner</b>" not in html and "<mark>" in html
    assert "javascript:" not in html


def test_slack_blocks_cannot_mention_or_link() -> None:
    for blocks in (alert_blocks(evil_alert()),
                   batch_blocks(AlertBatch("overflow", "s", (evil_alert(),) * 3))):
        text = json.dumps(blocks)
        for forbidden in ("<!channel>", "<@U123>", "<!here>", "<!everyone>", "<@U999>",
                          "<http://evil.example|click>", "<javascript:"):
            assert forbidden not in text
        assert "&lt;!channel&gt;" in text
        mrkdwn = [b["text"] for b in blocks if b.get("text", {}).get("type") == "mrkdwn"]
        assert all(t["verbatim"] for t in mrkdwn)


def test_slack_link_cannot_close_the_link_syntax() -> None:
    from monitor.notify.slack import safe_link

    assert safe_link("https://ok.example/a|b>c d", "x<y") == (
        "<https://ok.example/a%7Cb%3Ec%20d|x&lt;y>")
    assert safe_link("javascript:alert(1)", "label") == "label"


def test_json_payload_survives_hostile_text() -> None:
    body = encode(alert_payload(evil_alert(), channel="hook"))
    data = json.loads(body)
    assert data["article"]["headline"].startswith("Attack\r\nBcc")
    assert data["article"]["source"] == "Evil <!channel> Times"
