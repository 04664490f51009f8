"""Normalisation: folding, furniture removal and the text hash of identical copies."""

from __future__ import annotations

from monitor.dedup.text import content_tokens, fold, is_boilerplate, paragraphs, text_hash


def test_fold_strips_accents_and_case() -> None:
    assert fold("Ségou ÉCOLE") == "segou ecole"


def test_paragraphs_split_on_blank_lines_or_single_newlines() -> None:
    assert paragraphs("a b\n\n c d \n\n") == ["a b", "c d"]
    assert paragraphs("one\ntwo") == ["one", "two"]


def test_site_furniture_is_boilerplate_but_reporting_is_not() -> None:
    assert is_boilerplate("Share")
    assert is_boilerplate("READ: Floods hit the capital")
    assert is_boilerplate("Sign up for our newsletter")
    assert is_boilerplate("Lire aussi : un autre article")
    assert not is_boilerplate("Shares in the mining company fell by a third on Monday.")
    assert not is_boilerplate("More than 30 people were killed in the attack, officials said.")


def test_text_hash_ignores_furniture_punctuation_and_case() -> None:
    original = "Gunmen attacked the market on Sunday.\n\nThe toll rose to 12, officials said."
    copy = (
        "Share\n\nGUNMEN attacked the market on Sunday!\n\nREAD: Other news"
        "\n\nThe toll rose to 12 — officials said."
    )
    assert text_hash(content_tokens(original)) == text_hash(content_tokens(copy))
    assert text_hash(content_tokens(original)) != text_hash(content_tokens(original + " More."))
