"""Story keys: what a write-up contributes to the same-event decision (see ``story``).

An article is reduced to a set of prefixed keys: ``e:`` names (capitalised words: places,
people, organisations; not the words of a title-case headline, not words the text also writes in
lower case, not the common nouns of a German text; in Arabic, which has no capitals, the Sahel
places of a short gazetteer, keyed by their Latin name), ``n:`` numbers other than years and
calendar days, ``k:`` casualty figures (numbers next to "killed", "dead", "civilians"...), ``d:``
explicit calendar days ("3 March", "le 3 mars", "27 de marzo", "27. März", "27 марта", both
days of "27-31 March"), ``t:`` headline words, ``h:`` the whole headline. Pure functions of
the text.
"""

from __future__ import annotations

import hashlib
import re

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


# Arabic has no capitals, so `_names` finds no name in an Arabic write-up and it could join a
# story only through figures. The places of the central Sahel, as the Arabic press spells them,
# are keyed by their Latin name instead, so an Arabic translation shares its places with the
# original (folded forms: no hamza; an article or a proclitic "wa-", "bi-", "fi-", "li-" is
# stripped before the look-up).
_ARABIC_PLACES = {
    alias: key
    for key, aliases in (
        ("moura", "مورا موره"),
        ("mopti", "موبتي"),
        ("kidal", "كيدال"),
        ("gao", "غاو"),
        ("timbuktu", "تمبكتو تومبكتو تنبكتو"),
        ("segou", "سيغو سيجو"),
        ("hombori", "هومبوري"),
        ("gossi", "غوسي جوسي"),
        ("menaka", "ميناكا"),
        ("tinzaouaten", "تينزاواتين"),
        ("abeibara", "ابيبارا"),
        ("douentza", "دوينتزا"),
        ("sevare", "سيفاري"),
        ("djenne", "جيني"),
        ("diafarabe", "ديافارابي"),
        ("ouagadougou", "واغادوغو"),
        ("djibo", "جيبو"),
        ("tillaberi", "تيلابيري"),
    )
    for alias in _words(fold(aliases))
}
_ARABIC_PROCLITICS = ("", "و", "ب", "ف", "ل", "وب", "ول", "وف")


_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")


def _arabic_places(title: str, text: str) -> set[str]:
    """The Sahel places an Arabic write-up names, keyed by their Latin name."""
    found: set[str] = set()
    if not (_ARABIC_LETTER.search(text) or _ARABIC_LETTER.search(title)):
        return found  # no Arabic at all: no need to look at every word
    for word in tokens(title + " " + text):
        if not "\u0600" <= word[0] <= "\u06ff":
            continue
        for clitic in _ARABIC_PROCLITICS:
            if not word.startswith(clitic):
                continue
            stem = word[len(clitic) :]
            stem = stem[2:] if stem.startswith("ال") else stem
            if stem in _ARABIC_PLACES:
                found.add(_ARABIC_PLACES[stem])
                break
    return found


def story_keys(title: str, text: str) -> frozenset[str]:
    """The story keys of a write-up (see the module docstring)."""
    keys: set[str] = set()
    keys.update(f"e:{name}" for name in _names(title, text) | _arabic_places(title, text))
    words = _join_compound_numbers(tokens(text))
    days = _date_days(words)
    for i, word in enumerate(words):
        if not (word[0].isdigit() or word in _NUMBER_WORDS):
            continue  # most words: no figure (what `_number` would say, without the call)
        number = _number(word)
        if number is None or i in days:
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
    keys.update(f"d:{day}-{month}" for day, month in set(days.values()))
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
    # Spanish, Portuguese, Italian, German, Dutch, Indonesian, Russian (genitive), Arabic:
    # "27 de marzo", "27. März", "27 марта" are dates, not figures
    **{
        m: i
        for names in (
            "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre"
            " diciembre",
            "janeiro fevereiro _marco abril maio junho julho agosto setembro outubro novembro"
            " dezembro",
            "gennaio febbraio _marzo aprile maggio giugno luglio _agosto settembre ottobre"
            " _novembre dicembre",
            "januar februar marz _april _mai juni juli _august _september oktober _november"
            " dezember",
            "januari februari maart _april _mei _juni _juli augustus _september _oktober"
            " _november _december",
            "_januari _februari maret _april _mei _juni _juli agustus _september _oktober"
            " _november desember",
            "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
            "يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر",
        )
        for i, m in enumerate(_words(names), start=1)
        if not m.startswith("_")
    },
    "marco": 3,  # Portuguese "março" folded (a number next to it is a date)
}


