"""Text normalisation shared by rule queries and articles, so both sides fold the same way.

A text becomes a list of :class:`Token`: the folded word, its character offsets in the original
text, and the indices of the paragraph and sentence it sits in. Folding applies NFKC, case
folding, accent and diacritic removal (``Ségou`` = ``segou``, Arabic harakat and tatweel), a few
letter equivalences (``œ`` = ``oe``, ``ё`` = ``е``; Arabic alef and hamza carriers, ``ى``/``ی`` =
``ي``, ``ک`` = ``ك``, ``ة`` = ``ه``, Arabic-Indic digits) and strips the Arabic proclitics (the
conjunction ``و`` on longer words, the article with or without ``ب ف ك ل``). Words are runs of
Unicode letters, digits and combining marks, so hyphens and apostrophes separate words; French
elided clitics (``l'``, ``d'``, ``qu'``...) and the English possessive ``'s`` are dropped.
Paragraphs are separated by blank lines; sentences end at ``. ! ? ؟ …`` unless the word before
the full stop is a known abbreviation or an initial.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff"
    "\u20d0-\u20ff\ufe20-\ufe2f"
)
WORD_RE = re.compile(rf"(?:[^\W_]|[{_MARKS}])+")
_WORD_OR_UNDERSCORE = re.compile(rf"[\w{_MARKS}]+")  # one class: twice as fast
APOSTROPHES = frozenset("'’ʼ‘`´")
ELISIONS = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu"})
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_SENTENCE_END = frozenset(".!?؟…。")
_SENTENCE_END_RE = re.compile("[.!?؟…。]")
_NO_END = 1 << 62  # "no sentence end further on"
ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "col",
        "maj",
        "gen",
        "lt",
        "sgt",
        "capt",
        "cpt",
        "st",
        "jr",
        "sr",
        "prof",
        "gov",
        "sen",
        "rep",
        "no",
        "vs",
        "etc",
        "inc",
        "co",
        "corp",
        "m",
        "mme",
        "mlle",
        "mgr",
        "pr",
        "dr",
        "gén",
        "lieut",
        "cmdt",
        "art",
        "fig",
        "p",
        "pp",
        "vol",
        "ed",
    ]
)
_LETTER_MAP = str.maketrans(
    {
        "œ": "oe",
        "æ": "ae",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ı": "i",
        "ё": "е",
        # Arabic: alef maqsura and Persian/Urdu yeh and kaf as the Arabic letters, ta marbuta
        # as ha (the usual search folding), tatweel dropped, Arabic-Indic digits as ASCII.
        "ى": "ي",
        "ی": "ي",
        "ک": "ك",
        "ة": "ه",
        "ـ": "",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
# Proclitics: the conjunction wa- (one, only on words of 4+ letters, as light stemmers do), then
# the article with its prepositions (bi-, fa-, ka-, li-l-). Queries fold the same way, so
# "والمدنيين", "بالمدنيين" and "المدنيين" all match "مدنيين".
_ARABIC_CONJUNCTION = "و"
_ARABIC_ARTICLES = ("بال", "فال", "كال", "لل", "ال")


class Token(NamedTuple):
    """One folded word with its place in the original text (a named tuple: cheap to build)."""

    norm: str
    start: int
    end: int
    paragraph: int
    sentence: int


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Fold one word: NFKC, casefold, strip accents/diacritics, unify letters, drop Arabic
    proclitics ('wa-', 'al-', 'bi-l-', 'li-l-'...)."""
    text = unicodedata.normalize("NFKC", word).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = unicodedata.normalize("NFC", stripped.translate(_LETTER_MAP))
    return _strip_arabic_article(folded)


