"""The analyst rule language (product.md section 4): parse, load, compile, match and explain.

Public API: :class:`Document`; :class:`Rule`, :class:`RuleSet` and :func:`load_rules`;
:class:`RuleEngine` (``compile``, ``match``, ``explain``); :class:`RuleMatch`,
:class:`Explanation`, :class:`Clause`, :class:`Span`, :class:`Passage`; :func:`parse`;
:func:`check_examples`. The click group lives in :mod:`monitor.rules.cli`.
"""

from monitor.errors import UnknownRuleError
from monitor.rules.document import Document
from monitor.rules.engine import RuleEngine
from monitor.rules.examples import ExampleOutcome, check_examples
from monitor.rules.explain import Clause, Explanation, Passage, RuleMatch, Span
from monitor.rules.loader import load_rules
from monitor.rules.model import Example, Rule, RuleSet
from monitor.rules.parser import parse

FLAGSHIP_RULE = "wagner-sahel-civilian-harm"

__all__ = [
    "FLAGSHIP_RULE",
    "Clause",
    "Document",
    "Example",
    "ExampleOutcome",
    "Explanation",
    "Passage",
    "Rule",
    "RuleEngine",
    "RuleMatch",
    "RuleSet",
    "Span",
    "UnknownRuleError",
    "check_examples",
    "load_rules",
    "parse",
]
