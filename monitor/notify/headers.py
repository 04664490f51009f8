"""Feed text made safe for a mail header (email channel, and Apprise titles that may become one).

Python 3.11.7 on our machines is affected by CVE-2024-6923: when it folds a header it decodes
RFC 2047 encoded words and can write the CR/LF they contain raw, so `=?utf-8?q?=0D=0ABcc:...?=`
in a headline becomes an injected `Bcc:` header. Removing encoded words once is not enough (taking
out an inner one joins the pieces around it into a new one), so they are removed until none is
left, and then every `=?` that remains is broken up as `= ?`: the result holds no `=?` at all and
therefore no encoded word, whatever the input. A headline made only of encoded words would be
left empty: it is decoded once instead, and the decoded text cleaned the same way.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header, make_header

from monitor.notify.sanitise import one_line

_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?[^?]*\?=")
_HOSTILE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _no_encoded_words(text: str) -> str:
    while True:
        stripped = _ENCODED_WORD.sub("", text)
        if stripped == text:
            return text.replace("=?", "= ?")
        text = stripped


def _decoded(match: re.Match[str]) -> str:
    """The text an encoded word stands for (sanitised by the caller), or nothing if invalid."""
    try:
        decoded = str(make_header(decode_header(match.group(0))))
    except (ValueError, LookupError, UnicodeError, HeaderParseError):
        return ""
    return "" if _HOSTILE.search(decoded) else decoded  # line breaks in a word: an injection


def header_safe(text: str, limit: int = 200, *, fallback: str = "") -> str:
    """One line, at most about `limit` characters, with no CR/LF, encoded word or `=?`.

    If nothing is left once encoded words are removed (a headline written only as
    `=?utf-8?q?...?=`), they are decoded once instead and the decoded text is cleaned the same
    way, so the words still show; `fallback` is returned if even that leaves nothing.
    """
    line = _safe_line(text, limit)
    if not line and "=?" in text:
        line = _safe_line(_ENCODED_WORD.sub(_decoded, one_line(text, 2000)), limit)
    return line or fallback


def _safe_line(text: str, limit: int) -> str:
    line = one_line(_no_encoded_words(one_line(text, 2000)), limit)
    return _no_encoded_words(line)  # trimming and collapsing cannot create one: belt and braces
