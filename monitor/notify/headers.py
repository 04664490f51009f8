"""Feed text made safe for a mail header (email channel, and Apprise titles that may become one).

Python 3.11.7 on our machines is affected by CVE-2024-6923: when it folds a header it decodes
RFC 2047 encoded words and can write the CR/LF they contain raw, so `=?utf-8?q?=0D=0ABcc:...?=`
in a headline becomes an injected `Bcc:` header. Removing encoded words once is not enough (taking
out an inner one joins the pieces around it into a new one), so they are removed until none is
left, and then every `=?` that remains is broken up as `= ?`: the result holds no `=?` at all and
therefore no encoded word, whatever the input.
"""

from __future__ import annotations

import re

from monitor.notify.sanitise import one_line

_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?[^?]*\?=")


def _no_encoded_words(text: str) -> str:
    while True:
        stripped = _ENCODED_WORD.sub("", text)
        if stripped == text:
            return text.replace("=?", "= ?")
        text = stripped


def header_safe(text: str, limit: int = 200) -> str:
    """One line, at most about `limit` characters, with no CR/LF, encoded word or `=?`."""
    line = one_line(_no_encoded_words(one_line(text, 2000)), limit)
    return _no_encoded_words(line)  # trimming and collapsing cannot create one: belt and braces
