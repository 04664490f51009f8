"""Normalisation: folding, elisions, hyphens, Arabic, sentence and paragraph indices."""

from __future__ import annotations

import random

import pytest

from monitor.rules import normalize
from monitor.rules.normalize import fold, query_words, tokenize


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Ségou", "segou"),
        ("TOMBOUCTOU", "tombouctou"),
        ("Ménaka", "menaka"),
        ("Tillabéri", "tillaberi"),
        ("Straße", "strasse"),
        ("œuvre", "oeuvre"),
        ("Ｗａｇｎｅｒ", "wagner"),  # full-width, NFKC
        ("Se\u0301gou", "segou"),  # decomposed accent
        ("فـاغـنـر", "فاغنر"),  # tatweel
        ("مُرْتَزِقَة", "مرتزقه"),  # harakat, ta marbuta
        ("المرتزقة", "مرتزقه"),  # definite article
        ("أطفال", "اطفال"),  # alef with hamza
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("l'armée", ["armee"]),
        ("d’Abeibara", ["abeibara"]),
        ("qu'il", ["il"]),
        ("jusqu'à Gao", ["a", "gao"]),
        ("Russia's Wagner", ["russia", "wagner"]),
        ("Russia’s Wagner", ["russia", "wagner"]),
        ("drone-strike", ["drone", "strike"]),
        ("O'Brien", ["o", "brien"]),
        ("Fada N'Gourma", ["fada", "gourma"]),
    ],
)
def test_words(text: str, words: list[str]) -> None:
    assert query_words(text) == words


def test_offsets_point_into_original_text() -> None:
    text = "À Ségou, l’armée a tué des civils."
    tokens = tokenize(text)
    assert [text[t.start : t.end] for t in tokens] == [
        "À",
        "Ségou",
        "armée",
        "a",
        "tué",
        "des",
        "civils",
    ]


def test_sentences_and_paragraphs() -> None:
    text = "Col. Maj. Dembélé spoke. Troops left in 2021. U.S. officials agreed!\n\nNew paragraph"
    tokens = tokenize(text)
    by_word = {t.norm: (t.paragraph, t.sentence) for t in tokens}
    assert by_word["col"] == by_word["dembele"] == (0, 0)
    assert by_word["troops"] == by_word["2021"] == (0, 1)
    assert by_word["officials"] == (0, 2)
    assert by_word["new"] == (1, 3)


def test_sentence_boundary_survives_elided_word() -> None:
    tokens = tokenize("Fin de la phrase. L'armée arrive.")
    assert tokens[0].sentence == 0
    assert next(t for t in tokens if t.norm == "armee").sentence == 1


def test_a_sentence_split_across_paragraphs_stays_one_sentence() -> None:
    """Hard-wrapped text: a paragraph that stops mid-sentence and a next one in lower case."""
    tokens = tokenize(
        "At least 50 civilians were killed\n\nduring an operation by the army and\n\n"
        "foreign troops, the UN said.\n\nOthers fled\n\nSoldiers arrived,\n\nThen"
    )
    by_word = {t.norm: (t.paragraph, t.sentence) for t in tokens}
    assert by_word["civilians"] == (0, 0) and by_word["during"] == (1, 0)
    assert by_word["foreign"] == (2, 0) and by_word["said"] == (2, 0)
    assert by_word["others"] == (3, 1)  # after a full stop
    assert by_word["soldiers"] == (4, 2)  # "Others fled" then a capital: a heading-like break
    assert by_word["then"] == (5, 3)


def test_single_newline_is_not_a_paragraph_break() -> None:
    tokens = tokenize("a wrapped\nline\n\nnext")
    assert [t.paragraph for t in tokens] == [0, 0, 0, 1]


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("والمدنيين", "مدنيين"),  # wa- + al-
        ("بالمدنيين", "مدنيين"),  # bi- + al-
        ("للمدنيين", "مدنيين"),  # li- + al-
        ("فالمدنيين", "مدنيين"),  # fa- + al-
        ("وقتل", "قتل"),  # wa- on a verb
        ("وأعدموا", "اعدموا"),  # wa- then hamza carrier
        ("ولد", "ولد"),  # three letters: wa- is part of the word
        ("فاغنر", "فاغنر"),  # fa- is not stripped alone (it starts Wagner)
        ("وفاغنر", "فاغنر"),
        ("کیدال", "كيدال"),  # Persian kaf and yeh
        ("مسئول", "مسيول"),  # hamza on yeh
        ("٥٠٠", "500"),  # Arabic-Indic digits
        ("۵۰۰", "500"),  # Extended Arabic-Indic digits
        ("Ёлка", "елка"),
    ],
)
def test_fold_arabic_clitics_and_variants(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_queries_fold_like_articles() -> None:
    article = "قال السكان إن الجنود والمرتزقة قتلوا المدنيين بالقرب من موبتي."
    words = {t.norm for t in tokenize(article)}
    for query in ("مرتزقة", "مدنيين", "المدنيين", "والمدنيين", "موبتي"):
        assert query_words(query)[0] in words, query


def _reference_tokens(text: str) -> list[tuple[str, int, int, int, int]]:
    """The tokeniser written the plain way: every gap between two words is inspected."""
    out: list[tuple[str, int, int, int, int]] = []
    sentence = 0
    spans = normalize.paragraph_spans(text)
    for paragraph, (p_start, p_end) in enumerate(spans):
        before = (
            text[spans[paragraph - 1][0] : spans[paragraph - 1][1]].strip() if paragraph else ""
        )
        after = text[p_start:p_end].strip()
        mid_sentence = bool(before) and (before[-1].isalnum() or before[-1] in ",_")
        if out and not (mid_sentence and after[:1].islower()):
            sentence += 1
        new_sentence, previous_raw, previous_end = False, "", p_start
        for match in normalize.WORD_RE.finditer(text, p_start, p_end):
            start, end = match.span()
            raw = match.group()
            if out and out[-1][3] == paragraph:
                new_sentence = new_sentence or normalize._ends_sentence(
                    text[previous_end:start], previous_raw
                )
            previous_raw, previous_end = raw, end
            norm = fold(raw)
            if normalize._is_elided(text, raw, start, end) or not norm:
                continue
            if new_sentence:
                sentence, new_sentence = sentence + 1, False
            out.append((norm, start, end, paragraph, sentence))
    return out


def test_tokenize_equals_inspecting_every_gap() -> None:
    pieces = [
        "Wagner",
        "mercenaires",
        "l'",
        "d’",
        "qu'",
        "s",
        "'s",
        "S",
        "ſ",
        ". ",
        "...",
        "…",
        "? ",
        "!",
        "؟",
        "。",
        " Mr. ",
        " Col. ",
        " U.S. ",
        " A. ",
        "\n\n",
        "\n",
        " \n \n",
        "ـ",
        "\u0301",
        "_",
        "Ségou",
        "والمدنيين",
        "2021",
        " ",
        "  ",
        "-",
        "’",
        "'",
        "jusqu'",
        "__",
        "a_b",
        "_x_",
        "\u0670_",
    ]
    rng = random.Random(7)
    texts = ["", ".", "s", "'s", "l'a", "Fin. L'armée. S'il. X. Y", "A.\n\nb. C", "a,\n\n b\n\nc"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 80))) for _ in range(400)]
    for text in texts:
        assert [tuple(t) for t in tokenize(text)] == _reference_tokens(text), repr(text)
        assert normalize.raw_words(text) == set(normalize.WORD_RE.findall(text)), repr(text)
