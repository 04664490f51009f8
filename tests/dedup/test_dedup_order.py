"""Arrival order does not change the outcome: the self-written corpora in 20 shuffled orders.

The dedup corpus (originals, generated copies of every kind, independent rewrites) and the
end-to-end news fixtures (Moura in three write-ups, Hombori the same week, hard negatives) are fed
in publication order and in 20 random arrival orders. Every order must give the same copy groups
and the same stories, and score at least what publication order scored when copies could still
depend on order (issue 4: 1.000 everywhere), with no two labelled events merged. With a rule that
matches every article, every order gives the same number of alerts: one per story, never a
second one because a later write-up joined two stories that had each alerted (issue 11).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.corpus import CorpusArticle, load_corpus
from monitor.dedup.quality import Evaluation, evaluate, prepare_all

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ORDERS = 20


@pytest.fixture(scope="module")
def corpus() -> list[CorpusArticle]:
    return [*load_corpus(FIXTURES / "dedup_corpus"), *load_corpus(FIXTURES / "news")]


@pytest.fixture(scope="module")
def runs(corpus: list[CorpusArticle]) -> list[Evaluation]:
    prints = prepare_all(corpus)  # computed once, as a worker process would, and passed in
    return [
        evaluate(corpus),
        *(evaluate(corpus, seed=seed, prepared=prints) for seed in range(1, ORDERS + 1)),
    ]


def test_the_corpus_mixes_both_fixture_sets(corpus: list[CorpusArticle]) -> None:
    ids = {a.id for a in corpus}
    assert {"wire-moura", "wire-hombori", "wire-tiema", "rw-sanakoro-fr"} <= ids
    assert len(corpus) >= 100


def test_every_arrival_order_gives_the_same_copy_groups_and_stories(
    runs: list[Evaluation],
) -> None:
    first = runs[0].partitions()
    for seed, run in enumerate(runs[1:], start=1):
        copies, stories = run.partitions()
        assert copies == first[0], f"copy groups differ in shuffled order {seed}"
        assert stories == first[1], f"stories differ in shuffled order {seed}"


def test_every_order_scores_at_least_the_previous_figures(runs: list[Evaluation]) -> None:
    for seed, run in enumerate(runs):
        assert run.merged_incidents == [], (seed, run.merged_incidents)
        assert run.copies.precision == 1.0 and run.copies.recall == 1.0, (seed, run.missed_copies)
        assert run.stories.precision == 1.0 and run.stories.recall == 1.0, seed


def test_moura_and_hombori_stay_apart_in_every_order(runs: list[Evaluation]) -> None:
    for run in runs:
        story = {k: v.story_id for k, v in run.decisions.items()}
        assert story["wire-moura"] == story["rewrite-moura"] == story["french-moura"]
        assert story["wire-hombori"] != story["wire-moura"]
        assert story["neg-mutiny"] != story["wire-moura"]


# Copies that keep only the wire story's lead paragraph, edited or not: such an excerpt can be
# neither a copy nor a story match of another edited copy (too few shingles and rare names in
# common), so when it and that copy both arrive before the full wire text, each alerts before the
# full text joins them (issue 11: a short excerpt matching on all of its rare keys, with the
# candidate look-up asking for no more, removes most of these).
LEAD_ONLY = {"lead", "garbled-lead"}


def test_every_order_gives_one_alert_per_story(
    corpus: list[CorpusArticle], runs: list[Evaluation]
) -> None:
    """A rule matching every article alerts once per story, whatever the arrival order, except
    for a story one of whose copies is a lead-only excerpt (at most one extra alert each)."""
    kind = {a.id: str(a.labels.get("kind", "")) for a in corpus}
    stories = runs[0].partitions()[1]
    excerpted = [s for s in stories if any(kind[a] in LEAD_ONLY for a in s)]
    for seed, run in enumerate(runs):
        story = {k: v.story_id for k, v in run.decisions.items()}
        alerted = [story[a] for a in run.alerts]
        extra = [a for a, s in zip(run.alerts, alerted, strict=True) if alerted.count(s) > 1]
        assert all(any(a in s for s in excerpted) for a in extra), (seed, extra)
        assert len(stories) <= len(run.alerts) <= len(stories) + len(excerpted), seed
        assert len(set(alerted)) == len(stories), seed  # every story alerted
