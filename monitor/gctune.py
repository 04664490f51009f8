"""Garbage-collector settings of the long-running processes (the daemon and its workers).

CPython's defaults run a young-generation collection every 700 net allocations and, now and
then, a full collection that walks every tracked object, those built at start-up included
(modules, compiled rules, models: ~130,000 objects in the daemon). In a first cycle of 1,000
sources x 20 entries that was 1,810 collections and 3.5 s of the main process's 47 CPU-s
(gc callbacks). `tune()` collects once, freezes what exists (start-up objects are never
walked again; reference counting still frees them if they are dropped) and makes the young
generation larger, so collections are rarer. Only cyclic garbage waits longer.
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # allocations between two young-generation collections (CPython: 700)
MIDDLE = 20  # young collections per middle one (CPython: 10)
OLD = 50  # middle collections per full one (CPython: 10; a full one also needs growth)


def tune() -> None:
    """Call once a process has built what it keeps for its life (after warm-up)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
