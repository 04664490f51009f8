"""A bounded in-process cache of immutable per-article values (story key sets, shingle sets)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

_V = TypeVar("_V")


class LruCache(Generic[_V]):
    """A bounded map of immutable per-article values (key sets, shingle sets).

    Entries are keyed by the article id *and* the stored row's publication time, and are only
    consulted for articles a database query has just returned, so a stale entry (an article
    pruned, or a rolled-back id reused) is never used: the cache only saves reading and decoding.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, str], _V] = OrderedDict()

    def get(self, key: tuple[int, str]) -> _V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: tuple[int, str], value: _V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
