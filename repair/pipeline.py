"""The whole path, read → normalize → align → detect → propose → decide, as one call.

This is the edge where the run's settings (`repair.stages.settings`) and calibration map are read, once,
and handed to every stage; the `Document` of the normalized input is built here once for every stage, and
the document context the model keeps from detection's read is handed to proposing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Protocol

from repair.edits import Edit, apply_edits
from repair.lm import TOGETHER_TASKS, LanguageModel
from repair.lm.base import DocumentContext
from repair.stages.align import Reference, align
from repair.stages.calibrate import CalibrationMap, default_map
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE, decide
from repair.stages.detect import detect, token_surprisal
from repair.stages.label import labelled
from repair.stages.normalize import DEFAULTS, Normalized, NormalizeSettings, normalize
from repair.stages.propose import ProposeSettings, propose
from repair.stages.settings import Settings, default_settings
from repair.stages.spans import Proposal, Suspect
from repair.stages.story import Story
from repair.stages.witness import Alignment, witness
from repair.text.document import Document

# suspects proposed for between two progress reports: the model's own wave, so the merged passes are
# the ones a single call makes
PROPOSE_WAVE = TOGETHER_TASKS


class Progress(Protocol):
    """Told each stage as it starts and, in the long ones, how many of its ``total`` items are ``done``."""

    def __call__(self, stage: str, done: int = 0, total: int = 0, /) -> None: ...


def _quiet(stage: str, done: int = 0, total: int = 0, /) -> None:
    """A progress callback that shows nothing."""


@dataclass(frozen=True)
class Result:
    """Everything a run found: the edits on the input, the output, and the alignment behind them."""

    source: str
    output: str
    edits: tuple[Edit, ...]
    doc: Normalized
    alignment: Alignment
    proposals: tuple[Proposal, ...] = ()  # on ``doc.text``: every suspect's ranked candidates, edit or not


def make_references(refs: Sequence[tuple[str, str]], settings: NormalizeSettings = DEFAULTS) -> tuple[Reference, ...]:
    """Normalize (name, text) pairs with the same normalizer as the input."""
    return tuple(Reference(name, normalize(text, settings)) for name, text in refs)


def align_references(doc: Normalized, references: Sequence[Reference], settings: Settings | None = None) -> Alignment:
    """Where each reference covers ``doc`` (`repair.stages.align`), what differs there (`repair.stages.label`)
    and what the references agree on (`repair.stages.witness`)."""
    s = default_settings() if settings is None else settings
    aligned = align(doc, references, s.align)
    return witness(aligned, labelled(aligned, s.label), s.witness)


def repair_text(
    text: str,
    refs: Sequence[tuple[str, str]] = (),
    lm: LanguageModel | None = None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    progress: Progress | None = None,
    calibration: CalibrationMap | None = None,
    settings: Settings | None = None,
) -> Result:
    """Repair ``text`` using the references (name, text) and the language model, if any.

    ``calibration`` maps raw confidences to the share of edits like them that were right; by default
    the shipped map, or the one ``REPAIR_CALIBRATION`` names, read here once for the whole run.
    ``settings`` are every stage's numbers; by default the shipped ones (`repair.stages.settings`).
    """
    cmap = default_map() if calibration is None else calibration
    s = default_settings() if settings is None else settings
    references = _references(tuple((name, ref) for name, ref in refs), s.normalize)
    return _repair(text, references, lm, min_confidence=min_confidence, progress=progress, cmap=cmap, settings=s)


@lru_cache(maxsize=4)
def _references(refs: tuple[tuple[str, str], ...], settings: NormalizeSettings) -> tuple[Reference, ...]:
    """`make_references`, kept for the next call with the same references: a big file's chunks, repaired one
    call each in a worker process, share theirs (as `repair_stream` shares them), and so their documents."""
    return make_references(refs, settings)


def _repair(
    text: str,
    references: Sequence[Reference],
    lm: LanguageModel | None,
    *,
    min_confidence: float,
    progress: Progress | None,
    cmap: CalibrationMap,
    settings: Settings,
) -> Result:
    say = progress or _quiet
    say("normalizing")
    doc = normalize(text, settings.normalize)
    document = Document.of(doc.text)  # tokens, sentences and names, found once for every stage
    say("aligning")
    alignment = align_references(doc, references, settings)
    say("detecting")
    read = token_surprisal(document.text, document.tokens, lm) if lm is not None else None
    suspects = detect(doc, document, alignment, read.values if read else None, settings.detect)
    say("proposing")
    story = Story.of(document, alignment.refs, settings.propose.sources)
    context = read.context if read else None  # the model's read of the document, for the gaps in it
    proposals = propose_all(document, story, suspects, lm, settings.propose, context, say)
    say("deciding")
    edits = decide(doc, proposals, min_confidence, cmap, settings.decide, with_model=lm is not None)
    return Result(text, apply_edits(text, edits), edits, doc, alignment, proposals)


def propose_all(
    document: Document,
    story: Story,
    suspects: Sequence[Suspect],
    lm: LanguageModel | None,
    settings: ProposeSettings,
    context: DocumentContext | None = None,
    progress: Progress = _quiet,
) -> tuple[Proposal, ...]:
    """`propose` for every suspect; with a model that can, the suspects are worked on side by side.

    Each suspect's candidates depend on it alone, so proposing one at a time gives what one call
    gives; side by side, the model merges their forward passes, which costs far fewer of them.
    ``context`` is what the model kept of the document when detection read it (`token_surprisal`);
    ``progress`` hears ("proposing", done, total) after each wave of suspects.
    """
    if lm is None or len(suspects) < 2:
        return propose(document, story, suspects, lm, settings, context)
    out: list[Proposal] = []
    for i in range(0, len(suspects), PROPOSE_WAVE):
        wave = suspects[i : i + PROPOSE_WAVE]
        parts = lm.run_together([partial(propose, document, story, (s,), lm, settings, context) for s in wave])
        out += (p for part in parts for p in part)
        progress("proposing", i + len(wave), len(suspects))
    return tuple(out)


@dataclass(frozen=True)
class ChunkResult:
    """One chunk of a text repaired on its own; its edits are in offsets of the whole text."""

    start: int  # offset of the chunk in the whole text
    source: str
    output: str
    edits: tuple[Edit, ...]
    model: str = ""  # the model's name, when a worker process repaired the chunk with the model it loaded


def repair_stream(
    chunks: Iterable[tuple[int, str]],
    refs: Sequence[tuple[str, str]] = (),
    lm: LanguageModel | None = None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    progress: Progress | None = None,
    calibration: CalibrationMap | None = None,
    settings: Settings | None = None,
) -> Iterator[ChunkResult]:
    """Repair a text given as (offset, chunk) pairs one chunk at a time, for texts too big to hold.

    The references are normalized once; each chunk is repaired as `repair_text` would,
    so memory holds one chunk's results (see `repair.corpus.chunks` for cutting a file).
    The calibration map and the settings are read once, as the references are normalized once;
    ``progress`` hears each chunk's stages.
    """
    cmap = default_map() if calibration is None else calibration
    s = default_settings() if settings is None else settings
    references = make_references(refs, s.normalize)
    for start, text in chunks:
        r = _repair(text, references, lm, min_confidence=min_confidence, progress=progress, cmap=cmap, settings=s)
        shifted = tuple(replace(e, start=e.start + start, end=e.end + start) for e in r.edits)
        yield ChunkResult(start, text, r.output, shifted)
