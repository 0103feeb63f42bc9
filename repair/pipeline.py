"""The whole path, read → normalize → align → detect → propose → decide, as one call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from repair.align import Alignment, Reference, align
from repair.decide import DEFAULT_MIN_CONFIDENCE, decide
from repair.detect import detect
from repair.edits import Edit, apply_edits
from repair.lm import LanguageModel
from repair.normalize import Normalized, normalize
from repair.propose import propose

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Result:
    """Everything a run found: the edits on the input, the output, and the alignment behind them."""

    source: str
    output: str
    edits: tuple[Edit, ...]
    doc: Normalized
    alignment: Alignment


def make_references(refs: Sequence[tuple[str, str]]) -> tuple[Reference, ...]:
    """Normalize (name, text) pairs with the same normalizer as the input."""
    return tuple(Reference(name, normalize(text)) for name, text in refs)


def repair_text(
    text: str,
    refs: Sequence[tuple[str, str]] = (),
    lm: LanguageModel | None = None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    progress: Progress | None = None,
) -> Result:
    """Repair ``text`` using the references (name, text) and the language model, if any."""
    say = progress or (lambda _msg: None)
    say("normalizing")
    doc = normalize(text)
    say("aligning")
    alignment = align(doc, make_references(refs))
    say("detecting")
    suspects = detect(doc, alignment, lm)
    say("proposing")
    proposals = propose(doc, suspects, alignment, lm)
    say("deciding")
    edits = decide(doc, proposals, min_confidence)
    return Result(text, apply_edits(text, edits), edits, doc, alignment)
