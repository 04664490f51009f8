"""Session 4's story links in every arrival order: translations that share the place, the day and
the toll (an Arabic one included), and excerpts of one wire article that share a long passage,
while another incident on the same day with the same toll stays apart (issue 11)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from monitor.dedup import DedupIndex, DedupInput
from monitor.dedup.story import StoryThresholds
from monitor.dedup.tables import DEDUP_TABLES
from monitor.storage.tables import articles, metadata

T0 = datetime(2025, 3, 15, 8, tzinfo=UTC)

WIRE = (
    "Herders killed near Hombori",
    "Soldiers and foreign fighters killed 23 herders at a well near Hombori on 14 March,"
    " residents said on Saturday.\n\nThe men had gathered their cattle at the well before dawn"
    " when a convoy arrived from the direction of Boni, a local official said.\n\nThe army"
    " said it had carried out an operation against terrorists in the Gourma area.",
)
ARABIC = (
    "مقتل رعاة قرب هومبوري",
    "قال سكان إن جنودا ومقاتلين أجانب قتلوا 23 راعيا عند بئر قرب هومبوري في 14 مارس.\n\n"
    "وقال مسؤول محلي إن الرعاة كانوا قد جمعوا ماشيتهم عند البئر قبل الفجر.",
)
SPANISH = (
    "Matan a pastores cerca de Hombori",
    "Soldados y combatientes extranjeros mataron a 23 pastores junto a un pozo cerca de Hombori"
    " el 14 de marzo, según vecinos.\n\nEl ejército afirmó haber realizado una operación"
    " antiterrorista en la zona.",
)
OTHER = (
    "Gunmen attack market",
    "Gunmen killed 23 traders at the weekly market of Djibo on 14 March, the governor said."
    "\n\nThe attackers arrived on motorbikes and set fire to the stalls before leaving.",
)
PASSAGE = (
    "the soldiers went from house to house in the early morning, took the men out to the dry"
    " riverbed behind the school and made them kneel in a line before the shooting started,"
    " while the women and children were locked inside the mosque until the convoy had left"
)
EXCERPT_A = (
    "Witnesses describe a raid",
    "Survivors described how the operation began, in accounts collected over several weeks in"
    " a camp across the border.\n\nAccording to the accounts, " + PASSAGE + ".\n\nThe ministry"
    " of defence did not answer questions sent by email.\n\nSeveral of those interviewed said"
    " they had walked for four days to reach the camp, travelling at night and hiding in the"
    " bush during the day, and that relatives who stayed behind had since stopped answering"
    " their telephones.\n\nAid workers in the camp said new arrivals had doubled since the"
    " start of the month and that water and shelter were running short.",
)
EXCERPT_B = (
    "New abuses alleged",
    "Rights groups have documented a pattern of abuses in the central region and have asked for"
    " an investigation.\n\nIn the latest case, " + PASSAGE + ".\n\nLawyers for the families"
    " said they would file a complaint with the regional court.\n\nThe government has"
    " rejected earlier accusations as a campaign to discredit the armed forces, and has"
    " suspended two foreign broadcasters that reported them.\n\nDiplomats in the capital said"
    " donors were discussing whether to condition their support on an independent inquiry with"
    " access to the area and to the witnesses.",
)
ARTICLES = {
    "wire": WIRE,
    "arabic": ARABIC,
    "spanish": SPANISH,
    "other": OTHER,
    "excerpt-a": EXCERPT_A,
    "excerpt-b": EXCERPT_B,
}
STORIES = {
    frozenset({"wire", "arabic", "spanish"}),
    frozenset({"other"}),
    frozenset({"excerpt-a", "excerpt-b"}),
}


def run(order: list[str]) -> tuple[set[frozenset[str]], int]:
    """Classify in `order` into a fresh index; the stories, and the alerts a rule matching every
    article raises (one per story, a story joined into an alerted one counting as alerted)."""
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine, tables=[articles, *DEDUP_TABLES])
    index = DedupIndex(story_thresholds=StoryThresholds(min_passage=40))  # the passage link on
    story: dict[str, int] = {}
    name: dict[int, str] = {}
    joined: dict[int, int] = {}
    alerted: set[int] = set()

    def current(s: int) -> int:
        while s in joined:
            s = joined[s]
        return s

    with engine.begin() as conn:
        for n, key in enumerate(order, start=1):
            title, text = ARTICLES[key]
            when = T0 + timedelta(minutes=n)
            result = index.classify(conn, DedupInput(n, title, text, None, when, when, "s"))
            name[n] = key
            story[key] = result.story_id
            for change in result.regrouped:
                was = current(story[name[change.article_id]])
                if was != current(change.story_id):
                    joined[was] = current(change.story_id)
                story[name[change.article_id]] = change.story_id
            if not any(current(s) == current(result.story_id) for s in alerted):
                alerted.add(result.story_id)
    engine.dispose()
    final = {k: current(s) for k, s in story.items()}
    groups = {frozenset(k for k in final if final[k] == s) for s in set(final.values())}
    return groups, len(alerted)


def test_translations_and_excerpts_join_in_every_order() -> None:
    keys = list(ARTICLES)
    for seed in range(20):
        order = random.Random(seed).sample(keys, len(keys))
        groups, alerts = run(order)
        assert groups == STORIES, (order, groups)
        assert alerts == len(STORIES), order
