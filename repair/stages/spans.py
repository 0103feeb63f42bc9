"""What flows between detect, propose and decide: suspects and their candidates.

Offsets here are into the *normalized* text (``Normalized.text``); `decide` lifts
them back to the input.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from repair.edits import Cause, Evidence, Source, SuspectKind
from repair.text.entities import Mention


@dataclass(frozen=True)
class Suspect:
    """A span that looks damaged; ``start == end`` marks a point where words are missing.

    ``cause`` says which sign made it suspect; a pasted name (cause ``mention``) carries the
    `Mention` detect found, so that propose knows the name without finding it again.
    """

    start: int
    end: int
    kind: SuspectKind
    score: float  # 0..1: how sure the detector is that this is damage
    reason: str
    evidence: tuple[Evidence, ...] = ()
    readings: tuple[str, ...] = ()  # exact replacements a witness (a reference) offers for the span
    _: KW_ONLY
    cause: Cause
    mention: Mention | None = None


@dataclass(frozen=True)
class Candidate:
    """One way to fill a suspect's span; ``text`` replaces ``doc.text[start:end]``."""

    text: str
    source: Source
    score: float  # log-probability of the sentence with this filler (higher is better)
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Proposal:
    suspect: Suspect
    candidates: tuple[Candidate, ...]  # best first
