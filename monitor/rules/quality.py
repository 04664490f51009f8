"""Precision and recall of a rule against a labelled corpus (see :mod:`monitor.corpus`).

Each corpus article carries a boolean label (``flagship: true`` for the flagship rule); articles
without the label are not counted. The report lists the ids of false positives and false
negatives, so tuning a concept starts from the articles it gets wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from monitor.corpus import CorpusArticle, iter_corpus
from monitor.rules.engine import RuleEngine
from monitor.rules.sources import document_from_corpus


@dataclass(frozen=True)
class QualityReport:
    """Confusion counts of one rule on one corpus, with the ids it got wrong."""

    rule: str
    label: str
    true_positives: int
    true_negatives: int
    false_positives: tuple[str, ...]
    false_negatives: tuple[str, ...]

    @property
    def total(self) -> int:
        wrong = len(self.false_positives) + len(self.false_negatives)
        return self.true_positives + self.true_negatives + wrong

    @property
    def precision(self) -> float:
        predicted = self.true_positives + len(self.false_positives)
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        relevant = self.true_positives + len(self.false_negatives)
        return self.true_positives / relevant if relevant else 1.0

    def describe(self) -> str:
        lines = [
            f"rule {self.rule} on {self.total} articles labelled '{self.label}': "
            f"precision {self.precision:.3f}, recall {self.recall:.3f} "
            f"(tp {self.true_positives}, fp {len(self.false_positives)}, "
            f"fn {len(self.false_negatives)}, tn {self.true_negatives})"
        ]
        if self.false_positives:
            lines.append("false positives: " + ", ".join(self.false_positives))
        if self.false_negatives:
            lines.append("false negatives: " + ", ".join(self.false_negatives))
        return "\n".join(lines)


def measure(
    engine: RuleEngine, rule: str, articles: Iterable[CorpusArticle], label: str = "flagship"
) -> QualityReport:
    """Run `rule` on every article labelled with `label` and count hits and misses."""
    tp = tn = 0
    fps: list[str] = []
    fns: list[str] = []
    for article in articles:
        if label not in article.labels:
            continue
        expected = bool(article.labels[label])
        matched = engine.explain(rule, document_from_corpus(article)).matched
        if matched and expected:
            tp += 1
        elif not matched and not expected:
            tn += 1
        elif matched:
            fps.append(article.id)
        else:
            fns.append(article.id)
    return QualityReport(rule, label, tp, tn, tuple(fps), tuple(fns))


def measure_directory(
    engine: RuleEngine, rule: str, directory: Path, label: str = "flagship"
) -> QualityReport:
    """:func:`measure` over a corpus directory."""
    return measure(engine, rule, iter_corpus(directory), label)
