"""Language models behind one interface; the only module that imports torch.

STUB: the lm helper fills this in (see the issue text). The interface is fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

DEFAULT_MODEL = "smollm2"


class ModelError(RuntimeError):
    """A model cannot be found or loaded; the message names what to install."""


class LanguageModel(Protocol):
    name: str

    def score(self, left: str, candidates: Sequence[str], right: str) -> list[float]:
        """Log-probability of ``left + c + right`` for each candidate c (higher fits better)."""
        ...

    def propose(self, left: str, right: str, n_words: int, k: int = 10) -> list[tuple[str, float]]:
        """Up to k fillers of about ``n_words`` words for the gap between left and right, best first."""
        ...

    def surprisal(self, text: str) -> list[tuple[int, int, float]]:
        """Per model token: (char start, char end, surprisal in nats) over ``text``."""
        ...


def load_model(
    spec: str | None = None,
    *,
    cache_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> LanguageModel:
    """Load the default embedded model (spec None or "smollm2") or any HF masked LM by name or folder."""
    raise ModelError("not implemented yet")
