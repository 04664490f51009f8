"""Contract tests of the persistent DedupIndex, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import itertools
import pickle
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from monitor.dedup import DedupIndex, DedupInput, Regrouped, prepare_fingerprints
from monitor.dedup.story import StoryThresholds
from monitor.dedup.tables import dedup_documents, dedup_fingerprints, dedup_story_keys
from monitor.storage.tables import articles

T0 = datetime(2024, 3, 4, 9, tzinfo=UTC)

PARAGRAPHS = [
    "Gunmen on motorbikes attacked the weekly market of Dorolo in northern Zandia on Sunday and"
    " killed 14 traders before setting fire to the grain stores, the district prefect said.",
    "The prefect said the attackers came from the direction of the Kessa forest and left towards"
    " the border two hours later, taking cattle and motorbikes with them.",
    "A nurse at the Dorolo health centre said eleven wounded people were being treated there and"
    " that three of them had been moved to the regional hospital in Barani by ambulance.",
    "No group has claimed the attack. Fighters of an armed movement have been active in the"
    " region for several years and have attacked markets and convoys before.",
    "The government announced two days of national mourning and promised reinforcements for the"
    " gendarmerie posts along the northern road, which traders say are undermanned.",
]
ORIGINAL = "\n\n".join(PARAGRAPHS)


def item(
    article_id: int,
    text: str,
    *,
    title: str = "Market attack",
    hours: float = 0,
    source: str = "wire",
) -> DedupInput:
    when = T0 + timedelta(hours=hours)
    return DedupInput(article_id, title, text, "en", when, when, source)


def classify(engine: sa.Engine, index: DedupIndex, value: DedupInput):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return index.classify(conn, value)


def test_original_then_identical_copy(engine: sa.Engine) -> None:
    index = DedupIndex()
    first = classify(engine, index, item(1, ORIGINAL))
    assert first.copy_of is None and first.reason == "story:new"
    copy = classify(engine, index, item(2, "Share\n\n" + ORIGINAL.upper(), source="site", hours=1))
    assert copy.copy_of == 1 and copy.story_id == first.story_id and copy.reason == "text-hash"


def test_lead_only_and_edited_copies_point_at_the_first_article(engine: sa.Engine) -> None:
    index = DedupIndex()
    first = classify(engine, index, item(1, ORIGINAL))
    lead = classify(engine, index, item(2, PARAGRAPHS[0] + "\n\nREAD: something else", hours=1))
    assert lead.copy_of == 1 and lead.reason.startswith("near-duplicate")
    edited = "\n\n".join([PARAGRAPHS[0].replace("killed", "slew"), *PARAGRAPHS[2:]])
    third = classify(engine, index, item(3, edited, title="New headline", hours=2))
    assert third.copy_of == 1 and third.story_id == first.story_id


def test_truncated_copy_first_then_full_text(engine: sa.Engine) -> None:
    index = DedupIndex()
    lead = classify(engine, index, item(1, "\n\n".join(PARAGRAPHS[:2])))
    full = classify(engine, index, item(2, ORIGINAL, hours=1))
    # The fuller text becomes the group's original; the lead-only copy is re-linked to it and the
    # story (which an alert may already reference) stays the lead's.
    assert lead.copy_of is None and full.copy_of is None
    assert full.story_id == lead.story_id
    assert full.regrouped == (Regrouped(1, 2, lead.story_id),)
    assert full.reason.startswith("fuller original of 1")


def test_unrelated_article_opens_a_new_story(engine: sa.Engine) -> None:
    index = DedupIndex()
    first = classify(engine, index, item(1, ORIGINAL))
    other = classify(
        engine,
        index,
        item(
            2,
            "Parliament adopted the budget on Friday after a"
            " long debate about fuel subsidies and teachers' pay"
            " in the capital, Lomara, officials said.",
            hours=1,
        ),
    )
    assert other.copy_of is None and other.story_id != first.story_id


def test_independent_write_up_joins_the_story(engine: sa.Engine) -> None:
    index = DedupIndex()
    first = classify(engine, index, item(1, ORIGINAL, title="Gunmen kill 14 at Dorolo market"))
    rewrite = (
        "Fourteen traders died when armed men raided the Dorolo market in Zandia's north on"
        " Sunday, according to the prefect. The assailants torched grain stores and fled with"
        " cattle towards the Kessa forest.\n\nEleven people were wounded; three were taken to"
        " Barani. The gendarmerie has been reinforced."
    )
    second = classify(
        engine,
        index,
        item(2, rewrite, title="Dorolo market raid leaves 14 dead", source="agency", hours=3),
    )
    assert second.copy_of is None
    assert second.story_id == first.story_id, second.reason


def test_classify_is_idempotent(engine: sa.Engine) -> None:
    index = DedupIndex()
    classify(engine, index, item(1, ORIGINAL))
    again = classify(engine, index, item(2, ORIGINAL, hours=1))
    assert classify(engine, index, item(2, ORIGINAL, hours=1)) == again


def test_copies_outside_the_window_are_not_matched_and_prune_forgets(engine: sa.Engine) -> None:
    index = DedupIndex(window=timedelta(days=2))
    classify(engine, index, item(1, ORIGINAL))
    late = classify(engine, index, item(2, ORIGINAL, hours=72))
    assert late.copy_of is None
    with engine.begin() as conn:
        assert index.prune(conn, T0 + timedelta(hours=72)) == 1
    with engine.connect() as conn:
        left = conn.execute(sa.select(dedup_documents.c.article_id)).scalars().all()
        assert left == [2]
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(dedup_fingerprints)
                .where(dedup_fingerprints.c.article_id == 1)
            ).scalar_one()
            == 0
        )
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(dedup_story_keys)
                .where(dedup_story_keys.c.article_id == 1)
            ).scalar_one()
            == 0
        )


def test_also_carried_by_lists_the_story_with_urls(engine: sa.Engine) -> None:
    index = DedupIndex()
    with engine.begin() as conn:
        for n in (1, 2):
            conn.execute(
                articles.insert().values(
                    id=n,
                    source=f"s{n}",
                    url=f"https://s{n}.example/a",
                    canonical_url=f"https://s{n}.example/a",
                    title="t",
                    text="x",
                    fetched_at=T0,
                    extraction="full",
                    tags=[],
                )
            )
    first = classify(engine, index, item(1, ORIGINAL, source="s1"))
    classify(engine, index, item(2, ORIGINAL, source="s2", hours=1))
    with engine.connect() as conn:
        carried = index.also_carried_by(conn, first.story_id)
    assert [(c.article_id, c.source, c.url, c.is_copy) for c in carried] == [
        (1, "s1", "https://s1.example/a", False),
        (2, "s2", "https://s2.example/a", True),
    ]


@pytest.mark.postgres
def test_concurrent_copies_on_two_connections_make_one_original(engine: sa.Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers itself; this checks the PostgreSQL advisory lock")
    index = DedupIndex()
    barrier = threading.Barrier(2)
    results = {}

    def worker(article_id: int) -> None:
        with engine.begin() as conn:
            barrier.wait()
            results[article_id] = index.classify(conn, item(article_id, ORIGINAL))

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    originals = [r for r in results.values() if r.copy_of is None]
    assert len(originals) == 1
    assert len({r.story_id for r in results.values()}) == 1


GARBLED = "\n\n".join(
    [
        PARAGRAPHS[0].replace("Gunmen on motorbikes", "Armed men riding motorcycles"),
        PARAGRAPHS[1] + " " + PARAGRAPHS[3][:60],
        PARAGRAPHS[2].replace("said", "stated"),
        PARAGRAPHS[4],
    ]
)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_lead_garbled_and_full_copies_form_one_group_in_any_order(
    engine: sa.Engine, order: tuple[int, ...]
) -> None:
    texts = [PARAGRAPHS[0], GARBLED, ORIGINAL]  # lead-only, garbled full copy, original
    index = DedupIndex()
    final: dict[int, tuple[int | None, int]] = {}
    for hours, which in enumerate(order):
        result = classify(engine, index, item(which + 1, texts[which], hours=hours))
        final[which + 1] = (result.copy_of, result.story_id)
        for change in result.regrouped:
            final[change.article_id] = (change.copy_of, change.story_id)
    assert len({story for _, story in final.values()}) == 1
    # one group whose original is the fullest text (the original), whatever came first
    assert final[3][0] is None and final[1][0] == 3 and final[2][0] == 3
    with engine.connect() as conn:
        rows = conn.execute(sa.select(dedup_documents.c.article_id, dedup_documents.c.copy_of))
        stored = {row.article_id: row.copy_of for row in rows}
    assert stored == {1: 3, 2: 3, 3: None}


# a rewrite of the later paragraphs: nothing in common with the lead (PARAGRAPHS[0]) alone
REWRITE = item(
    2,
    "Eleven wounded people were treated at a health centre after armed men raided a"
    " market near the Kessa forest and fled towards the border, a nurse said. Three were"
    " moved to the regional hospital in Barani. Gendarmerie posts along the northern"
    " road will be reinforced, the government said.",
    title="Wounded taken to Barani after Kessa forest raid",
    source="agency",
    hours=1,
)


def test_a_fuller_original_joins_the_lead_copys_story_with_a_rewrites(engine: sa.Engine) -> None:
    index = DedupIndex()
    lead = classify(engine, index, item(1, PARAGRAPHS[0], title="Dorolo market attack"))
    rewrite = classify(engine, index, REWRITE)
    assert rewrite.story_id != lead.story_id  # nothing in common with the lead alone
    full = classify(engine, index, item(3, ORIGINAL, title="Dorolo market attack", hours=2))
    assert full.copy_of is None and full.story_id == lead.story_id  # the alerted story survives
    assert Regrouped(1, 3, lead.story_id) in full.regrouped
    assert Regrouped(2, None, lead.story_id) in full.regrouped
    with engine.connect() as conn:
        assert index.current_story(conn, rewrite.story_id) == lead.story_id
        assert index.story_ids(conn, rewrite.story_id) == sorted({lead.story_id, rewrite.story_id})
        carried = index.also_carried_by(conn, rewrite.story_id)
    assert [c.article_id for c in carried] == [1, 2, 3]


def test_classify_inside_savepoints_of_one_transaction(engine: sa.Engine) -> None:
    """The writer's group commit: one savepoint per article, several articles per transaction.
    classify sees the rows of earlier savepoints, survives a rolled-back one, never commits."""
    index = DedupIndex()
    with engine.connect() as conn, conn.begin():
        with conn.begin_nested():
            first = index.classify(conn, item(1, ORIGINAL))
        nested = conn.begin_nested()
        index.classify(conn, item(2, "An unrelated text " * 10, hours=1))
        nested.rollback()
        with conn.begin_nested():
            copy = index.classify(conn, item(3, "Share\n\n" + ORIGINAL, hours=2))
        assert copy.copy_of == 1 and copy.story_id == first.story_id
        ids = conn.execute(sa.select(dedup_documents.c.article_id)).scalars().all()
        assert sorted(ids) == [1, 3]
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(dedup_documents)).scalar() == 0


def test_fingerprints_prepared_in_another_process_give_the_same_decision(
    engine: sa.Engine,
) -> None:
    prints = prepare_fingerprints("Market attack", ORIGINAL)
    assert pickle.loads(pickle.dumps(prints)) == prints
    index = DedupIndex()
    classify(engine, index, item(1, ORIGINAL))
    lead = PARAGRAPHS[0] + "\n\n" + PARAGRAPHS[1]
    given = DedupInput(
        2, "Market attack", lead, "en", T0, T0, "x", prepare_fingerprints("Market attack", lead)
    )
    with engine.begin() as conn:
        with_prints = index.classify(conn, given)
        conn.rollback()
    without = classify(engine, index, item(2, lead))
    assert with_prints.copy_of == without.copy_of == 1
    assert with_prints.reason == without.reason


# Two excerpts of one wire article: each keeps paragraphs the other dropped and both keep one
# long passage (about 50 words) word for word; they share no rare name or figure.
SHARED_PASSAGE = (
    "witnesses said the soldiers went from house to house in the early morning, took the men"
    " out to the dry riverbed behind the school and made them kneel in a line before the"
    " shooting started, while the women and children were locked inside the mosque until the"
    " convoy had left the village in the afternoon"
)
EXCERPT_A = "\n\n".join(
    [
        "Survivors of the raid on Tabora described to reporters how the operation began, in"
        " accounts collected over several weeks in a camp across the border.",
        "According to the accounts, " + SHARED_PASSAGE + ".",
        "The ministry of defence in Kessa did not answer questions sent by email, and the army"
        " spokesman said he had no information about any operation in that area.",
    ]
)
EXCERPT_B = "\n\n".join(
    [
        "Rights groups have documented a pattern of abuses in the central region since the"
        " junta hired foreign instructors, and have asked the United Nations to investigate.",
        "In the latest case, " + SHARED_PASSAGE + ".",
        "Lawyers for the families said they would file a complaint with the regional court and"
        " asked the authorities to protect the witnesses, some of whom had been threatened.",
    ]
)


PASSAGES = StoryThresholds(min_passage=40)  # the shared-passage link, off by default

BACKGROUND = (
    "Mali, Burkina Faso and Niger have for more than a decade battled an insurgency by armed"
    " groups, and their military governments expelled the French troops and turned to Russian"
    " mercenary units for help, while the violence spread south and displaced millions of"
    " people across the region, where the authorities have suspended most political parties"
    " and expelled several foreign journalists and aid organisations over the past two years"
)


def test_by_default_a_shared_background_paragraph_does_not_join_two_incidents(
    engine: sa.Engine,
) -> None:
    """The wire's background paragraph in its stories of two incidents, the second giving no
    date or toll that could veto the link: two stories (the passage link, on, joined them)."""
    first = "\n\n".join([
        "Gunmen killed 23 traders at the Djibo market on 14 March, residents said, and set fire"
        " to the stalls and the grain stores before they rode off towards the north.",
        "A nurse at the town's health centre said that eleven wounded people had arrived in the"
        " afternoon and that two of them had been taken to the regional hospital by road.",
        "The governor announced a curfew and said patrols on the market roads would be doubled,"
        " while traders asked for compensation for the goods they had lost in the fire.",
        BACKGROUND + ".",
    ])
    second = "\n\n".join([
        "Soldiers and foreign fighters executed dozens of men at Kerena near Dioura on Tuesday,"
        " survivors said, after gathering them in the yard of the village chief's compound.",
        "Relatives who fled to the town of Niono said the bodies were left in the sun for a day"
        " before elders were allowed to bury them in a common grave outside the village.",
        "The army did not answer questions about the operation, and a rights group called for an"
        " inquiry into what it said was the third such killing in the area since January.",
        BACKGROUND + ".",
    ])
    index = DedupIndex()
    a = classify(engine, index, item(1, first, title="Market attack"))
    b = classify(engine, index, item(2, second, title="Executions", hours=2))
    assert b.copy_of is None and b.story_id != a.story_id and b.reason == "story:new", b


@pytest.mark.parametrize("first,second", [(EXCERPT_A, EXCERPT_B), (EXCERPT_B, EXCERPT_A)])
def test_excerpts_sharing_a_long_passage_are_one_story_in_either_order(
    engine: sa.Engine, first: str, second: str
) -> None:
    index = DedupIndex(story_thresholds=PASSAGES)
    a = classify(engine, index, item(1, first, title="Witnesses describe raid"))
    b = classify(engine, index, item(2, second, title="New abuses alleged", hours=2))
    assert b.copy_of is None  # different excerpts, not copies
    assert b.story_id == a.story_id and b.reason.startswith("story:joined passage shared="), b


def test_a_shared_passage_does_not_join_write_ups_whose_dates_differ(engine: sa.Engine) -> None:
    """A background paragraph reused word for word in the wire's story of another incident."""
    index = DedupIndex(story_thresholds=PASSAGES)
    a = classify(engine, index, item(1, "On 3 March soldiers came.\n\n" + EXCERPT_A))
    b = classify(engine, index, item(2, "On 19 April soldiers came.\n\n" + EXCERPT_B, hours=2))
    assert b.story_id != a.story_id and b.reason == "story:new"


