"""Story features and the conservative decision that two independent write-ups report one event.

An article is reduced to a set of prefixed keys (``keys``: names, numbers, casualty figures,
calendar days, headline words, the headline). Two write-ups belong to one story when, within a
few days of one another, they share enough *rare* names, numbers and dates (weighted by inverse
document frequency over the stories of the window) and do not contradict each other's casualty
figures or dates. Merging two incidents hides an event, so every test errs towards keeping
stories apart.

Weights do not depend on arrival order where it matters: a key's weight is the smaller of a fixed
weight for its kind (names count, outlets a story is attributed to, small numbers and headline
words little, a list of names every regional story carries almost nothing, in the languages of
the region's press) and its inverse document frequency over the window with a large prior,
which only lowers the weight of names that very many stories of a big window carry.
Casualty figures (``k:``) are vetoes only; explicit calendar days (``d:`` "3 March") are vetoes
and, shared, evidence like a figure.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.dedup.keys import story_keys

__all__ = [
    "COMMON_NAMES",
    "OUTLET_NAMES",
    "StoryFeatures",
    "StoryMatch",
    "StoryThresholds",
    "compare",
    "extract_features",
    "fixed_weight",
    "lookup_need",
    "rare_count",
    "story_keys",
    "veto",
    "weight",
]


def _words(text: str) -> list[str]:
    return text.split()


COMMON_NAMES = frozenset(
    _words(
        """mali malian malians malien maliens malienne maliennes burkina faso burkinabe niger
    nigerien nigeriens nigerienne nigeria nigerian nigerians chad chadian tchad senegal
    senegalese mauritania mauritanie guinea guinee sudan soudan libya libye algeria algerian
    algerie algerien morocco maroc cameroon cameroun benin togo ghana ivory coast cote ivoire
    sahel sahelian sahelien africa african africaine afrique west western ouest east europe
    european eu russia russian russians russie russe russes rusia ruso rusos russland russische
    moscow moscou kremlin ukraine ukrainian france french francais francaise paris us usa u.s
    united states america american americain etats unis washington china chinese chine turkey
    turkish turquie bamako niamey ouagadougou dakar abuja ndjamena nouakchott wagner group
    groupe africa corps reuters afp ap associated press bbc wire agency anadolu jazeera al
    xinhua ecowas cedeao aes alliance jnim isis islamic state etat islamique qaeda un onu
    nations unies unis minusma army armee government gouvernement ministry ministere minister
    ministre president police human rights watch amnesty international reporters god allah
    twitter facebook telegram whatsapp youtube monday tuesday wednesday thursday friday
    saturday sunday read share
    unicef ocha unhcr icc cpi ngo ong pbb uno onu islam islamic muslim muslims
    malische malischen malier malien malinese maliano maliana maliani maliense
    malienses rusia rusa rusas rusos russo russa russi russos russas russland russisch
    russischen russen rusland russische rusia russia moskau moscu mosca moskou moskow
    kremlin kreml cremlino francia frankreich frankrijk prancis franca francesa frances
    francese franzosisch franse ucrania ucraina ukraina ukrainer oekraine libia libyen libie
    siria syrien suriah syrie sudan soedan mozambique mozambico mosambik republica repubblica
    republik republiek centrafrica zentralafrika afrika afrique africa africano
    africana africani africanos afrikanische afrikaanse eropa europa europe europeo europea
    jerman alemania germania deutschland duitsland germany german amerika serikat estados
    unidos stati uniti vereinigte staaten verenigde staten barat occidental occidentale
    westlichen westerse burkina sahel sahelien
    advertisement reply rss home menu login newsletter subscribe comments comment cookies
    privacy contact search skip content print email copyright redaksi naskah siber pedoman
    iklan berita baca kirim publicite publicidad pubblicita werbung anzeige reclame
    commentaires comentarios commenti kommentare reacties
    prigozhin prigojine prigoschin prigozhine putin poutine lavrov goita utkin bakhmut soledar
    project data location event forces force council committee office commission people
    report news agency service security defense defence armed union front movement coalition
    party research centre center institute foundation network court crisis national
    мали малі оон россия росії россии вагнер вагнера вагнеровцы вагнерівці пригожин путин
    африки африці"""
    )
)
# Outlets and report sources write-ups attribute their story to ("The Guardian reported",
# "according to RFI", "Human Rights Watch said"). Shared, they are evidence but not rare evidence:
# one outlet publishes many stories on one region in a few days.
OUTLET_NAMES = frozenset(
    _words(
        """guardian times post telegraph independent observer economist rfi cnn dw welle tass ria
    novosti interfax monde figaro liberation jeune croix spiegel zeit faz welt corriere ansa
    efe pais lusa kompas tempo detik antara africanews france24 euronews hrw acled"""
    )
)


@dataclass(frozen=True)
class StoryFeatures:
    """The keys an article contributes to story matching, and when it was published."""

    keys: frozenset[str]
    when: datetime


def extract_features(title: str, text: str, when: datetime) -> StoryFeatures:
    """Reduce a write-up to story keys (pure; works on any language, best on EN/FR)."""
    return StoryFeatures(story_keys(title, text), when)


@dataclass(frozen=True)
class StoryThresholds:
    """When two write-ups are one story (see docs/dedup.md for how these were tuned)."""

    window: timedelta = timedelta(days=3)
    min_score: float = 0.35
    min_rare_shared: int = 3
    rare_weight: float = 2.0  # a key is "rare" when its weight is at least this
    # A short excerpt (a wire story's lead alone) may carry fewer rare keys than
    # `min_rare_shared`: it matches when it shares all of them, at least this many, with a
    # score of at least `short_min_score` (the index's candidate look-up asks it for no more:
    # `lookup_need`).
    min_rare_short: int = 2
    short_min_score: float = 0.5
    # two write-ups sharing a passage of this many word 5-shingles (about 44 words), though no
    # copies of each other, carry one wire article (different excerpts, a rewrite): one story.
    # Off by default (None): a wire's background paragraph, repeated word for word in its story
    # of another incident that gives no date or toll to veto the link, joined two distinct
    # events into one story (review, session 4); 40 turns it on.
    min_passage: int | None = None
    # smoothing: behave as if the window always held this many more stories, so that the window's
    # frequencies only ever lower a key's fixed weight once the window is large
    prior_stories: int = 1000


@dataclass(frozen=True)
class StoryMatch:
    """The outcome of comparing one write-up with another."""

    same: bool
    score: float
    rare_shared: tuple[str, ...]
    reason: str


def fixed_weight(key: str) -> float:
    """The weight of a key before the window's frequencies are taken into account."""
    kind, _, value = key.partition(":")
    if kind == "e":
        if value in COMMON_NAMES:
            return 0.3
        return 1.5 if value in OUTLET_NAMES else 3.0
    if kind == "n":
        return 2.5 if len(value) >= 2 else 1.0
    if kind == "t":
        return 0.3 if value in COMMON_NAMES else 1.5
    if kind == "h":
        return 3.0
    if kind == "d":
        return 2.5
    return 0.0  # k: are vetoes, not evidence


