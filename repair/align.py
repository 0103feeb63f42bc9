"""Local alignment of the damaged text against each clean reference.

STUB: the align helper fills this in. The interface is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from repair.normalize import Normalized


@dataclass(frozen=True)
class Reference:
    """A clean(er) copy of the story, normalized with the same normalizer."""

    name: str  # the path as the user gave it
    normalized: Normalized  # .source is the raw reference text


@dataclass(frozen=True)
class Difference:
    """One token-level difference inside an aligned passage (normalized offsets on both sides)."""

    doc_start: int
    doc_end: int
    ref_start: int
    ref_end: int
    doc_text: str
    ref_text: str
    label: str  # damage | variation
    confidence: float  # 0..1 that the reference wording is the original here


@dataclass(frozen=True)
class Passage:
    """A stretch of the document that one reference covers closely."""

    ref: int  # index into the references
    doc_start: int
    doc_end: int
    ref_start: int
    ref_end: int
    score: float  # 0..1 similarity of the two stretches
    differences: tuple[Difference, ...]


@dataclass(frozen=True)
class Alignment:
    refs: tuple[Reference, ...]
    passages: tuple[Passage, ...]

    def covering(self, start: int, end: int) -> list[Passage]:
        """Passages whose document span contains [start, end)."""
        return [p for p in self.passages if p.doc_start <= start and end <= p.doc_end]


def align(doc: Normalized, refs: Sequence[Reference]) -> Alignment:
    """Find every passage of ``doc`` a reference covers, and the differences inside it."""
    return Alignment(tuple(refs), ())
