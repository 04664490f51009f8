"""Splits a rule query into lexical tokens: words, phrases, operators, fields, concepts, parens.

Operators are recognised only in upper case (``AND OR NOT NEAR/n ONEAR/n SENTENCE PARAGRAPH``);
``and`` in lower case is an ordinary word. Phrases use straight or typographic double quotes. A
name directly followed by ``:`` is a field or metadata scope. Errors carry a 1-based column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import RuleSyntaxError
from monitor.rules.syntax import FIELDS, METADATA, UNITS

_OPEN_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
_STOP = frozenset('()"“”„«» \t\r\n\f\v')
_PROX_RE = re.compile(r"(O?NEAR)/(\d+)\Z")
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_SCOPE_RE = re.compile(r"([A-Za-z]+):")
MAX_DISTANCE_DIGITS = 9  # the configured limit (RuleSettings.max_near_distance) is far lower


@dataclass(frozen=True, slots=True)
class Lexeme:
    """One token of a query; `start`/`end` are 0-based character offsets."""

    kind: str  # LPAREN RPAREN WORD PHRASE AND OR NOT PROX FIELD META CONCEPT EOF
    text: str
    start: int
    end: int
    distance: int | None = None

    @property
    def column(self) -> int:
        return self.start + 1


def lex(query: str) -> list[Lexeme]:
    """Tokenise `query`; raises RuleSyntaxError on a malformed token."""
    out: list[Lexeme] = []
    pos = 0
    while pos < len(query):
        ch = query[pos]
        if ch.isspace():
            pos += 1
        elif ch in "()":
            out.append(Lexeme("LPAREN" if ch == "(" else "RPAREN", ch, pos, pos + 1))
            pos += 1
        elif ch in _OPEN_QUOTES:
            pos = _lex_phrase(query, pos, out)
        elif ch in "”»":
            raise RuleSyntaxError("closing quote without an opening one", query, pos + 1)
        elif ch == "@":
            name = _NAME_RE.match(query, pos + 1)
            if not name:
                raise RuleSyntaxError("'@' must be followed by a concept name", query, pos + 1)
            out.append(Lexeme("CONCEPT", name.group(), pos, name.end()))
            pos = name.end()
        else:
            pos = _lex_bare(query, pos, out)
    out.append(Lexeme("EOF", "", len(query), len(query)))
    return out


def _lex_phrase(query: str, pos: int, out: list[Lexeme]) -> int:
    closing = _OPEN_QUOTES[query[pos]]
    end = query.find(closing, pos + 1)
    if closing != '"' and end < 0:
        end = query.find('"', pos + 1)
    if end < 0:
        raise RuleSyntaxError("unclosed quote", query, pos + 1)
    out.append(Lexeme("PHRASE", query[pos + 1 : end], pos, end + 1))
    return end + 1


def _lex_bare(query: str, pos: int, out: list[Lexeme]) -> int:
    scope = _SCOPE_RE.match(query, pos)
    if scope:
        name = scope.group(1).lower()
        if name in FIELDS:
            out.append(Lexeme("FIELD", name, pos, scope.end()))
            return scope.end()
        if name in METADATA:
            return _lex_metadata(query, pos, scope.end(), name, out)
        valid = ", ".join(FIELDS + METADATA)
        raise RuleSyntaxError(f"unknown field '{scope.group(1)}' (valid: {valid})", query, pos + 1)
    end = pos
    while end < len(query) and query[end] not in _STOP:
        end += 1
    text = query[pos:end]
    if text in ("AND", "OR", "NOT"):
        out.append(Lexeme(text, text, pos, end))
    elif text in UNITS:
        out.append(Lexeme("PROX", text, pos, end))
    elif prox := _PROX_RE.match(text):
        digits = prox.group(2).lstrip("0") or "0"
        if len(digits) > MAX_DISTANCE_DIGITS:  # never convert a 5,000-digit number
            shown = digits if len(digits) <= 30 else digits[:30] + "..."
            raise RuleSyntaxError(
                f"{prox.group(1)}/{shown} is too wide: proximity distances are limited "
                "(settings.rules.max_near_distance, 1,000 words by default)",
                query,
                pos + 1,
            )
        distance = int(digits)
        if distance < 1:
            raise RuleSyntaxError(f"{prox.group(1)} distance must be at least 1", query, pos + 1)
        out.append(Lexeme("PROX", prox.group(1), pos, end, distance))
    elif text.startswith(("NEAR", "ONEAR")) and text.rstrip("/0123456789") in ("NEAR", "ONEAR"):
        op = text.split("/", 1)[0]
        raise RuleSyntaxError(f"{op} needs a distance in words, e.g. {op}/5", query, pos + 1)
    else:
        out.append(Lexeme("WORD", text, pos, end))
    return end


def _lex_metadata(query: str, pos: int, value_at: int, name: str, out: list[Lexeme]) -> int:
    end = value_at
    while end < len(query) and query[end] not in _STOP:
        end += 1
    value = query[value_at:end]
    if not value:
        raise RuleSyntaxError(
            f"'{name}:' needs a value, e.g. {name}:{_EXAMPLE[name]}", query, value_at + 1
        )
    out.append(Lexeme("META", f"{name}:{value}", pos, end))
    return end


_EXAMPLE = {"lang": "fr", "source": "reliefweb", "tag": "wire"}
