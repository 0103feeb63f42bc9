"""What flows between detect, propose and decide: suspects and their candidates.

Offsets here are into the *normalized* text (``Normalized.text``); `decide` lifts
them back to the input.
"""

from __future__ import annotations

from dataclasses import dataclass

from repair.edits import Evidence


@dataclass(frozen=True)
class Suspect:
    """A span that looks damaged; ``start == end`` marks a point where words are missing."""

    start: int
    end: int
    kind: str  # gap | substitution | duplicate | stray
    score: float  # 0..1: how sure the detector is that this is damage
    reason: str
    evidence: tuple[Evidence, ...] = ()
    readings: tuple[str, ...] = ()  # exact replacements a witness (a reference) offers for the span


@dataclass(frozen=True)
class Candidate:
    """One way to fill a suspect's span; ``text`` replaces ``doc.text[start:end]``."""

    text: str
    source: str  # ref | pronoun | lm | keep
    score: float  # log-probability of the sentence with this filler (higher is better)
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Proposal:
    suspect: Suspect
    candidates: tuple[Candidate, ...]  # best first
