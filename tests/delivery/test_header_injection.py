"""Encoded words in feed text cannot become headers (CVE-2024-6923 on Python 3.11.7).

Removing encoded words once joins the pieces around an inner one into a new encoded word, which
the standard library then decodes and writes with its CR/LF raw; `header_safe` must leave no
`=?` at all, whatever the nesting.
"""

from __future__ import annotations

import base64
import random
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from monitor.notify.apprise_channel import AppriseNotifier
from monitor.notify.base import AlertBatch, AlertMessage
from monitor.notify.email import EmailOptions, build_batch_message, build_message, header_safe

HEADERS = sorted(["Subject", "From", "To", "Date", "Message-ID", "MIME-Version", "Content-Type"])
_B64 = base64.b64encode(b"Hi\r\nBcc: evil@attacker.example\r\nX: y").decode()

NESTED = [
    # the review's demo: removing the inner word joins "=?ut" and "f-8?q?..." into a new one
    "=?ut=?a?q?b?=f-8?q?Hi=0D=0ABcc:_evil@attacker.example=0D=0AX:?=",
    # nested twice
    "=?u=?t=?a?q?b?=f?q?c?=tf-8?q?Hi=0D=0ABcc:_evil@attacker.example=0D=0AX:?=",
    # upper case, base64
    "=?UT=?A?Q?B?=F-8?Q?Hi=0D=0ABcc:_evil@attacker.example=0D=0AX:?=",
    f"=?ut=?x?b?YQ==?=f-8?b?{_B64}?=",
    # the inner word split by control characters or line breaks that cleaning removes
    "=\u2028?utf-8?q?Hi=0D=0ABcc:_evil@attacker.example=0D=0AX:?=",
    "=\x00?utf-8?q?Hi=0D=0ABcc:_evil@attacker.example=0D=0AX:?=",
    "=?utf-8?q?Hi=0D=0ABcc:_evil@attacker.example=0D=0AX:?\u202e=",
    # several side by side, and one after a long non-ASCII run so that folding happens
    "=?utf-8?q?a?= =?ut=?a?q?b?=f-8?q?Hi=0D=0ABcc:_evil@attacker.example=0D=0AX:?=",
    "é" * 120 + " =?ut=?a?q?b?=f-8?q?Hi=0D=0ABcc:_evil@attacker.example=0D=0AX:?=",
]


def _alert(headline: str) -> AlertMessage:
    return AlertMessage(alert_id=1, rule="r", headline=headline, url="https://x.example",
                        source=headline, published=None, language=None, story_id=1,
                        created_at=datetime(2025, 3, 1, tzinfo=UTC))


def _options() -> EmailOptions:
    return EmailOptions.model_validate({"host": "h", "from": "a@b.c", "to": ["x@y.z"]})


def _assert_clean(raw: bytes) -> None:
    head = raw.split(b"\n\n", 1)[0]
    assert b"Bcc" not in head and b"evil@" not in head and b"\nX:" not in head
    assert sorted(message_from_bytes(raw).keys()) == HEADERS
    subject = str(message_from_bytes(raw, policy=policy.default)["Subject"])  # decoded, unfolded
    assert "\r" not in subject and "\n" not in subject and "Bcc" not in subject


@pytest.mark.parametrize("headline", NESTED)
def test_nested_encoded_words_cannot_inject_headers(headline: str) -> None:
    assert "=?" not in header_safe(headline)
    _assert_clean(build_message(_alert(headline), _options(), "msg_1").as_bytes())


@pytest.mark.parametrize("headline", NESTED)
def test_digest_subject_cannot_inject_headers(headline: str) -> None:
    batch = AlertBatch("digest", "mail", (_alert(headline),) * 2)
    _assert_clean(build_batch_message(batch, _options(), "msg_2").as_bytes())
    # the rule name is configuration, but it reaches the Subject through the same path
    batch = AlertBatch("group", "mail", (replace(_alert("x"), rule=headline),))
    _assert_clean(build_batch_message(batch, _options(), "msg_3").as_bytes())


def test_no_encoded_word_survives_random_nesting() -> None:
    rng = random.Random(6923)
    alphabet = ["=?", "?=", "?q?", "?B?", "utf-8", "=0D=0A", "Bcc:", " ", "\r\n", "\u2028", "=",
                "?", "a"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        safe = header_safe(text)
        assert "=?" not in safe and "\r" not in safe and "\n" not in safe, text


def test_ordinary_text_is_kept() -> None:
    assert header_safe("a\nb=?utf-8?q?x?=c") == "a bc"
    assert header_safe("Is it =? no") == "Is it = ? no"
    assert header_safe("Wagner  fighters\r\nkilled") == "Wagner fighters killed"


def test_apprise_title_is_header_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    notifier = AppriseNotifier.__new__(AppriseNotifier)
    monkeypatch.setattr(notifier, "_notify", lambda title, body: seen.append(title),
                        raising=False)
    notifier.send(_alert(NESTED[0]), idempotency_key="k")
    notifier.send_batch(AlertBatch("group", "a", (_alert(NESTED[0]),)), idempotency_key="k")
    assert seen and all("=?" not in t and "\n" not in t for t in seen)
