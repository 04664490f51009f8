"""Story features and the conservative decision that two independent write-ups report one event.

An article is reduced to a set of prefixed keys: ``e:`` names (capitalised words: places,
people, organisations), ``n:`` numbers other than years, ``k:`` casualty figures (numbers next to
"killed", "dead", "civilians"...), ``t:`` headline words. Two write-ups belong to one story when,
within a few days of one another, they share enough *rare* names and numbers (weighted by inverse
document frequency over the stories of the window) and do not contradict each other's casualty
figures. Merging two incidents hides an event, so every test errs towards keeping stories apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.dedup.text import fold, tokens

_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d[\d,.]*")
_SENTENCE_END = re.compile(r"[.!?:;\"“”«»]\s*$")


def _words(text: str) -> list[str]:
    return text.split()


_STOP = frozenset(
    _words(
        """a an the and or but if in on at of for to from by with as is was were be been it its
    he she
    they we i you this that these those there their his her our who whom which what when where why
    how after before during since until while about against between into through over under than
    also not no nor yet so some many most more other such only own same very can will would could
    should may might must said says according mr mrs ms dr
    monday tuesday wednesday thursday friday saturday sunday january february march april june
    july august september october november december
    le la les un une des du de et ou mais dans sur pour par avec en au aux ce cette ces il elle
    ils elles nous vous son sa ses leur leurs qui que quoi dont selon depuis lors apres avant
    lundi mardi mercredi jeudi vendredi samedi dimanche janvier fevrier mars avril mai juin
    juillet aout septembre octobre novembre decembre"""
    )
)
_NUMBER_WORDS = {
    **{
        w: str(i)
        for i, w in enumerate(
            _words(
                "zero one two three four five six seven eight nine ten eleven twelve thirteen"
                " fourteen fifteen sixteen seventeen eighteen nineteen twenty"
            )
        )
    },
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "hundred": "100",
    "dozens": "",
    **{
        w: str(i)
        for i, w in enumerate(
            _words(
                "zero un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze"
                " quinze seize dix-sept dix-huit dix-neuf vingt"
            )
        )
        if i > 1
    },
    "trente": "30",
    "quarante": "40",
    "cinquante": "50",
    "cent": "100",
}
_CASUALTY = frozenset(
    _words(
        """killed killing kill dead deaths death died bodies body civilians people villagers victims
    wounded injured executed massacred lives toll
    tues tue morts mort deces civils personnes victimes blesses corps villageois"""
    )
)


@dataclass(frozen=True)
class StoryFeatures:
    """The keys an article contributes to story matching, and when it was published."""

    keys: frozenset[str]
    when: datetime


def extract_features(title: str, text: str, when: datetime) -> StoryFeatures:
    """Reduce a write-up to story keys (pure; works on any language, best on EN/FR)."""
    keys: set[str] = set()
    keys.update(f"e:{name}" for name in _names(title + ".\n" + text))
    words = _join_compound_numbers(tokens(text))
    for i, word in enumerate(words):
        number = _number(word)
        if number is None:
            continue
        keys.add(f"n:{number}")
        window = words[max(i - 4, 0) : i + 5]
        if any(w in _CASUALTY for w in window):
            keys.add(f"k:{number}")
    keys.update(f"t:{w}" for w in tokens(title) if len(w) > 3 and w not in _STOP)
    return StoryFeatures(frozenset(keys), when)


def _join_compound_numbers(words: list[str]) -> list[str]:
    """Spelled compounds ("twenty three", "vingt trois") become one digit token ("23")."""
    out: list[str] = []
    for word in words:
        tens = _NUMBER_WORDS.get(out[-1], "") if out else ""
        unit = _NUMBER_WORDS.get(word, "")
        if tens.endswith("0") and tens != "100" and unit and len(unit) == 1:
            out[-1] = str(int(tens) + int(unit))
        else:
            out.append(word)
    return out


def _number(word: str) -> str | None:
    if word.isdigit():
        value = int(word)
        if value < 2 or 1900 <= value <= 2100:
            return None
        return str(value)
    spelled = _NUMBER_WORDS.get(word)
    return spelled or None


def _names(text: str) -> set[str]:
    """Capitalised words, keeping a sentence-initial one only if it is also capitalised mid-text."""
    initial: set[str] = set()
    middle: set[str] = set()
    previous = "."
    for match in _WORD.finditer(text):
        word = match.group(0)
        gap = text[match.start() - 2 : match.start()] if match.start() else "\n"
        starts_sentence = "\n" in gap or bool(_SENTENCE_END.search(previous + gap))
        previous = word
        if not word[0].isupper():
            continue
        key = fold(word.strip("'’-"))
        if len(key) < 2 or key in _STOP:
            continue
        (initial if starts_sentence else middle).add(key)
    return middle | (initial & middle)


@dataclass(frozen=True)
class StoryThresholds:
    """When two write-ups are one story (see docs/dedup.md for how these were tuned)."""

    window: timedelta = timedelta(days=3)
    min_score: float = 0.35
    min_rare_shared: int = 3
    rare_weight: float = 2.0  # a key is "rare" when its weight is at least this
    prior_stories: int = 50  # smoothing: behave as if the window always held this many stories


@dataclass(frozen=True)
class StoryMatch:
    """The outcome of comparing one write-up with another."""

    same: bool
    score: float
    rare_shared: tuple[str, ...]
    reason: str


def weight(key: str, df: Mapping[str, int], stories: int, thresholds: StoryThresholds) -> float:
    """Inverse document frequency of `key` over the stories of the window (smoothed)."""
    return math.log((stories + thresholds.prior_stories) / (df.get(key, 0) + 1))


def compare(
    a: StoryFeatures,
    b: StoryFeatures,
    *,
    df: Mapping[str, int],
    stories: int,
    thresholds: StoryThresholds,
) -> StoryMatch:
    """Decide whether write-ups `a` and `b` report the same event."""
    if abs(a.when - b.when) > thresholds.window:
        return StoryMatch(False, 0.0, (), "too far apart in time")
    tolls_a = {k for k in a.keys if k.startswith("k:")}
    tolls_b = {k for k in b.keys if k.startswith("k:")}
    if tolls_a and tolls_b and not tolls_a & tolls_b:
        return StoryMatch(False, 0.0, (), "casualty figures differ")
    scored_a = {k for k in a.keys if not k.startswith("k:")}
    scored_b = {k for k in b.keys if not k.startswith("k:")}
    shared = scored_a & scored_b

    def total(keys: set[str]) -> float:
        return sum(weight(k, df, stories, thresholds) for k in keys)

    denominator = min(total(scored_a), total(scored_b))
    score = total(shared) / denominator if denominator > 0 else 0.0
    rare = tuple(
        sorted(k for k in shared if weight(k, df, stories, thresholds) >= thresholds.rare_weight)
    )
    same = score >= thresholds.min_score and len(rare) >= thresholds.min_rare_shared
    return StoryMatch(same, score, rare, f"score={score:.2f} shared={','.join(rare[:6])}")