def _strip_arabic_article(word: str) -> str:
    if not word or not "\u0600" <= word[0] <= "\u06ff":
        return word
    if word.startswith(_ARABIC_CONJUNCTION) and len(word) >= 4:
        word = word[1:]
    for article in _ARABIC_ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            return word[len(article) :]
    return word


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges of the paragraphs of `text` (blank-line separated, empty ones skipped)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for brk in _PARAGRAPH_BREAK.finditer(text):
        spans.append((start, brk.start()))
        start = brk.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def tokenize(text: str) -> list[Token]:
    """Split `text` into folded tokens carrying offsets, paragraph and sentence indices.

    One pass over the words of each paragraph. A gap between two words can only end a sentence
    when it holds a sentence-ending character, so the position of the next such character is
    looked up once per sentence (not once per word) and gaps before it are never inspected.
    """
    tokens: list[Token] = []
    append, new_token = tokens.append, tuple.__new__  # Token(...) without its Python __new__
    sentence = 0
    next_end = -1  # position of the next sentence-ending character at or after `previous_end`
    end_search = _SENTENCE_END_RE.search
    previous: tuple[int, int] = (0, 0)
    for paragraph, (p_start, p_end) in enumerate(paragraph_spans(text)):
        if tokens and not _runs_on(text, previous, p_start):
            sentence += 1
        previous = (p_start, p_end)
        new_sentence = False
        emitted = False  # a token of this paragraph was kept
        previous_raw = ""
        previous_end = p_start
        for match in WORD_RE.finditer(text, p_start, p_end):
            start, end = match.span()
            raw = match.group()
            if emitted and not new_sentence:
                if next_end < previous_end:
                    found = end_search(text, previous_end)
                    next_end = _NO_END if found is None else found.start()
                if next_end < start:
                    new_sentence = _ends_sentence(text[previous_end:start], previous_raw)
            previous_raw, previous_end = raw, end
            if (len(raw) == 1 or text[end : end + 1] in APOSTROPHES) and _is_elided(
                text, raw, start, end
            ):
                continue
            norm = fold(raw)
            if not norm:
                continue
            if new_sentence:
                sentence += 1
                new_sentence = False
            append(new_token(Token, (norm, start, end, paragraph, sentence)))
            emitted = True
    return tokens


def _runs_on(text: str, before: tuple[int, int], start: int) -> bool:
    """Whether the paragraph break before `start` falls inside a sentence: the paragraph `before`
    stops on a word or a comma (no full stop, colon, quote or bracket) and the next one opens with
    a lower-case letter (hard-wrapped text, a sentence that a page split across lines). A break
    consumes the whitespace after it, so the next paragraph's first character is at `start`."""
    if not text[start : start + 1].islower():
        return False
    tail = text[before[0] : before[1]].rstrip()[-1:]
    return tail.isalnum() or tail in ",_"


def raw_words(text: str) -> set[str]:
    """The distinct runs :data:`WORD_RE` finds in `text`, unfolded: runs of one character class
    that also holds "_" (a regex twice as fast), split on "_"."""
    found = set(_WORD_OR_UNDERSCORE.findall(text))
    for joined in [w for w in found if "_" in w]:
        found.discard(joined)
        found.update(part for part in joined.split("_") if part)
    return found


def query_words(text: str) -> list[str]:
    """The folded words of a query term, elisions dropped, in order."""
    return [token.norm for token in tokenize(text)]


def _is_elided(text: str, raw: str, start: int, end: int) -> bool:
    after = text[end : end + 2]
    if len(after) == 2 and after[0] in APOSTROPHES and after[1].isalpha():
        return raw.casefold() in ELISIONS
    if raw.casefold() == "s" and start >= 2:
        return text[start - 1] in APOSTROPHES and text[start - 2].isalnum()
    return False


def _ends_sentence(gap: str, previous_raw: str) -> bool:
    if not any(ch in _SENTENCE_END for ch in gap):
        return False
    if gap.lstrip().startswith(".") and gap.count(".") == 1:
        word = previous_raw.casefold()
        if word in ABBREVIATIONS or (len(previous_raw) == 1 and previous_raw.isupper()):
            return False
    return True
