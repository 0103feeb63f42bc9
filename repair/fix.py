"""What `repair fix` does, as one library call: a text file and its references in, the repaired text, the edit
list and the report out, every output checked before the slow part and none written unless all can be."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from repair.corpus import chunks
from repair.corpus.chunks import is_big, repair_file, scan_file
from repair.corpus.runners import LMFactory, no_model
from repair.edits import Edit
from repair.files.commit import check_outputs, write_all
from repair.files.editlist import dump_edits, sha256
from repair.files.outputs import default_outputs, read_inputs, read_references
from repair.files.textio import InputError, open_input
from repair.lm import LanguageModel
from repair.lm.modelspec import check_model_spec
from repair.pipeline import repair_text
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE
from repair.text.tokens import count_words
from repair.views.estimate import model_time_note
from repair.views.export import export as export_edits
from repair.views.progress import Meter, stream_progress, text_progress
from repair.views.report import render_report

EXPORT_SUFFIXES = {"json": ".json", "m2": ".m2", "tei": ".tei.xml"}
LoadModel = Callable[[], LanguageModel | None]
# a progress display: given the words of the run, the `Meter` to open and move through it
OpenMeter = Callable[[int], Meter]


@dataclass(frozen=True)
class Fixed:
    """What a fix wrote: its outputs by what they hold, and the counts of its edits by kind.

    ``streamed`` is the input's size in chars when it was too big to hold and went chunk by chunk
    (then there is no report), else 0. ``with_alternatives`` held edits offer a reviewer alternatives,
    ``questions`` flagged spans are asked about (both counted in ``held``; not counted when streamed).
    """

    targets: dict[str, Path]
    applied: Counter[str]
    held: Counter[str]
    streamed: int = 0
    with_alternatives: int = 0
    questions: int = 0


def fix_targets(
    input_path: Path, out: Path | None, edits: Path | None, report: Path | None, fmt: str = "json"
) -> dict[str, Path]:
    """The three outputs: the paths given, else beside the input (the edit list's suffix after ``fmt``)."""
    d_out, d_edits, d_report = default_outputs(input_path)
    if fmt != "json":
        d_edits = d_edits.with_name(d_edits.name.removesuffix(".json") + EXPORT_SUFFIXES[fmt])
    targets = {"repaired text": out or d_out, "edit list": edits or d_edits, "report": report or d_report}
    if len({p.resolve() for p in targets.values()}) < len(targets):
        raise InputError("--out, --edits and --report must be three different files")
    return targets


def counts(edits: Sequence[Edit]) -> tuple[Counter[str], Counter[str]]:
    """Edits by kind: applied, and held back."""
    return Counter(e.kind for e in edits if e.applied), Counter(e.kind for e in edits if not e.applied)


def review_counts(edits: Sequence[Edit]) -> tuple[int, int]:
    """How many held edits offer alternatives to choose from, and how many flagged spans are questions."""
    asked = sum(1 for e in edits if e.question)
    return sum(1 for e in edits if not e.applied and not e.question and len(e.alternatives) > 1), asked


def fix_file(
    input_path: Path,
    refs: Sequence[Path],
    load_lm: LoadModel,
    *,
    model: str | None = None,
    out: Path | None = None,
    edits: Path | None = None,
    report: Path | None = None,
    fmt: str = "json",
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    progress: OpenMeter | None = None,
    notify: Callable[[str], None] | None = None,
    workers: int = 1,
    lm_factory: LMFactory = no_model,
) -> Fixed:
    """Repair ``input_path`` into the three outputs of `fix_targets`; the model is loaded (``load_lm``) only
    once every input and output has passed its checks. ``model`` is the --model spec ``load_lm`` loads
    (None: the embedded default), checked first: a wrong one is told before the model libraries load.
    An input too big to hold goes chunk by chunk (`repair.corpus.chunks.repair_file`) with no report; with
    ``workers`` > 1 its chunks are repaired in that many processes, each loading the model with
    ``lm_factory`` (picklable: the model ``load_lm`` loads, or `no_model`), never in this one.

    ``progress(words)`` gives the meter the run moves, whole or streamed; ``notify`` hears, before the
    model loads, how long a long model run will take and what --no-model would do instead (pass it
    only when a model is to be loaded)."""
    check_model_spec(model)
    open_input(input_path, what="input").close()  # a missing, special or unnameable input is told as such
    targets = fix_targets(input_path, out, edits, report, fmt)
    check_outputs(list(targets.values()), protect=(input_path, *refs))  # before the slow part, not after
    if is_big(input_path):
        if fmt != "json":
            raise InputError(f"--format {fmt} is not available for inputs this big (streamed in chunks): use json")
        if workers > 1:
            load_lm = no_model  # each worker loads its own
        return _fix_streamed(input_path, refs, targets, load_lm, min_confidence, progress, notify, workers, lm_factory)
    text, ref_texts = read_inputs(input_path, refs)
    words = count_words(text)
    _tell_time(words, notify)
    lm = load_lm()
    with progress(words) if progress else nullcontext(None) as meter:
        say = text_progress(meter, words) if meter is not None else None
        result = repair_text(text, ref_texts, lm, min_confidence=min_confidence, progress=say)
    names, model = [str(r) for r in refs], lm.name if lm is not None else ""
    hashes = [sha256(t) for _, t in ref_texts]
    if fmt == "json":
        edit_list = dump_edits(
            text,
            result.edits,
            input_name=str(input_path),
            refs=names,
            ref_sha256=hashes,
            model=model,
            min_confidence=min_confidence,
        )
    else:
        # the run's model and threshold travel with the export as with the edit list
        edit_list = export_edits(
            text, result.edits, fmt, input_name=str(input_path), refs=names, model=model, min_confidence=min_confidence
        )
    page = render_report(
        text,
        result.edits,
        result.alignment.refs,
        result.alignment,
        title=f"repair: {input_path.name}",
        doc=result.doc,
        min_confidence=min_confidence,
        input_name=str(input_path),
    )
    write_all(
        {targets["repaired text"]: result.output, targets["edit list"]: edit_list, targets["report"]: page},
        protect=(input_path, *refs),
    )
    return Fixed(targets, *counts(result.edits), 0, *review_counts(result.edits))


def _fix_streamed(
    input_path: Path,
    refs: Sequence[Path],
    targets: dict[str, Path],
    load_lm: LoadModel,
    min_confidence: float,
    progress: OpenMeter | None,
    notify: Callable[[str], None] | None,
    workers: int = 1,
    lm_factory: LMFactory = no_model,
) -> Fixed:
    """`fix_file` for an input too big to hold: read, repaired and written chunk by chunk.

    Every check runs before the model loads; no HTML report (a browser cannot show one this big).
    With workers the meter moves as chunks are written, not through a chunk's stages.
    """
    scan = scan_file(input_path)
    ref_texts = read_references(input_path, refs)
    _tell_time(scan.words, notify, workers)
    lm = load_lm()
    with progress(scan.words) if progress else nullcontext(None) as meter:
        size = chunks.DEFAULT_CHUNK_CHARS  # looked up now: a test may make the chunks small
        on_chunk, say = (None, None) if meter is None else stream_progress(meter, scan.chars, size)
        done = repair_file(
            input_path,
            targets["repaired text"],
            targets["edit list"],
            ref_texts,
            lm,
            min_confidence=min_confidence,
            model_name=lm.name if lm is not None else "",
            protect=refs,
            scan=scan,
            on_chunk=on_chunk,
            progress=say if workers <= 1 else None,
            workers=workers,
            lm_factory=lm_factory,
        )
    written = {what: path for what, path in targets.items() if what != "report"}
    return Fixed(written, done.applied, done.held, streamed=scan.chars)


def _tell_time(words: int, notify: Callable[[str], None] | None, processes: int = 1) -> None:
    """Tell ``notify`` how long the model will take over ``words`` words, when that is worth saying."""
    if notify is not None and (note := model_time_note(words, processes)) is not None:
        notify(note)
