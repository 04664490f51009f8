"""Story features and the conservative decision that two independent write-ups report one event.

An article is reduced to a set of prefixed keys: ``e:`` names (capitalised words: places,
people, organisations; not the words of a title-case headline, not words the text also writes in
lower case, not the common nouns of a German text), ``n:`` numbers other than years, ``k:``
casualty figures (numbers next to "killed", "dead", "civilians"...), ``t:`` headline words, ``h:``
the whole headline. Two write-ups belong to one story when, within a few days of one another,
they share enough *rare* names and numbers (weighted by inverse document frequency over the
stories of the window) and do not contradict each other's casualty figures. Merging two
incidents hides an event, so every test errs towards keeping stories apart.

Weights do not depend on arrival order where it matters: a key's weight is the smaller of a fixed
weight for its kind (names count, outlets a story is attributed to, small numbers and headline
words little, a list of names every regional story carries almost nothing, in the languages of
the region's press) and its inverse document frequency over the window with a large prior,
which only lowers the weight of names that very many stories of a big window carry.
Explicit calendar dates (``d:`` "3 March") and casualty figures (``k:``) are vetoes only.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.dedup.text import fold, tokens

_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d[\d,.]*")
_SENTENCE_END = re.compile(r"[.!?:;\"“”«»]\s*$")
_POSSESSIVE = re.compile(r"['’]s$")


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
    juillet aout septembre octobre novembre decembre
    enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
    lunes martes miercoles jueves viernes sabado domingo
    janeiro fevereiro marco maio junho julho setembro outubro dezembro segunda terca quarta
    quinta sexta
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre lunedi martedi
    mercoledi giovedi venerdi sabato
    januar februar marz juni juli oktober dezember montag dienstag mittwoch donnerstag freitag
    samstag sonntag
    januari februari maret mei agustus desember senin selasa rabu kamis jumat sabtu minggu
    maart mei augustus"""
    )
)
# Names nearly every story of the region and the wires carries: countries and their people,
# capitals, powers, agencies, institutions. Shared, they say nothing about the event (folded).
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
    wounded injured executed massacred lives toll slain slaughtered murdered perished deceased
    fatalities casualties corpses persons inhabitants residents non men women children
    tues tue morts mort deces civils personnes victimes blesses corps villageois habitants
    hommes femmes enfants"""
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


def story_keys(title: str, text: str) -> frozenset[str]:
    """The story keys of a write-up (see the module docstring)."""
    keys: set[str] = set()
    keys.update(f"e:{name}" for name in _names(title, text))
    words = _join_compound_numbers(tokens(text))
    for i, word in enumerate(words):
        number = _number(word)
        if number is None or _next_to_month(words, i):
            continue
        keys.add(f"n:{number}")
        window = words[max(i - 4, 0) : i + 5]
        if any(w in _CASUALTY for w in window):
            keys.add(f"k:{number}")
    headline = [w for w in tokens(title) if w not in _STOP]
    keys.update(f"t:{w}" for w in headline if len(w) > 3)
    if len(headline) >= 5:
        # the same headline: syndicated excerpts of one wire article usually keep it
        keys.add("h:" + hashlib.blake2b(" ".join(headline).encode(), digest_size=8).hexdigest())
    keys.update(f"d:{day}-{month}" for day, month in _dates(words))
    return frozenset(keys)


_MONTHS = {
    **{
        m: i
        for i, m in enumerate(
            _words(
                "january february march april _may june july august september october november"
                " december"  # "may" is a modal verb too often ("20 may have died")
            ),
            start=1,
        )
    },
    **{
        m: i
        for i, m in enumerate(
            _words("janvier fevrier mars avril mai juin juillet aout septembre octobre novembre"),
            start=1,
        )
    },
    "decembre": 12,
}


def _next_to_month(words: list[str], i: int) -> bool:
    return any(0 <= j < len(words) and words[j] in _MONTHS for j in (i - 1, i + 1))


def _dates(words: list[str]) -> set[tuple[int, int]]:
    """Explicit calendar days: "3 March", "March 3", "3 mars" (folded tokens)."""
    found: set[tuple[int, int]] = set()
    for i, word in enumerate(words):
        month = _MONTHS.get(word)
        if month is None:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(words) and words[j].isdigit() and 1 <= int(words[j]) <= 31:
                found.add((int(words[j]), month))
                break
            if (
                j == i - 1
                and j >= 1
                and words[j] in {"of", "le"}
                and words[j - 1].isdigit()
                and 1 <= int(words[j - 1]) <= 31
            ):
                found.add((int(words[j - 1]), month))
                break
    return found


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
    return spelled if spelled and int(spelled) >= 2 else None


def _names(title: str, text: str) -> set[str]:
    """The names of a write-up: capitalised words of its text that are not common words.

    A title in title case ("Rights Group Says Army Executed Civilians") capitalises every word,
    so its words count only when the text spells them as names too. A capitalised word that the
    text also writes in lower case ("Forces" and "forces") is a common word. In a text that
    capitalises its nouns (German), a capitalised word with a common noun ending ("Soldaten",
    "Hinrichtungen") is taken for a noun, not a name.
    """
    found = _capitalised(text)
    if not _title_case(title):
        found |= _capitalised(title)
    lower = {fold(w) for w in set(_WORD.findall(text)) if w[0].islower()}  # each word once
    names = {n for n in found if n not in lower}
    if _capitalises_nouns(text):
        names = {n for n in names if not n.endswith(_NOUN_ENDINGS)}
    return names


_NOUN_ENDINGS = tuple(
    _words(
        """ung ungen heit keit schaft schaften ion ionen tat nis nisse ismus ling linge chen lein
    en er e el ern um ten tur ik ie ei"""
    )
)


def _title_case(title: str) -> bool:
    words = [w for w in _WORD.findall(title) if len(w) > 3 and not w[0].isdigit()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) >= 0.6


_GERMAN = frozenset(
    _words("der die das und nicht mit von ist sich den dem auf fur wurde wurden ein eine")
)


def _capitalises_nouns(text: str) -> bool:
    """Whether the text capitalises common nouns (German): its function words are German and
    over 38% of its words of four letters or more are capitalised (names and sentence-initial
    words make at most about a third in English or French news, menus and headlines included)."""
    words: list[str] = _WORD.findall(text)
    if len(words) < 30 or sum(fold(w) in _GERMAN for w in words) < 0.05 * len(words):
        return False
    long = [w for w in words if len(w) >= 4 and not w[0].isdigit()]
    return sum(w[0].isupper() for w in long) >= 0.38 * len(long)


def _capitalised(text: str) -> set[str]:
    """Capitalised words, keeping a sentence-initial one only if it is also capitalised mid-text.

    Of a run of capitalised words ("Yevgeny Prigozhin", "Central African Republic") only the last
    counts, so one person or one organisation is one key, not several rare ones.
    """
    initial: set[str] = set()
    middle: set[str] = set()
    previous = "."
    pending: tuple[str, bool] | None = None
    end = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        start = match.start()
        if not word[0].isupper():  # most words: no sentence or run bookkeeping needed
            previous, end = word, match.end()
            if pending is not None:
                (initial if pending[1] else middle).add(pending[0])
                pending = None
            continue
        gap = text[start - 2 : start] if start else "\n"
        starts_sentence = "\n" in gap or bool(_SENTENCE_END.search(previous + gap))
        joined = text[end:start] == " "
        previous, end = word, match.end()
        key = fold(_POSSESSIVE.sub("", word).strip("'’-"))
        if len(key) < 2 or key in _STOP:
            continue
        if pending is not None and not (joined and not starts_sentence):
            (initial if pending[1] else middle).add(pending[0])
        pending = (key, starts_sentence)
    if pending is not None:
        (initial if pending[1] else middle).add(pending[0])
    return middle | (initial & middle)


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
    return 0.0  # k: and d: are vetoes, not evidence


def weight(key: str, df: Mapping[str, int], stories: int, thresholds: StoryThresholds) -> float:
    """Fixed weight of `key`, lowered by its document frequency over a large window."""
    idf = math.log((stories + thresholds.prior_stories) / (df.get(key, 0) + 1))
    return min(fixed_weight(key), idf)


def veto(a: frozenset[str], b: frozenset[str]) -> str | None:
    """Why two write-ups cannot report one event, or None: their casualty figures or their explicit
    dates are both given and share nothing."""
    for prefix, why in (("k:", "casualty figures differ"), ("d:", "dates differ")):
        in_a = {k for k in a if k.startswith(prefix)}
        in_b = {k for k in b if k.startswith(prefix)}
        if in_a and in_b and not in_a & in_b:
            return why
    return None


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
    for k in a.keys | b.keys:
        if k not in cache:
            cache[k] = weight(k, df, stories, thresholds) if fixed_weight(k) > 0 else 0.0
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
