"""Candidates for each suspect: from aligned references first, then pronouns, then the model."""

from __future__ import annotations

from collections.abc import Sequence

from repair.align import Alignment
from repair.lm import LanguageModel
from repair.normalize import Normalized
from repair.spans import Proposal, Suspect


def propose(
    doc: Normalized, suspects: Sequence[Suspect], alignment: Alignment, lm: LanguageModel | None
) -> tuple[Proposal, ...]:
    """Ranked candidates per suspect, best first."""
    return tuple(Proposal(s, ()) for s in suspects)