@pytest.mark.postgres
def test_the_advisory_lock_is_taken_once_per_transaction_and_again_after_a_savepoint_rollback(
    engine: sa.Engine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    index = DedupIndex()
    locks: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "pg_advisory_xact_lock" in statement:
            locks.append(statement)

    def held(conn: sa.Connection) -> bool:
        return bool(conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ).scalar())

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.begin() as conn:
            index.classify(conn, item(1, ORIGINAL))
            index.classify(conn, item(2, PARAGRAPHS[2], title="Nurse", hours=1))
            assert len(locks) == 1 and held(conn)
        with engine.begin() as conn:  # a new transaction takes it again
            nested = conn.begin_nested()
            index.classify(conn, item(3, PARAGRAPHS[4], title="Mourning", hours=2))
            nested.rollback()  # releases the lock taken inside the savepoint
            assert len(locks) == 2 and not held(conn)
            with conn.begin_nested():
                index.classify(conn, item(4, PARAGRAPHS[3], title="Claims", hours=3))
            assert len(locks) == 3 and held(conn)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_two_indexes_at_once_the_older_story_survives_a_join(engine: sa.Engine) -> None:
    """Replicas (one index each) share the story ids of the database: the lead's story, founded
    (and alerted) first, survives when the full text shows a later rewrite's story to be the
    same event. Story ids must follow the order stories were founded in (the join keeps the
    lowest): ids drawn per replica in batches broke this."""
    a, b = DedupIndex(), DedupIndex()
    floods = "Floods in the capital " + " ".join(f"aa{k}" for k in range(60))
    classify(engine, b, item(10, floods, title="Floods hit the capital city"))
    court = "Elections next spring " + " ".join(f"bb{k}" for k in range(60))
    classify(engine, a, item(11, court, title="Election date set by the court"))
    lead = classify(engine, a, item(1, PARAGRAPHS[0], title="Dorolo market attack"))
    rewrite = classify(engine, b, REWRITE)
    full = classify(engine, a, item(3, ORIGINAL, title="Dorolo market attack", hours=2))
    assert lead.story_id < rewrite.story_id
    assert full.story_id == lead.story_id
