"""Arrival order does not change the outcome: the self-written corpora in 20 shuffled orders.

The dedup corpus (originals, generated copies of every kind, independent rewrites) and the
end-to-end news fixtures (Moura in three write-ups, Hombori the same week, hard negatives) are fed
in publication order and in 20 random arrival orders. Every order must give the same copy groups
and the same stories, and score at least what publication order scored when copies could still
depend on order (issue 4: 1.000 everywhere), with no two labelled events merged. With a rule that
matches every article, every order gives the same number of alerts: one per story, never a
second one because a later write-up joined two stories that had each alerted (issue 11), except
for one known excerpt pair (KNOWN_EXTRA).
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


# A lead-only excerpt that shares a single rare key (its toll) with a synonym-spun copy of the
# same wire story: neither a copy of it (73% of its shingles) nor a story match (one rare key is
# never enough), so when both arrive before the full wire text each alerts, and the full text
# then joins them. A lead-only excerpt that shares all of its two or more rare keys with an
# edited copy matches it as a story (story.compare's short-excerpt rule, issue 11).
KNOWN_EXTRA = {"chad-measles"}


def test_every_order_gives_one_alert_per_story(
    corpus: list[CorpusArticle], runs: list[Evaluation]
) -> None:
    """A rule matching every article alerts once per story, whatever the arrival order, except
    for the one known excerpt pair above (at most one extra alert)."""
    label = {a.id: str(a.labels.get("story", a.id)) for a in corpus}
    stories = runs[0].partitions()[1]
    for seed, run in enumerate(runs):
        story = {k: v.story_id for k, v in run.decisions.items()}
        alerted = [story[a] for a in run.alerts]
        extra = [a for a, s in zip(run.alerts, alerted, strict=True) if alerted.count(s) > 1]
        assert {label[a] for a in extra} <= KNOWN_EXTRA, (seed, extra)
        assert len(stories) <= len(run.alerts) <= len(stories) + len(KNOWN_EXTRA), seed
        assert len(set(alerted)) == len(stories), seed  # every story alerted
