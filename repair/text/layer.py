"""A text seen through a list of edits: offsets mapped between the input and the edited text, and passes
of edits composed into one list in the input's offsets."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from repair.edits import Edit, EditError, check_edits


@dataclass(frozen=True)
class Layer:
    """A derived text made from ``base`` by ``edits``, with the map between the two.

    Lifting a span of the derived text back to the base widens it to whole edits,
    so a later edit absorbs the earlier edits it touches instead of cutting them.
    """

    base: str
    edits: tuple[Edit, ...]
    text: str = field(init=False)
    # one row per edit: (derived start, derived end, base start, base end)
    _rows: tuple[tuple[int, int, int, int], ...] = field(init=False, repr=False)
    # the rows' derived starts, derived ends and base starts, each non-decreasing: bisected so
    # a lookup costs log n, not n (a long text has thousands of normalization edits)
    _keys: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(check_edits(self.base, self.edits))
        rows: list[tuple[int, int, int, int]] = []
        parts: list[str] = []
        pos = shift = 0
        for e in ordered:
            parts.append(self.base[pos : e.start])
            d0 = e.start + shift
            rows.append((d0, d0 + len(e.after), e.start, e.end))
            parts.append(e.after)
            shift += len(e.after) - (e.end - e.start)
            pos = e.end
        parts.append(self.base[pos:])
        object.__setattr__(self, "edits", ordered)
        object.__setattr__(self, "text", "".join(parts))
        object.__setattr__(self, "_rows", tuple(rows))
        keys = tuple(tuple(r[k] for r in rows) for k in range(3))
        object.__setattr__(self, "_keys", keys)

    @classmethod
    def identity(cls, text: str) -> Layer:
        """A layer with no edits: the derived text is the base."""
        return cls(text, ())

    def _touched(self, start: int, end: int) -> list[int]:
        """Indexes of the edits a derived span cannot be mapped through without cutting."""
        hit = []
        # every case below needs d1 >= start
        for i in range(bisect.bisect_left(self._keys[1], start), len(self._rows)):
            d0, d1, b0, b1 = self._rows[i]
            if d0 > end:
                break
            if start < d1 and d0 < end:  # the span and the edit's output overlap
                hit.append(i)
            elif b0 == b1 and start <= d1 and d0 <= end:  # two insertions at one base point would clash
                hit.append(i)
            elif d0 == d1 and start < d0 < end:  # a deletion strictly inside the span
                hit.append(i)
            elif start == end and d0 < start < d1:  # an insertion point inside an edit's output
                hit.append(i)
        return hit

    def _base_pos(self, d: int, *, after_deletions: bool) -> int:
        """Base offset of a derived position that lies outside every edit's output."""
        starts, ends, _ = self._keys
        i = bisect.bisect_left(starts, d)  # rows before i start before d
        while after_deletions and i < len(starts) and starts[i] == d == ends[i]:
            i += 1
        return d if i == 0 else d + self._rows[i - 1][3] - self._rows[i - 1][1]

    def _widen(self, start: int, end: int) -> tuple[int, int, int, int, frozenset[int]]:
        if not 0 <= start <= end <= len(self.text):
            raise EditError(f"span {start}-{end} lies outside the derived text")
        idx: set[int] = set(self._touched(start, end))
        while True:
            ds = min([start] + [self._rows[i][0] for i in idx])
            de = max([end] + [self._rows[i][1] for i in idx])
            bs = min([self._base_pos(ds, after_deletions=True)] + [self._rows[i][2] for i in idx])
            be = max([bs, self._base_pos(de, after_deletions=False)] + [self._rows[i][3] for i in idx])
            # whatever the widened span now covers, in either text, is swallowed too
            new = set(self._touched(ds, de))
            for i in range(bisect.bisect_left(self._keys[2], bs), len(self._rows)):
                _, _, b0, b1 = self._rows[i]
                if b0 > be:
                    break
                if b1 <= be and (b0 < b1 or bs < b0 < be):
                    new.add(i)
            if new <= idx:
                return bs, be, ds, de, frozenset(idx)
            idx |= new

    def to_base(self, start: int, end: int) -> tuple[int, int, int, int]:
        """Map derived span [start, end) to (base_start, base_end, derived_start, derived_end).

        The spans are widened so no edit of this layer is cut in two:
        ``base[bs:be]`` became ``text[ds:de]``.
        """
        return self._widen(start, end)[:4]

    def absorbed_by(self, start: int, end: int) -> tuple[Edit, ...]:
        """The layer's edits that a lift of derived span [start, end) swallows."""
        return tuple(self.edits[i] for i in sorted(self._widen(start, end)[4]))

    def lift(self, edit: Edit) -> Edit:
        """Express one edit on the derived text as an edit on the base."""
        return self.lift_group([edit])[0]

    def lift_group(self, edits: Sequence[Edit]) -> list[Edit]:
        """Lift non-overlapping derived-text edits; those that widen into each other fuse."""
        ordered = check_edits(self.text, edits)
        groups: list[tuple[int, int, list[Edit]]] = []
        for e in ordered:
            _, _, ds, de = self.to_base(e.start, e.end)
            if groups and ds < groups[-1][1]:
                g0, g1, members = groups.pop()
                groups.append((g0, max(g1, de), [*members, e]))
            else:
                groups.append((ds, de, [e]))
        out: list[Edit] = []
        for ds, de, members in groups:
            bs, be, ds, de = self.to_base(ds, de)
            after = _spliced(self.text, ds, de, members)
            absorbed = self.absorbed_by(ds, de)
            lead = max(members, key=lambda m: m.confidence)
            at = members.index(lead)
            # each alternative of the lead, in base terms: the group's text with the lead's replacement swapped
            alternatives = tuple((_spliced(self.text, ds, de, members, at, t), sh) for t, sh in lead.alternatives)
            evidence = tuple(ev for a in absorbed for ev in a.evidence) + tuple(
                ev for m in members for ev in m.evidence
            )
            out.append(
                replace(
                    lead,
                    start=bs,
                    end=be,
                    before=self.base[bs:be],
                    after=after,
                    evidence=evidence,
                    alternatives=alternatives,
                )
            )
        return out


