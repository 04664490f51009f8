"""Story features and the conservative same-event decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.dedup.story import StoryFeatures, StoryThresholds, compare, extract_features

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