_DATE_LINKS = frozenset({"of", "de", "le"})
# between the two days of a range: "27-31 March", "du 27 au 31 mars", "del 27 al 31 de marzo",
# "zwischen dem 27. und 31. März", "с 27 по 31 марта"
_RANGE_LINKS = frozenset(
    _words("to and au et a al y e und bis tot en t/m hingga sampai dan по и до")
)
# After a month-first date ("March 3 and 12 civilians were killed") a conjunction does not make
# a range: the number after it is as likely a casualty figure; only "to", "-"... do.
_CONJUNCTIONS = frozenset(_words("and et y e und en dan и"))
MAX_DIGITS = 12  # longer digit runs are no figure, day or year (and int() refuses 4,301+ digits)


def _date_days(words: list[str]) -> dict[int, tuple[int, int]]:
    """The positions of the day numbers of explicit dates, with their (day, month): "3 March",
    "March 3", "3 mars", "27 de marzo", "27. März", "27 марта", and both days of a range
    ("27-31 March", "du 27 au 31 mars", "March 27 to 31")."""
    found: dict[int, tuple[int, int]] = {}

    def day(j: int) -> bool:
        word = words[j] if 0 <= j < len(words) else ""
        return len(word) <= 2 and word.isdigit() and 1 <= int(word) <= 31

    def add(j: int, month: int, step: int) -> None:
        found[j] = (int(words[j]), month)
        # the other day of a range, on the far side from the month
        k = j + step
        if 0 <= k < len(words) and words[k] in _RANGE_LINKS:
            if step > 0 and words[k] in _CONJUNCTIONS:
                return
            k += step
        if day(k) and k not in found:
            found[k] = (int(words[k]), month)

    for i, word in enumerate(words):
        month = _MONTHS.get(word)
        if month is None:
            continue
        if day(i - 1):
            add(i - 1, month, -1)
        elif i >= 2 and words[i - 1] in _DATE_LINKS and day(i - 2):
            add(i - 2, month, -1)
        elif day(i + 1):
            add(i + 1, month, +1)
    return found


def _join_compound_numbers(words: list[str]) -> list[str]:
    """Spelled compounds ("twenty three", "vingt trois") become one digit token ("23")."""
    out: list[str] = []
    for word in words:
        unit = _NUMBER_WORDS.get(word)  # None for most words: nothing to join
        if unit and len(unit) == 1 and out:
            tens = _NUMBER_WORDS.get(out[-1], "")
            if tens.endswith("0") and tens != "100":
                out[-1] = str(int(tens) + int(unit))
                continue
        out.append(word)
    return out


def _number(word: str) -> str | None:
    if word.isdigit() and len(word) <= MAX_DIGITS:
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
    words: list[str] = []  # the text's `_WORD` words, collected by the same scan
    found = _capitalised(text, words)
    if not _title_case(title):
        found |= _capitalised(title)
    lower = {fold(w) for w in set(words) if w[0].islower()}  # each word once
    names = {n for n in found if n not in lower}
    if _capitalises_nouns(words):
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


_GERMAN_LONGEST = max(map(len, _GERMAN))


def _capitalises_nouns(words: list[str]) -> bool:
    """Whether a text (its `_WORD` words) capitalises common nouns (German): its function words
    are German and over 38% of its words of four letters or more are capitalised (names and
    sentence-initial words make at most about a third in English or French news, menus and
    headlines included)."""
    if len(words) < 30:
        return False
    # folding never shortens a word, so a longer word cannot be one of the function words
    german = sum(1 for w in words if len(w) <= _GERMAN_LONGEST and fold(w) in _GERMAN)
    if german < 0.05 * len(words):
        return False
    long = [w for w in words if len(w) >= 4 and not w[0].isdigit()]
    return sum(w[0].isupper() for w in long) >= 0.38 * len(long)


def _capitalised(text: str, words: list[str] | None = None) -> set[str]:
    """Capitalised words, keeping a sentence-initial one only if it is also capitalised mid-text.

    Of a run of capitalised words ("Yevgeny Prigozhin", "Central African Republic") only the last
    counts, so one person or one organisation is one key, not several rare ones. Every `_WORD`
    word of `text` is appended to `words` when given (what `_WORD.findall` would return).
    """
    collect = (lambda _: None) if words is None else words.append
    initial: set[str] = set()
    middle: set[str] = set()
    previous = "."
    pending: tuple[str, bool] | None = None
    end = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        collect(word)
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
