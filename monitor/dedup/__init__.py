"""Deduplication: syndicated copies of one text, and stories grouping write-ups of one event.

The pipeline calls :class:`DedupIndex` once per new article; see ``docs/dedup.md`` for how copies
and stories are decided. Pure building blocks live in ``text``, ``shingles`` and ``story``; the
persistent index in ``index`` and ``tables``; the corpus evaluation in ``quality``.
"""

from monitor.dedup.index import DedupIndex
from monitor.dedup.model import CarriedBy, DedupInput, DedupResult, Regrouped
from monitor.dedup.prepare import Fingerprints, prepare_fingerprints

__all__ = [
    "CarriedBy",
    "DedupIndex",
    "DedupInput",
    "DedupResult",
    "Fingerprints",
    "Regrouped",
    "prepare_fingerprints",
]
