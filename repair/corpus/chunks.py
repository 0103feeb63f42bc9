"""Big inputs in bounded memory: cut the text at paragraph breaks and stream a file through the pipeline.

A text is cut into chunks of about `DEFAULT_CHUNK_CHARS` characters, preferably
after a blank line, so each chunk is repaired on its own and its edits are shifted
back to offsets in the whole input. A file is read, repaired and written chunk by
chunk: memory holds one chunk and its results, never the whole file, and the
outputs appear (all of them, renamed from temp files) only when every chunk is done.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from repair.corpus.runners import LMFactory, Outcome, Task, local_runner, no_model
from repair.files.commit import staged
from repair.files.editlist import EditListWriter, sha256
from repair.files.textio import InputError, blank_message, open_input, path_problem, wide_encoding, wide_message
from repair.lm import LanguageModel
from repair.pipeline import ChunkResult, Progress, repair_stream, repair_text
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE
from repair.text.sentences import CUT_END_RE, LINE_END_RE, PARAGRAPH_BREAK_RE

DEFAULT_CHUNK_CHARS = 64_000
# inputs above this size are streamed chunk by chunk instead of read whole
BIG_INPUT_BYTES = 4 * 1024 * 1024
READ_BLOCK_BYTES = 1 << 20
LOOKAHEAD = 256

SPACE_RE = re.compile(r"\s+")
# characters that belong to the character before them: a cut must not fall in front of one
JOINERS = frozenset("\u200d\u034f\ufe0e\ufe0f")


class Chunk(NamedTuple):
    """A piece of the input and its char offset in the whole input."""

    start: int
    text: str


def _last_end(pattern: re.Pattern[str], text: str, start: int, limit: int) -> int:
    """End of the last match of ``pattern`` in ``text[start:]`` that ends in ``(start, limit]``, or 0."""
    best = 0
    # a match may end past ``limit``: look a little further so the one that matters is seen whole
    for m in pattern.finditer(text, start, min(len(text), limit + LOOKAHEAD)):
        if m.end() > limit:
            break
        if m.end() > start:
            best = m.end()
    return best


def breakable(text: str, p: int) -> bool:
    """Whether a cut at ``p`` splits no CRLF, combining mark or joined sequence.

    >>> breakable("ab\\r\\ncd", 3), breakable("ab\\r\\ncd", 4), breakable("cafe\\u0301s", 4)
    (False, True, False)
    """
    if not 0 < p < len(text):
        return True
    return not (
        (text[p - 1] == "\r" and text[p] == "\n")
        or unicodedata.category(text[p]).startswith("M")
        or text[p] in JOINERS
        or text[p - 1] in JOINERS
    )


def _safe_cut(text: str, start: int, pos: int) -> int:
    """The breakable position nearest before ``pos`` (after ``start``), else the first one after it.

    >>> _safe_cut("ab\\r\\ncd", 0, 3)
    2
    >>> _safe_cut("\\r\\nab", 0, 1)
    2
    """
    for p in range(pos, start, -1):
        if breakable(text, p):
            return p
    p = pos + 1
    while not breakable(text, p):
        p += 1
    return p


def cut_point(text: str, start: int, size: int) -> int:
    """Where a chunk starting at ``text[start]`` ends: after the last paragraph break within ``size``
    chars, else the last line end, else the last sentence end, else the last space, else a hard cut
    that splits no character.

    >>> cut_point("one two.\\n\\nthree four.\\nfive six", 0, 22)
    10
    >>> cut_point("one two.\\nthree four", 0, 12)
    9
    >>> cut_point("The U. S. said so. Mr. Lee and Dr. Lee", 0, 30)
    19
    >>> cut_point("abcdefgh", 2, 3)
    5
    """
    limit = start + size
    if len(text) <= limit:
        return len(text)
    for pattern in (PARAGRAPH_BREAK_RE, LINE_END_RE, CUT_END_RE, SPACE_RE):
        pos = _last_end(pattern, text, start, limit)
        if pos > start:
            return pos
    return _safe_cut(text, start, limit)


def rechunk(pieces: Iterable[str], size: int = DEFAULT_CHUNK_CHARS) -> Iterator[Chunk]:
    """Cut a stream of text pieces into chunks of at most ``size`` chars, at natural breaks.

    Joining the chunks' texts gives the joined pieces back exactly.

    >>> [c.text for c in rechunk(["a b.\\n\\nc", "d.\\n\\ne f."], 6)]
    ['a b.\\n\\n', 'cd.\\n\\n', 'e f.']
    """
    if size < 1:
        raise ValueError("chunk size must be positive")
    buffer = ""
    pos = 0  # where the next chunk starts in ``buffer``
    start = 0  # ... and in the whole text
    for piece in pieces:
        buffer = buffer[pos:] + piece
        pos = 0
        # cut only with a lookahead past ``size``, so a break at the limit is seen whole
        while len(buffer) - pos > size + LOOKAHEAD:
            cut = cut_point(buffer, pos, size)
            yield Chunk(start, buffer[pos:cut])
            start += cut - pos
            pos = cut
    while pos < len(buffer):
        cut = cut_point(buffer, pos, size)
        yield Chunk(start, buffer[pos:cut])
        start += cut - pos
        pos = cut


def split_text(text: str, size: int = DEFAULT_CHUNK_CHARS) -> list[Chunk]:
    """Cut ``text`` into chunks at paragraph breaks (or line ends, or spaces, if it must).

    >>> split_text("a.\\n\\nb.\\n\\nc.", 4)
    [Chunk(start=0, text='a.\\n\\n'), Chunk(start=4, text='b.\\n\\n'), Chunk(start=8, text='c.')]
    """
    return list(rechunk([text], size))


def is_big(path: Path) -> bool:
    """Whether the CLI should stream ``path`` instead of reading it whole."""
    try:
        return path.is_file() and path.stat().st_size > BIG_INPUT_BYTES
    except OSError:
        return False


def decoded_pieces(path: Path, *, what: str = "input", block: int = READ_BLOCK_BYTES) -> Iterator[str]:
    """Decode a UTF-8 file block by block; refuse it as `textio.read_text` would, byte offset included."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed = 0
    with open_input(path, what=what) as fh:
        try:
            wide = wide_encoding(fh.read(4096))
            if wide:
                raise InputError(wide_message(wide, path, what))
            fh.seek(0)
            while True:
                data = fh.read(block)
                if b"\x00" in data:
                    raise InputError(f"{what} file looks binary (it holds NUL bytes), not text: {path}")
                pending = decoder.getstate()[0]
                try:
                    piece = decoder.decode(data, final=not data)
                except UnicodeDecodeError as exc:
                    bad = (pending + data)[exc.start]
                    offset = consumed - len(pending) + exc.start
                    raise InputError(
                        f"{what} file is not UTF-8: invalid byte 0x{bad:02x} at byte offset {offset}: {path}"
                    ) from exc
                consumed += len(data)
                if piece:
                    yield piece
                if not data:
                    return
        except OSError as exc:
            raise InputError(path_problem(exc, path, what)) from exc


