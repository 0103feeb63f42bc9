"""Local alignment of the damaged text against each clean reference: where each one covers it, word by word.

`search` finds the passages (anchors of rare n-grams, chained and extended, aligned with
rapidfuzz) on the texts' `units`; what the differences inside them mean is labelled in
`repair.stages.label`, and the references' votes are counted in `repair.stages.witness`.

Nothing here depends on the order the references come in: they are sorted by
content, and ties are broken by content, never by position in the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from repair.stages.align.search import AlignSettings, Covered, Match, Stretch, matches
from repair.stages.align.units import Side, Unit, units
from repair.stages.normalize import Normalized
from repair.text.document import Document

__all__ = ["AlignSettings", "Aligned", "Covered", "Match", "Reference", "Side", "Stretch", "Unit", "align", "units"]


@dataclass(frozen=True)
class Reference:
    """A clean(er) copy of the story, normalized with the same normalizer."""

    name: str  # the path as the user gave it
    normalized: Normalized  # .source is the raw reference text

    @cached_property
    def document(self) -> Document:
        """The normalized reference as a `Document`, built once however many inputs it is a reference of."""
        return Document.of(self.normalized.text)


@dataclass(frozen=True)
class Aligned:
    """The input and the references as aligned, and every passage a reference covers (by input position)."""

    doc: Normalized
    refs: tuple[Reference, ...]  # sorted by content: `Match.ref` indexes this
    side: Side  # the input's units
    ref_sides: tuple[Side, ...]
    matches: tuple[Match, ...]


def align(doc: Normalized, refs: Sequence[Reference], settings: AlignSettings) -> Aligned:
    """Find every passage of ``doc`` a reference covers, and what differs inside it.

    The references come back sorted by content, so the result is the same whatever
    order they were given in.
    """
    ordered = tuple(sorted(refs, key=lambda r: (r.normalized.text, r.name, r.normalized.source)))
    if not ordered:  # nothing to align against: the input's units would go unread
        return Aligned(doc, ordered, Side(doc.text, ()), (), ())
    side = Side.of(doc.text)
    if not side.units:
        return Aligned(doc, ordered, side, (), ())
    ref_sides = tuple(Side.of(r.normalized.text) for r in ordered)
    found = [m for n, rside in enumerate(ref_sides) for m in matches(side, rside, n, settings)]
    found.sort(key=lambda p: (p.doc_start, p.doc_end, p.ref, p.ref_start))
    return Aligned(doc, ordered, side, ref_sides, tuple(found))