def _spliced(text: str, start: int, end: int, edits: Sequence[Edit], at: int = -1, swap: str = "") -> str:
    """``text[start:end]`` with ``edits`` (checked, in order, inside it) applied, applied or not, the one at ``at``
    replaced by ``swap``: what `apply_edits` gives on the slice, without copying each edit into its offsets.

    >>> e = [Edit(1, 2, "b", "B", "x", 1), Edit(3, 3, "", "!", "x", 1)]
    >>> _spliced("abcd", 0, 4, e), _spliced("abcd", 1, 3, e, 0, "")
    ('aBc!d', 'c!')
    """
    parts: list[str] = []
    pos = start
    for k, e in enumerate(edits):
        parts += (text[pos : e.start], swap if k == at else e.after)
        pos = e.end
    parts.append(text[pos:end])
    return "".join(parts)


def compose(base: str, passes: Iterable[Sequence[Edit]]) -> tuple[Edit, ...]:
    """Turn edits made pass after pass (each on the previous pass's output) into edits on ``base``.

    A later edit that touches earlier ones absorbs them: its span widens to cover
    them and its evidence keeps theirs.
    """
    current: tuple[Edit, ...] = ()
    for edits in passes:
        if not edits:
            continue
        layer = Layer(base, current)
        lifted = layer.lift_group(edits)
        gone = {id(a) for e in edits for a in layer.absorbed_by(e.start, e.end)}
        current = tuple(sorted([e for e in current if id(e) not in gone] + lifted, key=lambda e: (e.start, e.end)))
    return current
