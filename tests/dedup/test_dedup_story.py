"""Story features and the conservative same-event decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.dedup.story import (
    StoryFeatures,
    StoryThresholds,
    compare,
    extract_features,
    lookup_need,
    story_keys,
)

WHEN = datetime(2024, 3, 4, 12, tzinfo=UTC)


def test_features_keep_names_numbers_and_casualty_figures() -> None:
    f = extract_features(
        "Twenty-three dead in Kenieba mine collapse",
        "The pit near Kenieba collapsed in 2024. Rescuers found twenty-three bodies"
        " and 11 survivors.",
        WHEN,
    )
    assert {"e:kenieba", "n:23", "k:23", "n:11", "t:kenieba", "t:collapse"} <= f.keys
    assert "n:2024" not in f.keys  # years are not figures
    assert "e:the" not in f.keys and "e:rescuers" not in f.keys  # sentence-initial common words


def test_conflicting_casualty_figures_veto_a_merge() -> None:
    a = StoryFeatures(frozenset({"e:mopti", "e:mali", "e:wagner", "k:31"}), WHEN)
    b = StoryFeatures(frozenset({"e:mopti", "e:mali", "e:wagner", "k:18"}), WHEN)
    match = compare(a, b, df={}, stories=0, thresholds=StoryThresholds())
    assert not match.same
    assert match.reason == "casualty figures differ"


def test_shared_rare_names_within_the_window_merge() -> None:
    keys = frozenset({"e:sanakoro", "e:mopti", "e:fulani", "k:31", "n:31", "t:raid"})
    a = StoryFeatures(keys, WHEN)
    b = StoryFeatures(keys | {"e:bamako"}, WHEN + timedelta(hours=5))
    assert compare(a, b, df={}, stories=10, thresholds=StoryThresholds()).same
    late = StoryFeatures(keys, WHEN + timedelta(days=4))
    assert not compare(a, late, df={}, stories=10, thresholds=StoryThresholds()).same


def test_common_names_alone_do_not_merge() -> None:
    common = frozenset({"e:mali", "e:russian", "e:army", "e:bamako"})
    df = {k: 40 for k in common}
    a = StoryFeatures(common | {"e:sanakoro"}, WHEN)
    b = StoryFeatures(common | {"e:tiema"}, WHEN)
    assert not compare(a, b, df=df, stories=60, thresholds=StoryThresholds()).same


MUTINY = (
    "Wagner mercenaries seized military sites in Rostov on 24 June and Yevgeny Prigozhin ordered"
    " a column towards Moscow before a deal brokered by Alexander Lukashenko ended the mutiny."
    " Prigozhin said his men had reached Voronezh."
)
DEATH = (
    "Yevgeny Prigozhin was listed among the 10 people on board a jet that crashed in the Tver"
    " region on 23 August, two months after his Wagner mercenaries staged a mutiny. Russia's"
    " aviation agency said all 10 were dead. Lukashenko and Rostov were named in reports."
)


def test_the_mutiny_and_prigozhins_death_are_distinct_events_even_on_one_day() -> None:
    """Publication dates can be missing (then both are "now"): explicit dates still tell."""
    a = StoryFeatures(story_keys("Wagner mutiny ends", MUTINY), WHEN)
    b = StoryFeatures(story_keys("Prigozhin on crashed jet", DEATH), WHEN)
    assert {"d:24-6"} <= a.keys and {"d:23-8"} <= b.keys
    match = compare(a, b, df={}, stories=0, thresholds=StoryThresholds())
    assert not match.same and match.reason == "dates differ"


def test_names_every_regional_story_carries_do_not_count_as_rare() -> None:
    keys = frozenset({"e:mali", "e:wagner", "e:russian", "e:bamako", "e:mopti", "t:army"})
    a = StoryFeatures(keys | {"e:sanakoro"}, WHEN)
    b = StoryFeatures(keys | {"e:tiema"}, WHEN)
    match = compare(a, b, df={}, stories=0, thresholds=StoryThresholds())
    assert not match.same and match.rare_shared == ("e:mopti",)


def test_an_identical_headline_stands_for_one_rare_key() -> None:
    title = "Gunmen kill traders at Dorolo market in northern Zandia"
    lead = story_keys(title, "Gunmen killed 14 traders at the Dorolo market, the prefect said.")
    tail = story_keys(title, "The prefect of Dorolo said the Kessa forest road was closed.")
    assert any(k.startswith("h:") for k in lead & tail)
    same = compare(
        StoryFeatures(lead, WHEN),
        StoryFeatures(tail, WHEN),
        df={},
        stories=0,
        thresholds=StoryThresholds(),
    )
    assert same.same, same.reason
    other = story_keys("Floods in Niamey", "The prefect of Dorolo said the road was closed.")
    assert not compare(
        StoryFeatures(lead, WHEN),
        StoryFeatures(other, WHEN),
        df={},
        stories=0,
        thresholds=StoryThresholds(),
    ).same


def test_spun_casualty_words_keep_their_figures() -> None:
    keys = story_keys("x", "Gunmen slew 31 non-combatants; 18 persons perished in the fire.")
    assert {"k:31", "k:18"} <= keys


def test_a_title_case_headline_adds_no_names() -> None:
    keys = story_keys(
        "Rights Group Says Army And Foreign Fighters Executed Civilians",
        "Soldiers and foreign fighters executed 14 villagers near Dorolo, the group said.",
    )
    names = {k for k in keys if k.startswith("e:")}
    assert names == {"e:dorolo"}
    assert "t:executed" in keys  # the headline's words still count as headline words


def test_a_word_the_text_also_writes_in_lower_case_is_no_name() -> None:
    keys = story_keys(
        "Raid near Dorolo",
        "Witnesses said Special Forces entered Dorolo at dawn. The forces left by noon.",
    )
    assert "e:dorolo" in keys and "e:forces" not in keys


def test_the_common_nouns_of_a_german_text_are_not_names() -> None:
    text = (
        "Nach Angaben von Zeugen haben Soldaten der Armee und Söldner in dem Dorf Dorolo am"
        " Morgen mindestens 14 Menschen getötet. Die Leichen der Opfer wurden von den Familien"
        " in der Nähe der Grenze gefunden. Die Regierung in Bamako hat sich zu den Vorwürfen"
        " nicht geäußert, die Hinrichtungen seien nach Angaben der Quellen eine Vergeltung."
    )
    names = {k for k in story_keys("Massaker in Dorolo", text) if k.startswith("e:")}
    assert "e:dorolo" in names
    assert not names & {"e:soldaten", "e:menschen", "e:leichen", "e:hinrichtungen", "e:quellen"}
    # the same words in an English text are names only when the text capitalises them mid-sentence
    english = story_keys("x", "Witnesses said 14 people died in Dorolo. Rescuers found Leichen.")
    assert "e:leichen" in english


def test_a_shared_outlet_is_evidence_but_not_rare() -> None:
    """Two different stories one outlet ran on the same days share its name and little else."""
    a = StoryFeatures(frozenset({"e:guardian", "e:moura", "n:500", "e:sanakoro"}), WHEN)
    b = StoryFeatures(frozenset({"e:guardian", "e:moura", "n:500", "e:tiema"}), WHEN)
    match = compare(a, b, df={}, stories=0, thresholds=StoryThresholds())
    assert not match.same and "e:guardian" not in match.rare_shared


def test_different_headlines_do_not_count_against_one_story() -> None:
    shared = frozenset({"e:dorolo", "e:kessa", "n:14"})
    a = StoryFeatures(shared | {"h:aaaa", "e:sanakoro"}, WHEN)
    b = StoryFeatures(shared | {"h:bbbb", "e:tiema"}, WHEN)
    match = compare(a, b, df={}, stories=0, thresholds=StoryThresholds())
    assert match.same and match.score == 8.5 / 11.5, match.reason


def test_a_short_excerpt_matches_on_all_of_its_rare_keys() -> None:
    short = StoryFeatures(
        frozenset({"e:konsa", "n:26", "k:26", "t:market", "t:massacre", "h:aaaa"}), WHEN
    )
    full = StoryFeatures(
        frozenset({"e:konsa", "n:26", "k:26", "t:market", "e:traore", "e:qaida", "h:bbbb"}), WHEN
    )
    on = StoryThresholds(min_rare_short=2)
    assert compare(short, full, df={}, stories=0, thresholds=on).same
    assert compare(full, short, df={}, stories=0, thresholds=on).same  # symmetric
    assert lookup_need(["e:konsa", "n:26"], on) == 2
    assert lookup_need(["e:konsa", "n:26", "e:traore", "e:qaida"], on) == 3
    # one rare key is never enough, nor is a short excerpt's figure with another place
    lone = StoryFeatures(frozenset({"n:26", "k:26", "t:market", "h:cccc"}), WHEN)
    assert not compare(lone, full, df={}, stories=0, thresholds=on).same
    elsewhere = StoryFeatures(frozenset({"e:dorolo", "n:26", "k:26", "t:market"}), WHEN)
    assert not compare(elsewhere, full, df={}, stories=0, thresholds=on).same


def test_dates_in_the_regions_languages_are_days_not_figures() -> None:
    """ "27 de marzo", "27. März", "27 марта" are calendar days (a veto and evidence), not a
    figure "27" that an unrelated write-up giving a toll of 27 would share."""
    for text in (
        "El ataque del 27 de marzo dejó 300 muertos.",
        "Am 27. März wurden 300 Menschen getötet.",
        "27 марта погибли 300 человек.",
        "Il 27 marzo sono morte 300 persone.",
        "Op 27 maart zijn 300 mensen gedood.",
    ):
        keys = story_keys("x", text)
        assert "d:27-3" in keys and "n:27" not in keys and "n:300" in keys, (text, keys)


def test_a_date_range_gives_both_days() -> None:
    for text in (
        "between 27 and 31 March",
        "March 27-31",
        "du 27 au 31 mars",
        "del 27 al 31 de marzo",
        "zwischen dem 27. und 31. März",
    ):
        keys = story_keys("x", text)
        assert {"d:27-3", "d:31-3"} <= keys and "n:27" not in keys, (text, keys)
    # a range and one of its days do not contradict each other
    one = StoryFeatures(story_keys("x", "On 31 March soldiers came."), WHEN)
    both = StoryFeatures(story_keys("x", "From 27 to 31 March soldiers came."), WHEN)
    assert compare(one, both, df={}, stories=0, thresholds=StoryThresholds()).reason != (
        "dates differ"
    )


def test_a_shared_date_is_evidence_like_a_figure() -> None:
    """The place, the day and the toll: three rare facts shared by a translation."""
    english = story_keys("Killings in Dorolo", "On 27 March soldiers killed 300 people in Dorolo.")
    spanish = story_keys("Matanza", "El 27 de marzo soldados mataron a 300 personas en Dorolo.")
    match = compare(
        StoryFeatures(english, WHEN),
        StoryFeatures(spanish, WHEN),
        df={},
        stories=0,
        thresholds=StoryThresholds(),
    )
    assert match.same and "d:27-3" in match.rare_shared, match.reason
    # the same day and toll at another place is another event
    other = story_keys("Attack", "On 27 March gunmen killed 300 people in Sanakoro.")
    assert not compare(
        StoryFeatures(english, WHEN),
        StoryFeatures(other, WHEN),
        df={},
        stories=0,
        thresholds=StoryThresholds(),
    ).same


def test_an_arabic_write_up_names_its_sahel_places() -> None:
    """Arabic has no capitals: the places of the gazetteer are keyed by their Latin name, with
    or without the article and a proclitic."""
    keys = story_keys("مجزرة في مورا", "قتل 300 مدني في بلدة مورا بمنطقة موبتي وفي الكيدال")
    assert {"e:moura", "e:mopti", "e:kidal", "n:300"} <= keys
    assert not {k for k in story_keys("x", "قال المتحدث إن 300 شخص") if k.startswith("e:")}


def test_a_figure_after_a_month_first_date_is_a_toll_not_the_second_day_of_a_range() -> None:
    from monitor.dedup.keys import story_keys

    keys = story_keys("Attack", "The attack began on March 3 and 12 civilians were killed.")
    assert {"d:3-3", "k:12"} <= keys and "d:12-3" not in keys
    ranged = story_keys("Attack", "Between March 27 to 31 the army killed 40 civilians.")
    assert {"d:27-3", "d:31-3", "k:40"} <= ranged


def test_a_hostile_run_of_digits_gives_no_key_and_no_error() -> None:
    from monitor.dedup.keys import story_keys

    keys = story_keys("Attack", "1" * 5000 + " civilians were killed on 3 March")
    assert "d:3-3" in keys and not any(len(k) > 30 for k in keys)
