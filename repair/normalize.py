"""Deterministic surface repairs with offsets kept: tokenization artifacts, mojibake, whitespace.

STUB: the normalize helper fills this in. The interface is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

from repair.edits import Edit, Layer
from repair.spans import Suspect


@dataclass(frozen=True)
class Normalized:
    """The input, the normalized text derived from it, and the gap suspects found on the way."""

    layer: Layer
    suspects: tuple[Suspect, ...] = ()  # gaps, in normalized-text offsets

    @property
    def source(self) -> str:
        return self.layer.base

    @property
    def text(self) -> str:
        return self.layer.text

    @property
    def edits(self) -> tuple[Edit, ...]:
        return self.layer.edits


def normalize(text: str) -> Normalized:
    """Normalize ``text``; every change is an Edit on ``text``."""
    return Normalized(Layer.identity(text))
