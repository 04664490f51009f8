"""Precision and recall of the flagship rule on labelled corpora (>= 0.95 each)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_testkit import REPO

from monitor.corpus import load_corpus
from monitor.rules import FLAGSHIP_RULE, RuleEngine
from monitor.rules.quality import measure, measure_directory

OWN_CORPUS = Path(__file__).parent / "corpus"
SHARED_CORPUS = REPO / "tests" / "fixtures" / "rules_corpus"


def test_flagship_quality_on_own_articles(shipped_engine: RuleEngine) -> None:
    report = measure_directory(shipped_engine, FLAGSHIP_RULE, OWN_CORPUS)
    assert report.total == len(load_corpus(OWN_CORPUS))
    assert (report.false_positives, report.false_negatives) == ((), ()), report.describe()


@pytest.mark.skipif(
    len(list(SHARED_CORPUS.rglob("*.md"))) < 60, reason="labelled rules corpus not written yet"
)
def test_flagship_quality_on_shared_corpus(shipped_engine: RuleEngine) -> None:
    report = measure(shipped_engine, FLAGSHIP_RULE, load_corpus(SHARED_CORPUS))
    assert report.total >= 60
    assert report.precision >= 0.95, report.describe()
    assert report.recall >= 0.95, report.describe()


def test_report_arithmetic(shipped_engine: RuleEngine) -> None:
    report = measure(shipped_engine, FLAGSHIP_RULE, [])
    assert (report.precision, report.recall, report.total) == (1.0, 1.0, 0)
