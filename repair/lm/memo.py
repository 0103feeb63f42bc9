"""The one least-recently-used store for what a model keeps between calls: left contexts' key/value caches,
scored continuations, draft steps, a document's windows. A hit gives what computing anew would.

>>> m = LRU[str, int](2)
>>> m.put("a", 1); m.put("b", 2); m.get("a"); m.put("c", 3)
1
>>> sorted(k for k, _ in m.items())
['a', 'c']
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """Entries by key, the least recently used first, within a budget: ``size`` entries, or ``size`` units of
    ``cost`` (a window's bytes, say).

    `get` counts as a use; ``in``, `peek` and `items` do not. `put` adds an entry (one already there is
    replaced where it stands) and drops the least recently used beyond the budget. `add` leaves the
    dropping to a later `trim`: the entries one call makes go in together and never push each other out
    midway, whoever else reads the store meanwhile (the tasks of `repair.lm.together` take turns).
    """

    def __init__(self, size: int, cost: Callable[[V], int] | None = None) -> None:
        self.size = size
        self.cost = cost
        self.used = 0
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The entry, now the most recently used; None if there is none."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def peek(self, key: K) -> V:
        """The entry, its place kept (a KeyError if there is none)."""
        return self._entries[key]

    def items(self) -> Iterator[tuple[K, V]]:
        """Every entry, the least recently used first, their places kept."""
        return iter(self._entries.items())

    def add(self, key: K, value: V) -> None:
        """Add an entry, or replace one where it stands; nothing is dropped until `trim`."""
        old = self._entries.get(key)
        if old is not None:
            self.used -= self._cost(old)
        self._entries[key] = value
        self.used += self._cost(value)

    def put(self, key: K, value: V) -> None:
        """`add` then `trim`."""
        self.add(key, value)
        self.trim()

    def trim(self) -> None:
        """Drop the least recently used entries until the rest fit the budget."""
        while self.used > self.size:
            self._drop()

    def fits(self, cost: int) -> bool:
        """Whether an entry of this cost fits beside those kept."""
        return self.used + cost <= self.size

    def make_room(self, cost: int) -> None:
        """Drop the least recently used entries until one of this cost fits (or none is left)."""
        while self._entries and not self.fits(cost):
            self._drop()

    def clear(self) -> None:
        self._entries.clear()
        self.used = 0

    def _drop(self) -> None:
        self.used -= self._cost(self._entries.popitem(last=False)[1])

    def _cost(self, value: V) -> int:
        return 1 if self.cost is None else self.cost(value)
