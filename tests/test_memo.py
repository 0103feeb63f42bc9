"""The one LRU type everything the model remembers is kept in, checked against a plain list (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from repair.lm.memo import LRU

OPS = st.lists(
    st.tuples(st.sampled_from(["get", "put", "add", "trim", "peek", "room"]), st.integers(0, 6), st.integers(1, 3)),
    max_size=60,
)


class Twin:
    """The naive twin: a list of [key, value], least recently used first, its cost the sum of the values."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.rows: list[list[int]] = []

    def where(self, key: int) -> int | None:
        return next((i for i, (k, _) in enumerate(self.rows) if k == key), None)

    def get(self, key: int) -> int | None:
        i = self.where(key)
        if i is None:
            return None
        self.rows.append(self.rows.pop(i))
        return self.rows[-1][1]

    def add(self, key: int, value: int) -> None:
        i = self.where(key)
        if i is None:
            self.rows.append([key, value])
        else:
            self.rows[i][1] = value

    def trim(self) -> None:
        while sum(v for _, v in self.rows) > self.size:
            self.rows.pop(0)

    def make_room(self, cost: int) -> None:
        while self.rows and sum(v for _, v in self.rows) + cost > self.size:
            self.rows.pop(0)


@given(OPS, st.integers(1, 8), st.booleans())
def test_the_lru_keeps_what_a_plain_list_keeps(ops: list[tuple[str, int, int]], size: int, costly: bool) -> None:
    lru: LRU[int, int] = LRU(size, cost=(lambda v: v) if costly else None)
    twin = Twin(size)
    for op, key, value in ops:
        value = value if costly else 1  # counted, the twin's cost is one an entry
        if op == "get":
            assert lru.get(key) == twin.get(key)
        elif op == "peek":
            i = twin.where(key)
            assert (lru.peek(key) if key in lru else None) == (None if i is None else twin.rows[i][1])
        elif op in ("put", "add"):
            lru.add(key, value) if op == "add" else lru.put(key, value)
            twin.add(key, value)
            if op == "put":
                twin.trim()
        elif op == "trim":
            lru.trim()
            twin.trim()
        else:
            assert lru.fits(value) == (sum(v for _, v in twin.rows) + value <= size)
            lru.make_room(value)
            twin.make_room(value)
        assert [(k, v) for k, v in lru.items()] == [(k, v) for k, v in twin.rows]
        assert lru.used == sum(v for _, v in twin.rows) and len(lru) == len(twin.rows)


def test_entries_added_together_are_trimmed_together() -> None:
    lru: LRU[str, int] = LRU(2)
    for key in "abcd":
        lru.add(key, 0)
    assert len(lru) == 4  # nothing dropped until the call that added them trims
    lru.get("a")
    lru.trim()
    assert [k for k, _ in lru.items()] == ["d", "a"]
