"""Highlights stay on the words they were computed for, whatever the cleaning removes.

Offsets are computed on the raw passage text; collapsing whitespace or dropping control
characters before applying them used to move the marks (`Wag[ner fi]ghters`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from monitor.notify.base import AlertMessage, PassageView
from monitor.notify.email import EmailOptions, build_message
from monitor.notify.render import mark, plain_text
from monitor.notify.slack import alert_blocks


def _passage(text: str, *words: str) -> PassageView:
    spans = tuple((text.index(w), text.index(w) + len(w)) for w in words)
    return PassageView(text, spans, "@wagner")


CASES = [
    ("Troops  and   Wagner fighters killed", "Troops and [Wagner] [fighters] killed"),
    ("Troops\r\n\r\nand\n\tWagner\n\nfighters", "Troops and [Wagner] [fighters]"),
    ("\x1b[31m  Troops\x00\x07 and\u2028\u2029 Wagner\u202e fighters",
     "[31m Troops and [Wagner] [fighters]"),
    ("Cafe\u0301  and \ud800 Wagner   fighters ", "Café and ? [Wagner] [fighters]"),
    ("   Wagner   fighters   ", "[Wagner] [fighters]"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_plain_text_marks_the_right_words(text: str, expected: str) -> None:
    assert mark(_passage(text, "Wagner", "fighters"), "[", "]") == expected


def test_a_highlight_spanning_collapsed_whitespace_keeps_one_space() -> None:
    text = "Troops  of the\n\n Wagner \x00 group   left"
    assert mark(_passage(text, "Wagner \x00 group"), "[", "]") == "Troops of the [Wagner group] left"


def test_a_highlight_of_only_removed_characters_leaves_no_empty_marker() -> None:
    text = "Troops\x00\x01 Wagner"
    assert mark(PassageView(text, ((6, 8), (9, 15)), "c"), "[", "]") == "Troops [Wagner]"


def test_bad_offsets_are_ignored() -> None:
    text = "a  Wagner  b"
    view = PassageView(text, ((3, 9), (4, 6), (-1, 2), (10, 99), (5, 5)), "c")
    assert mark(view, "[", "]") == "a [Wagner] b"


def test_pieces_equal_one_line_when_joined() -> None:
    from monitor.notify.sanitise import one_line, one_line_pieces

    text = "  \x1b Troops\r\n and\t\t Wagner\u2028 fighters \ud800 " * 30
    pieces = one_line_pieces([text[:7], text[7:50], text[50:51], text[51:]], limit=300)
    assert "".join(pieces) == one_line(text, 300)
    assert len(pieces) == 4


def _alert(text: str) -> AlertMessage:
    return AlertMessage(alert_id=1, rule="r", headline="h", url="https://x.example", source="s",
                        published=None, language=None, story_id=1,
                        created_at=datetime(2025, 3, 1, tzinfo=UTC),
                        passages=(_passage(text, "Wagner", "fighters"),))


def test_every_channel_marks_the_right_words() -> None:
    alert = _alert("Troops  and   Wagner\n\n fighters\x00 killed <b>")
    assert "» Troops and [Wagner] [fighters] killed <b>" in plain_text(alert)
    options = EmailOptions.model_validate({"host": "h", "from": "a@b.c", "to": ["x@y.z"]})
    html = build_message(alert, options, "k").get_body(("html",)).get_content()
    assert "Troops and <mark>Wagner</mark> <mark>fighters</mark> killed &lt;b&gt;" in html
    slack = json.dumps(alert_blocks(alert))
    assert "Troops and *Wagner* *fighters* killed &lt;b&gt;" in slack
