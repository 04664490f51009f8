"""Why a rule matched (or not): the clause tree, matched spans and highlighted passages.

These are the objects the rest of the product stores and shows: :class:`RuleMatch` is what the
engine returns for a matching rule and serialises with :meth:`RuleMatch.to_json`; the CLI renders
an :class:`Explanation` with :mod:`monitor.rules.render`. Offsets are character offsets into the
original (not normalised) title or body text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Span:
    """A matched word or phrase: ``field`` is "title" or "body"; offsets into that field's text."""

    field: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Clause:
    """One node of the query with its truth value for the article and the spans it matched."""

    source: str
    operator: str
    value: bool
    children: tuple[Clause, ...] = ()
    spans: tuple[Span, ...] = ()
    omitted_spans: int = 0  # matched spans left out to keep the explanation short

    def to_json(self) -> dict[str, Any]:
        """JSON form; false alternatives of an OR are summarised as a count to keep it short."""
        data: dict[str, Any] = {
            "clause": self.source,
            "operator": self.operator,
            "value": self.value,
        }
        if self.spans:
            data["spans"] = [s.to_json() for s in self.spans]
        if self.omitted_spans:
            data["omitted_spans"] = self.omitted_spans
        shown = self.children
        if self.operator == "OR":
            shown = tuple(c for c in self.children if c.value)
            if len(shown) < len(self.children):
                data["omitted_false"] = len(self.children) - len(shown)
        if shown:
            data["children"] = [c.to_json() for c in shown]
        return data


@dataclass(frozen=True)
class Passage:
    """A short snippet of original text around matched spans, with the clause it satisfied."""

    field: str
    text: str
    highlights: tuple[tuple[int, int], ...]
    clause: str

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "text": self.text,
            "clause": self.clause,
            "highlights": [list(h) for h in self.highlights],
        }


@dataclass(frozen=True)
class Explanation:
    """The evaluation of one rule on one article; `filtered` says why rule filters excluded it.

    `notes` say where matching limits were reached (words of the article ignored, occurrences
    of a term not used), so a surprising verdict on a huge article can be understood.
    """

    rule: str
    matched: bool
    root: Clause
    spans: tuple[Span, ...] = ()
    passages: tuple[Passage, ...] = ()
    filtered: str = ""
    notes: tuple[str, ...] = ()
    omitted_spans: int = 0

    def top_clauses(self) -> tuple[Clause, ...]:
        """The clauses ANDed at the top of the query (the query itself when it is not an AND)."""
        return self.root.children if self.root.operator == "AND" else (self.root,)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "matched": self.matched,
            "clauses": self.root.to_json(),
            "spans": [s.to_json() for s in self.spans],
        }
        if self.omitted_spans:
            data["omitted_spans"] = self.omitted_spans
        if self.filtered:
            data["filtered"] = self.filtered
        if self.notes:
            data["notes"] = list(self.notes)
        return data


@dataclass(frozen=True)
class RuleMatch:
    """A matching rule with its explanation and highlighted passages."""

    rule: str
    explanation: Explanation
    passages: tuple[Passage, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (stored with the match and sent in alerts)."""
        return {
            "rule": self.rule,
            "explanation": self.explanation.to_json(),
            "passages": [p.to_json() for p in self.passages],
        }
