"""Shingles, winnowed fingerprints and the copy verification thresholds."""

from __future__ import annotations

import hashlib
import random

import numpy as np

from monitor.dedup import shingles as sh


def _words(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"w{rng.randrange(5000)}" for _ in range(count)]


def test_pack_round_trips() -> None:
    values = sh.shingle_hashes(_words(50, 1))
    assert frozenset(sh.unpack_sorted(sh.pack(values)).tolist()) == values


def test_any_long_enough_shared_run_shares_a_fingerprint() -> None:
    text = _words(400, 2)
    whole = sh.fingerprints(sh.shingle_sequence(text))
    run = sh.WINNOW + sh.SHINGLE_WORDS - 1
    for start in range(0, 400 - run, 7):
        part = sh.fingerprints(sh.shingle_sequence(text[start : start + run]))
        assert part & whole


def test_short_text_has_one_fingerprint_and_empty_has_none() -> None:
    assert len(sh.fingerprints(sh.shingle_sequence(_words(3, 3)))) == 1
    assert sh.fingerprints([]) == frozenset()


def test_lead_only_truncation_is_a_copy_by_containment() -> None:
    full = _words(300, 4)
    lead = full[:40]
    found = sh.overlap(sh.shingle_hashes(lead), sh.shingle_hashes(full))
    assert found.jaccard < 0.2
    assert found.containment == 1.0
    assert sh.is_copy(found, sh.CopyThresholds())


def test_unrelated_texts_and_tiny_texts_are_not_copies() -> None:
    t = sh.CopyThresholds()
    assert not sh.is_copy(
        sh.overlap(sh.shingle_hashes(_words(200, 5)), sh.shingle_hashes(_words(200, 6))), t
    )
    tiny = _words(10, 7)
    assert not sh.is_copy(
        sh.overlap(sh.shingle_hashes(tiny), sh.shingle_hashes(tiny + _words(100, 8))), t
    )


def test_half_shared_text_is_not_a_copy() -> None:
    a = _words(200, 9)
    b = a[:100] + _words(100, 10)
    assert not sh.is_copy(
        sh.overlap(sh.shingle_hashes(a), sh.shingle_hashes(b)), sh.CopyThresholds()
    )


def test_two_excerpts_sharing_a_long_passage_are_copies() -> None:
    """Real syndicated excerpts: 40+ shared shingles and more than half of the shorter text."""
    shared = _words(60, 11)
    a = _words(30, 12) + shared
    b = shared + _words(40, 13)
    found = sh.overlap(sh.shingle_hashes(a), sh.shingle_hashes(b))
    assert 0.5 < found.containment < 0.8 and found.jaccard < 0.5
    assert sh.is_copy(found, sh.CopyThresholds())
    short = sh.overlap(sh.shingle_hashes(a[:40] + _words(20, 14)), sh.shingle_hashes(b))
    assert short.shared < 30 and not sh.is_copy(short, sh.CopyThresholds())


def _blake32(shingle: str) -> int:
    """The shingle hash as first defined: stored values must keep comparing equal to new ones."""
    return int.from_bytes(
        hashlib.blake2b(shingle.encode("utf-8"), digest_size=4).digest(), "little"
    )


def test_shingle_hashes_keep_their_stored_values() -> None:
    assert sh.shingle_sequence(["wagner", "group", "killed", "civilians", "in", "moura"]) == [
        _blake32("wagner group killed civilians in"),
        _blake32("group killed civilians in moura"),
    ]
    assert sh.shingle_sequence(["segou"]) == [_blake32("segou")]
    assert sh.shingle_sequence(["a", "b", "c", "d", "e"]) == [
        1244911149
    ]  # a value stored by earlier versions
    words = ["مرتزقه", "قتلوا", "😀", "", "ß", "中文", "x" * 40, "1,000"]
    for k in range(-1, 9):
        count = max(len(words) - k + 1, 1)
        expected = [_blake32(" ".join(words[i : i + k])) for i in range(count)]
        assert sh.shingle_sequence(words, k) == expected, k


def test_fingerprints_are_the_minimum_of_every_window() -> None:
    rng = random.Random(4)
    for _ in range(500):
        sequence = [rng.randrange(2**32) for _ in range(rng.randrange(1, 50))]
        window = rng.randrange(1, 12)
        if len(sequence) <= window:
            expected = {min(sequence)}
        else:
            expected = {min(sequence[i : i + window]) for i in range(len(sequence) - window + 1)}
        assert sh.fingerprints(sequence, window) == expected


def test_overlap_of_sorted_arrays_equals_the_set_overlap() -> None:
    """The index compares cached sorted arrays (4 bytes a shingle); the result must be exactly
    the frozenset computation's, including empty and disjoint sets."""
    rng = random.Random(7)
    for _ in range(300):
        common = {rng.getrandbits(32) for _ in range(rng.randint(0, 300))}
        a = frozenset(common | {rng.getrandbits(32) for _ in range(rng.randint(0, 400))})
        b = frozenset(common | {rng.getrandbits(32) for _ in range(rng.randint(0, 400))})
        stored = sh.unpack_sorted(sh.pack(b))
        assert stored.tolist() == sorted(b)
        assert sh.overlap_sorted(sh.sorted_array(a), stored) == sh.overlap(a, b)


def test_prepared_fingerprints_are_the_sets_the_index_stores() -> None:
    """What a worker sends (`prepare_fingerprints`, computed on arrays) is exactly the stored form
    of the list-based definitions: the distinct shingles sorted and packed as uint32, and the
    winnowed fingerprints sorted, as plain ints; for texts of every length around the shingle
    and window sizes, repeated text included."""
    from array import array

    from monitor.dedup.prepare import prepare_fingerprints
    from monitor.dedup.text import content_tokens

    texts = [" ".join(_words(n, n)) for n in (0, 1, 4, 5, 6, 12, 13, 40, 400)]
    texts += [" ".join(_words(7, 1) * 20), "Ségou, Mopti et Tombouctou: 27 civils tués. " * 3]
    for text in texts:
        sequence = sh.shingle_sequence(content_tokens(text))
        prepared = prepare_fingerprints("Title", text)
        assert prepared.packed_shingles == array("I", sorted(set(sequence))).tobytes()
        assert prepared.shingle_count == len(set(sequence))
        assert prepared.fingerprints == tuple(sorted(sh.fingerprints(sequence)))
        assert all(type(v) is int for v in prepared.fingerprints)


def test_winnowing_an_array_equals_winnowing_the_list() -> None:
    rng = random.Random(11)
    for _ in range(300):
        sequence = [rng.choice([0, 2**31, 2**32 - 1, rng.getrandbits(32)]) for _ in range(60)]
        sequence = sequence[: rng.randrange(1, 60)]
        window = rng.randrange(1, 12)
        array_form = sh.winnowed(np.array(sequence, dtype=np.uint32), window)
        assert array_form.tolist() == sorted(sh.fingerprints(sequence, window))
        assert sh.pack(np.array(sequence, dtype=np.uint32)) == sh.pack(sequence)