@dataclass(frozen=True)
class Scan:
    """What one pass over a file found: its text's hash, length and words."""

    sha256: str
    chars: int
    words: int = 0


def scan_file(path: Path, *, what: str = "input") -> Scan:
    """Check a file is non-empty UTF-8 text without holding it, and hash its text as `editlist` does."""
    digest = hashlib.sha256()
    chars = words = 0
    blank = True
    joined = False  # whether the last piece ended inside a word the next one may go on with
    bom = 0
    for piece in decoded_pieces(path, what=what):
        bom = bom or int(not chars and piece.startswith("\ufeff"))
        digest.update(piece.encode("utf-8"))
        chars += len(piece)
        blank = blank and not piece.strip(" \t\n\r\x0b\x0c\ufeff")
        words += len(piece.split()) - (joined and not piece[0].isspace())
        joined = not piece[-1].isspace()
    if blank:
        raise InputError(blank_message(" " * (chars - bom), path, what))
    return Scan(digest.hexdigest(), chars, words)


@dataclass(frozen=True)
class StreamSummary:
    """What a streamed run did, without keeping its edits: counts by kind, and the size."""

    applied: Counter[str]
    held: Counter[str]
    chars: int


def repair_file(
    input_path: Path,
    text_out: Path,
    edits_out: Path,
    refs: Sequence[tuple[str, str]] = (),
    lm: LanguageModel | None = None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    chunk_chars: int | None = None,
    model_name: str = "",
    protect: Sequence[Path] = (),
    scan: Scan | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    lm_factory: LMFactory = no_model,
) -> StreamSummary:
    """Repair a file chunk by chunk, writing the repaired text and the edit list as they come.

    ``on_chunk(done, total)`` reports progress in chars, ``progress`` the stages inside each chunk (in this
    process only). With ``workers`` > 1 the chunks are repaired side by side in that many processes, each
    with the model ``lm_factory`` (picklable) loads, not ``lm``; the outputs are the same bytes.
    Bad input is refused before any output is opened (pass ``scan`` if `scan_file` already checked it); a failure
    half-way leaves no output behind.
    """
    scan = scan or scan_file(input_path)
    applied: Counter[str] = Counter()
    held: Counter[str] = Counter()
    with staged([text_out, edits_out], protect=(input_path, *protect)) as (text_fh, edits_fh):
        chunks = rechunk(decoded_pieces(input_path), chunk_chars or DEFAULT_CHUNK_CHARS)
        if workers > 1:
            parts = repair_chunks(chunks, refs, workers, lm_factory, min_confidence=min_confidence)
        else:
            parts = repair_stream(chunks, refs, lm, min_confidence=min_confidence, progress=progress)
        first = next(parts, None)  # before the header: a worker's result names the model it loaded
        writer = EditListWriter(
            edits_fh,
            input_sha256=scan.sha256,
            input_name=str(input_path),
            refs=[name for name, _ in refs],
            ref_sha256=[sha256(text) for _, text in refs],
            model=first.model if first is not None and first.model else model_name,
            min_confidence=min_confidence,
        )
        for part in itertools.chain([first] if first is not None else [], parts):
            text_fh.write(part.output)
            for e in part.edits:
                writer.add(e)
                (applied if e.applied else held)[e.kind] += 1
            if on_chunk is not None:
                on_chunk(part.start + len(part.source), scan.chars)
        writer.close()
    return StreamSummary(applied, held, scan.chars)


