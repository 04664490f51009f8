"""Cleaning untrusted feed text, optionally cut into pieces that keep their boundaries.

`one_line_pieces` sanitises consecutive pieces of one text as if they were a single string (CR/LF
and whitespace runs become one space, control characters and lone surrogates go, the ends are
trimmed, the whole is cut to `limit`) but returns the result still cut at the same places. Offsets
computed on the raw text (highlights) therefore stay on the same characters after cleaning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u200e\u200f\u202a-\u202e]")


def clean(text: str) -> str:
    """Untrusted text without lone surrogates (unencodable) and control characters but newlines."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", unicodedata.normalize("NFC", text))


def one_line_pieces(pieces: Sequence[str], limit: int = 300) -> list[str]:
    """Each piece cleaned, whitespace collapsed across pieces, the whole trimmed and capped.

    A whitespace run becomes one space, kept in the piece where the run starts (and only when a
    visible character follows, so the ends are trimmed). Past `limit` characters the text is cut
    to `limit - 1` and an ellipsis ends the piece that was cut; later pieces are empty.
    """
    out: list[list[str]] = [[] for _ in pieces]
    space_at: int | None = None  # piece holding the start of a pending whitespace run
    started = False
    for index, piece in enumerate(pieces):
        for char in clean(piece.replace("\r", " ").replace("\n", " ")):
            if char.isspace():
                if started and space_at is None:
                    space_at = index
                continue
            if space_at is not None:
                out[space_at].append(" ")
                space_at = None
            out[index].append(char)
            started = True
    return _cap(["".join(chars) for chars in out], limit)


def _cap(pieces: list[str], limit: int) -> list[str]:
    if sum(len(p) for p in pieces) <= limit:
        return pieces
    budget = max(limit - 1, 0)
    capped: list[str] = []
    for piece in pieces:
        if budget >= len(piece):
            capped.append(piece)
            budget -= len(piece)
        elif budget >= 0:
            capped.append(piece[:budget] + "…")
            budget = -1
        else:
            capped.append("")
    return capped


def one_line(text: str, limit: int = 300) -> str:
    """Collapse untrusted text to one safe line of at most `limit` characters."""
    return "".join(one_line_pieces([text], limit))