def weight(key: str, df: Mapping[str, int], stories: int, thresholds: StoryThresholds) -> float:
    """Fixed weight of `key`, lowered by its document frequency over a large window."""
    return min(fixed_weight(key), _idf(key, df, stories, thresholds))


def _idf(key: str, df: Mapping[str, int], stories: int, thresholds: StoryThresholds) -> float:
    return math.log((stories + thresholds.prior_stories) / (df.get(key, 0) + 1))


def veto(a: frozenset[str], b: frozenset[str]) -> str | None:
    """Why two write-ups cannot report one event, or None: their casualty figures or their explicit
    dates are both given and share nothing."""
    figures_a, days_a = _vetoing(a)
    figures_b, days_b = _vetoing(b)
    if figures_a and figures_b and not figures_a & figures_b:
        return "casualty figures differ"
    if days_a and days_b and not days_a & days_b:
        return "dates differ"
    return None


@functools.lru_cache(maxsize=1024)
def _vetoing(keys: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The casualty-figure (``k:``) and calendar-day (``d:``) keys of a key set. Cached: a story
    look-up compares one article with up to `max_candidates` others, whose key sets come from
    the index's cache (the same objects again, found by identity)."""
    return (
        frozenset(k for k in keys if k.startswith("k:")),
        frozenset(k for k in keys if k.startswith("d:")),
    )


def compare(
    a: StoryFeatures,
    b: StoryFeatures,
    *,
    df: Mapping[str, int],
    stories: int,
    thresholds: StoryThresholds,
    weights: dict[str, float] | None = None,
) -> StoryMatch:
    """Decide whether write-ups `a` and `b` report the same event.

    `weights` may be a cache of key weights shared by many comparisons with the same `df`.
    """
    if abs(a.when - b.when) > thresholds.window:
        return StoryMatch(False, 0.0, (), "too far apart in time")
    vetoed = veto(a.keys, b.keys)
    if vetoed is not None:
        return StoryMatch(False, 0.0, (), vetoed)
    cache = {} if weights is None else weights
    for keys in (a.keys, b.keys):
        for k in keys:
            if k not in cache:
                fixed = fixed_weight(k)  # what `weight` computes, without a second call
                cache[k] = min(fixed, _idf(k, df, stories, thresholds)) if fixed > 0 else 0.0
    scored_a = {k for k in a.keys if cache[k] > 0}
    scored_b = {k for k in b.keys if cache[k] > 0}
    shared = scored_a & scored_b
    weights = cache

    def total(keys: Iterable[str]) -> float:
        return sum(weights[k] for k in keys)

    # Two different headlines are no evidence against one story (outlets retitle): an unshared
    # headline hash stays out of the denominator.
    unshared_headlines = {k for k in (scored_a | scored_b) - shared if k.startswith("h:")}
    denominator = min(total(scored_a - unshared_headlines), total(scored_b - unshared_headlines))
    score = total(shared) / denominator if denominator > 0 else 0.0
    rare = tuple(sorted(k for k in shared if weights[k] >= thresholds.rare_weight))
    # An identical headline is strong evidence but not enough alone: it stands for one rare key.
    needed = thresholds.min_rare_shared - any(k.startswith("h:") for k in rare)
    same = score >= thresholds.min_score and len(rare) >= needed
    if not same and score >= thresholds.short_min_score:
        # a short excerpt whose rare keys the other write-up carries, all of them
        fewest = min(
            rare_count(scored_a, weights, thresholds), rare_count(scored_b, weights, thresholds)
        )
        same = len(rare) >= max(fewest, thresholds.min_rare_short)
    return StoryMatch(same, score, rare, f"score={score:.2f} shared={','.join(rare[:6])}")


def rare_count(
    keys: Iterable[str], weights: Mapping[str, float], thresholds: StoryThresholds
) -> int:
    """How many of `keys` are rare (a headline hash is not counted: it is never shared alone)."""
    return sum(1 for k in keys if weights[k] >= thresholds.rare_weight and not k.startswith("h:"))


def lookup_need(rare: Iterable[str], thresholds: StoryThresholds) -> int:
    """The fewest rare keys (an identical headline counted) that a write-up whose rare keys are
    `rare` shares with any write-up it matches (for candidate look-ups; see `compare`)."""
    keys = list(rare)
    needed = thresholds.min_rare_shared - any(k.startswith("h:") for k in keys)
    own = sum(1 for k in keys if not k.startswith("h:"))
    return min(needed, max(own, thresholds.min_rare_short))