def repair_chunks(
    chunks: Iterable[Chunk],
    refs: Sequence[tuple[str, str]],
    workers: int,
    lm_factory: LMFactory = no_model,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> Iterator[ChunkResult]:
    """`repair_stream` in ``workers`` processes: each chunk is repaired on its own, so any process may take
    it; the results come back in the input's order, whichever finished first.

    Memory holds the chunks in flight (two per worker) and those finished ahead of a slower one.
    """
    sizes: dict[int, tuple[int, str]] = {}  # per task, the chunk's offset and text, until it is handed on

    def tasks() -> Iterator[Task]:
        for i, c in enumerate(chunks):
            sizes[i] = (c.start, c.text)
            yield Task(i, str(c.start), c.text, tuple(refs), min_confidence)

    ahead: dict[int, Outcome] = {}
    following = 0
    with local_runner(workers, lm_factory, repair_text) as run:
        for outcome in run(tasks()):
            ahead[outcome.index] = outcome
            while following in ahead:
                o = ahead.pop(following)
                start, text = sizes.pop(following)
                if o.error:
                    raise RuntimeError(f"chunk at char {start}: {o.error}")
                shifted = tuple(replace(e, start=e.start + start, end=e.end + start) for e in o.edits)
                yield ChunkResult(start, text, o.output, shifted, o.model)
                following += 1
