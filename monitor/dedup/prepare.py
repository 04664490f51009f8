"""The pure, picklable part of deduplication: everything computed from an article's own text.

:func:`prepare_fingerprints` turns a title and body into a :class:`Fingerprints` value (text hash,
shingle set, winnowed lookup fingerprints, story keys), in the forms the index stores and sends
(the shingle set packed, the fingerprints sorted). It touches no database and no shared
state, so a worker process may compute it and hand it to the writer inside the ``DedupInput``;
the writer then does only the index lookups. ``DedupIndex.classify`` computes it itself when the
input carries none.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.dedup import shingles as sh
from monitor.dedup.keys import story_keys
from monitor.dedup.text import content_tokens, text_hash

MIN_HASHED_WORDS = 8  # texts shorter than this are never hashed (title-only entries would collide)
MAX_KEY_LENGTH = 120  # the width of dedup_story_keys.key


@dataclass(frozen=True)
class Fingerprints:
    """What deduplication needs from one article's text; plain values, safe to pickle."""

    text_hash: str | None
    # the shingle set, sorted and packed (`shingles.pack`): what the index stores and compares,
    # and a worker's result unpickles in ~1 us where a frozenset of ~1,000 ints took ~50
    packed_shingles: bytes
    fingerprints: tuple[int, ...]  # sorted, distinct
    story_keys: frozenset[str]

    @property
    def shingle_count(self) -> int:
        return len(self.packed_shingles) // sh.PACKED_SIZE


def prepare_fingerprints(title: str, text: str) -> Fingerprints:
    """Normalise `text`, shingle it, sample lookup fingerprints and extract the story keys."""
    words = content_tokens(text)
    sequence = sh.shingle_array(words)
    return Fingerprints(
        text_hash=text_hash(words) if len(words) >= MIN_HASHED_WORDS else None,
        packed_shingles=sh.pack(sequence),
        fingerprints=tuple(int(v) for v in sh.winnowed(sequence).tolist()),
        story_keys=frozenset(k[:MAX_KEY_LENGTH] for k in story_keys(title, text)),
    )
