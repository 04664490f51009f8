"""Word shingles, their 32-bit hashes, the sampled fingerprints used for lookup, verification.

A document is represented by the set of hashes of its word 5-shingles. Candidate copies are found
through *fingerprints*, a winnowed sample of those hashes (Schleimer, Wilkerson and Aiken 2003):
the smallest hash of every window of `WINNOW` consecutive shingles. Because the choice depends
only on the text, a copy that keeps any run of `WINNOW` + 4 of the original's words shares at least
one fingerprint with it, so the index finds lead-only truncations as well as full copies. Candidates
are then verified exactly on the full shingle sets: Jaccard for whole copies, containment of the
shorter in the longer for truncations.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

_PACKED = np.dtype(np.uint32)  # array("I"): the platform's 4-byte unsigned int, as pack writes it
PACKED_SIZE = _PACKED.itemsize  # bytes per shingle in a packed set
_DIGEST = np.dtype("<u4")  # a shingle's hash: its 4-byte digest read as little-endian

SHINGLE_WORDS = 5
WINNOW = 8


def shingle_sequence(words: Sequence[str], k: int = SHINGLE_WORDS) -> list[int]:
    """Hashes (unsigned 32-bit) of every run of `k` consecutive words, in text order."""
    return [int(h) for h in shingle_array(words, k).tolist()]


def shingle_array(words: Sequence[str], k: int = SHINGLE_WORDS) -> NDArray[np.uint32]:
    """:func:`shingle_sequence` as an array (what :func:`prepare_fingerprints` packs and winnows
    without building a Python int per shingle).

    A text of at most `k` words is one shingle. Each word is encoded once (a shingle's bytes are
    its words' UTF-8 joined by spaces: the UTF-8 of the shingle) and every digest is read at once.
    """
    if not words:
        return np.empty(0, dtype=_PACKED)
    if k < 1 or len(words) <= k:
        count = max(len(words) - k + 1, 1)
        return np.array([_hash32(" ".join(words[i : i + k])) for i in range(count)], _PACKED)
    encoded = [word.encode("utf-8") for word in words]
    digests: list[bytes] = []
    append, fresh = digests.append, _BLAKE2B_32.copy
    for shingle in map(b" ".join, zip(*(encoded[i:] for i in range(k)), strict=False)):
        hasher = fresh()
        hasher.update(shingle)
        append(hasher.digest())
    return np.frombuffer(b"".join(digests), dtype=_DIGEST).astype(_PACKED)


def shingle_hashes(words: Sequence[str], k: int = SHINGLE_WORDS) -> frozenset[int]:
    """The set of shingle hashes of `words` (see :func:`shingle_sequence`)."""
    return frozenset(shingle_sequence(words, k))


# An empty 4-byte BLAKE2b state: copying it is much cheaper than building one (keyword parsing).
_BLAKE2B_32 = hashlib.blake2b(digest_size=4)


def _hash32(shingle: str) -> int:
    """The 4-byte BLAKE2b digest of the UTF-8 shingle as a little-endian integer: stable across
    processes and versions, since stored shingle sets and fingerprints are compared with new
    ones."""
    hasher = _BLAKE2B_32.copy()
    hasher.update(shingle.encode("utf-8"))
    return int.from_bytes(hasher.digest(), "little")


def fingerprints(sequence: Sequence[int], window: int = WINNOW) -> frozenset[int]:
    """The winnowed sample of a shingle sequence: the minimum of every `window` consecutive hashes.

    A text shorter than one window contributes its minimum, so every non-empty text has at least
    one fingerprint.
    """
    values = np.asarray(sequence, dtype=np.uint64)  # any non-negative ints below 2**64
    return frozenset(int(v) for v in winnowed(values, window).tolist())


def winnowed(sequence: NDArray[Any], window: int = WINNOW) -> NDArray[Any]:
    """:func:`fingerprints` of an array of hashes, as a sorted array of distinct values."""
    if window < 1:
        raise ValueError(f"window must be at least 1, not {window}")
    if sequence.size <= window:
        return sequence[:0] if not sequence.size else np.array([sequence.min()], sequence.dtype)
    return np.unique(window_minima(sequence, window))


def window_minima(sequence: NDArray[Any], window: int) -> NDArray[Any]:
    """``[min(sequence[i : i + window]) for i in range(len(sequence) - window + 1)]``, computed by
    doubling: the minima of runs of 1, 2, 4... values, then two overlapping runs per window
    (about log2(window) passes of pairwise minima instead of `window` comparisons per value)."""
    runs = sequence  # runs[i] = min(sequence[i : i + width])
    width = 1
    while width * 2 <= window:
        runs = np.minimum(runs[: runs.size - width], runs[width:])
        width *= 2
    if width < window:
        runs = np.minimum(runs[: runs.size - (window - width)], runs[window - width :])
    return runs


def pack(shingles: Iterable[int]) -> bytes:
    """Serialise a shingle set (or a sequence: repeats are dropped) compactly for storage: its
    distinct values sorted, as the platform's uint32 (what :func:`unpack_sorted` reads)."""
    if isinstance(shingles, np.ndarray):
        return np.unique(shingles.astype(_PACKED, copy=False)).tobytes()
    values = array("I", shingles)  # from ints: faster than numpy's conversion
    return np.unique(np.frombuffer(values, dtype=_PACKED)).tobytes()


def unpack_sorted(blob: bytes) -> NDArray[np.uint32]:
    """A packed shingle set as its sorted array, without copying (what the index caches: 4 bytes
    a shingle, where a frozenset of ints takes about 60)."""
    return np.frombuffer(blob, dtype=_PACKED)


def sorted_array(shingles: Iterable[int]) -> NDArray[np.uint32]:
    """A shingle set as a sorted array (the form :func:`overlap_sorted` compares)."""
    return np.sort(np.fromiter(shingles, dtype=_PACKED))


def overlap_sorted(a: NDArray[np.uint32], b: NDArray[np.uint32]) -> Overlap:
    """:func:`overlap` of two shingle sets given as sorted arrays of distinct values (the same
    result, computed by one merge in C instead of a set intersection)."""
    if not a.size or not b.size:
        return Overlap(0.0, 0.0, 0)
    shared = int(np.intersect1d(a, b, assume_unique=True).size)
    smaller = min(a.size, b.size)
    return Overlap(shared / (a.size + b.size - shared), shared / smaller, smaller, shared)


@dataclass(frozen=True)
class Overlap:
    """How much two shingle sets share."""

    jaccard: float
    containment: float  # share of the smaller set found in the larger one
    smaller: int
    shared: int = 0  # shingles found in both

    def describe(self) -> str:
        return f"jaccard={self.jaccard:.2f} containment={self.containment:.2f}"


def overlap(a: frozenset[int], b: frozenset[int]) -> Overlap:
    """Jaccard and containment of the smaller set in the larger one."""
    if not a or not b:
        return Overlap(0.0, 0.0, 0)
    shared = len(a & b)
    smaller = min(len(a), len(b))
    return Overlap(shared / (len(a) + len(b) - shared), shared / smaller, smaller, shared)


@dataclass(frozen=True)
class CopyThresholds:
    """When an overlap makes two texts copies of one another (see docs/dedup.md for why)."""

    min_jaccard: float = 0.5
    min_containment: float = 0.8
    # Containment alone is trusted only for a copy at least this long (in shingles): a short text
    # is easily "contained" in a long one by chance quotation.
    min_contained_shingles: int = 20
    # Below this many shingles an article is never treated as a near-duplicate.
    min_shingles: int = 20
    # Different excerpts of one wire text on real sites share long passages but neither contains
    # the other: this many shared shingles (about 34 words in common) with more than half of the
    # shorter text is a copy too. On the real-news corpus the most two distinct texts shared was
    # 21 (containment 0.45); pairs of one syndication group sharing 32-80 had containment
    # 0.45-0.69. A text sharing only half of itself (a roundup quoting a wire story, then
    # reporting something else) stays apart.
    min_shared_passage: int = 30
    passage_containment: float = 0.5


def is_copy(found: Overlap, thresholds: CopyThresholds) -> bool:
    """Whether `found` is strong enough to call the two texts copies."""
    if found.smaller < thresholds.min_shingles:
        return False
    if found.jaccard >= thresholds.min_jaccard:
        return True
    if (
        found.shared >= thresholds.min_shared_passage
        and found.containment >= thresholds.passage_containment
    ):
        return True
    return (
        found.containment >= thresholds.min_containment
        and found.smaller >= thresholds.min_contained_shingles
    )
