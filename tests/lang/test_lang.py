"""Language detection for pages and feeds that declare none (monitor.lang)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.lang import MIN_LETTERS, detect_language

# Self-written sentences (one short wire-style lead per language).
LEADS = {
    "en": "Residents said soldiers and foreign fighters killed at least twelve herders near a well "
    "east of the town before burning their tents on Tuesday.",
    "fr": "Selon des habitants, des soldats accompagnés de combattants étrangers ont tué au moins "
    "douze bergers près d'un puits à l'est de la ville mardi.",
    "ar": "قال سكان إن جنودا برفقة مقاتلين أجانب قتلوا ما لا يقل عن اثني عشر راعيا قرب بئر شرق "
    "المدينة يوم الثلاثاء.",
    "de": "Nach Angaben von Bewohnern haben Soldaten und ausländische Kämpfer am Dienstag "
    "mindestens zwölf Hirten an einem Brunnen östlich der Stadt getötet.",
    "es": "Según los vecinos, soldados acompañados de combatientes extranjeros mataron al menos a "
    "doce pastores cerca de un pozo al este de la ciudad el martes.",
    "pt": "Segundo moradores, soldados acompanhados de combatentes estrangeiros mataram pelo menos "
    "doze pastores perto de um poço a leste da cidade na terça-feira.",
    "it": "Secondo gli abitanti, soldati accompagnati da combattenti stranieri hanno ucciso "
    "almeno dodici pastori vicino a un pozzo a est della città martedì.",
    "nl": "Volgens bewoners hebben soldaten samen met buitenlandse strijders dinsdag minstens "
    "twaalf herders bij een waterput ten oosten van de stad gedood.",
    "ru": "По словам местных жителей, солдаты вместе с иностранными боевиками во вторник убили "
    "не менее двенадцати пастухов у колодца к востоку от города.",
    "tr": "Yerel halka göre askerler ve yabancı savaşçılar salı günü şehrin doğusundaki bir "
    "kuyunun yanında en az on iki çobanı öldürdü.",
    "id": "Menurut warga, tentara bersama pejuang asing menewaskan sedikitnya dua belas "
    "penggembala di dekat sebuah sumur di sebelah timur kota pada hari Selasa.",
    "sw": "Kwa mujibu wa wakazi, wanajeshi pamoja na wapiganaji wa kigeni waliwaua wachungaji "
    "kumi na wawili karibu na kisima mashariki mwa mji siku ya Jumanne.",
}


@pytest.mark.parametrize(("code", "text"), sorted(LEADS.items()))
def test_detects_the_language_of_a_lead(code: str, text: str) -> None:
    assert detect_language("", text) == code


def test_title_and_text_are_read_together() -> None:
    title = "Des civils tués près de Tombouctou"
    assert detect_language(title, LEADS["fr"]) == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Wagner",  # a name is no language
        "Mali: 12",
        "2024-05-16 13:30 UTC · 4 min",
        "a" * (MIN_LETTERS - 1),
    ],
)
def test_short_or_letterless_texts_give_none(text: str) -> None:
    assert detect_language(text, "") is None


def test_unsure_guess_gives_none() -> None:
    # Place names and numbers only: no language to speak of.
    text = "Bamako Gao Kidal Mopti Ségou Tombouctou Ménaka Niamey Ouagadougou Djibo 2022 2023 2024"
    assert detect_language("", text) is None


def test_model_ships_inside_the_package() -> None:
    import py3langid

    model = Path(py3langid.__file__).parent / "data" / "model.npz.xz"
    assert model.is_file()
