"""The side-by-side view model shared by the HTML report and the terminal diff.

The input is cut into blocks (paragraphs; long ones into runs of sentences, never
inside an edit). Each block holds what the three columns show: the input with
the edits marked, the repaired text, and the reference passage that best covers
it. Rendering (HTML, rich) is left to `repair.views.report` and `repair.views.diffview`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

from rapidfuzz.distance import Levenshtein

from repair.edits import Edit, overlaps
from repair.stages.align import Reference
from repair.stages.label import Passage
from repair.stages.normalize import Normalized, normalize
from repair.stages.witness import Alignment
from repair.text.layer import Layer
from repair.text.sentences import LOOSE_END_RE

# a paragraph longer than this is cut into runs of sentences of about this length
BLOCK_CHARS = 600
# where a sentence may end: . ! ? (closing quotes or brackets may follow), then space
# a single capital before the period is an initial ("U. S."), not a sentence end
INITIAL_RE = re.compile(r"(?:^|\W)[A-Z]\.$")
WORD_PIECE_RE = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Run:
    """A piece of an edit's text; ``changed`` marks the words that actually differ."""

    text: str
    changed: bool = False

    @property
    def space(self) -> bool:
        return bool(self.text) and self.text.isspace()


@dataclass(frozen=True)
class Span:
    """Plain text (``edit`` None) or one edit's text in one column."""

    runs: tuple[Run, ...]
    edit: int | None = None
    suggestion: tuple[Run, ...] = ()  # repaired column, edit not applied: what it would put here
    badge: bool = False  # an unapplied edit overlapping applied ones, shown as a mark at one point

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class RefChunk:
    """A stretch of a reference's raw text, with the aligner's differences marked."""

    text: str
    start: int  # offsets in the reference's raw text
    end: int
    marks: tuple[tuple[int, int, str], ...] = ()  # (start, end, label) relative to ``text``

    def pieces(self) -> list[tuple[str, str]]:
        """The text cut at the marks: (text, label), label "" outside them.

        >>> RefChunk("its own alliance", 0, 16, ((0, 3, "damage"),)).pieces()
        [('its', 'damage'), (' own alliance', '')]
        """
        out: list[tuple[str, str]] = []
        pos = 0
        for s, e, label in self.marks:
            s, e = max(s, pos), min(e, len(self.text))
            if e <= s:
                continue
            if s > pos:
                out.append((self.text[pos:s], ""))
            out.append((self.text[s:e], label))
            pos = e
        if pos < len(self.text):
            out.append((self.text[pos:], ""))
        return out


@dataclass(frozen=True)
class RefView:
    """The reference passage(s) shown beside a block."""

    ref: int
    name: str
    score: float
    chunks: tuple[RefChunk, ...]
    coverage: float  # share of the block's input the shown passages cover
    others: tuple[tuple[str, float], ...] = ()  # other references covering the block: (name, score)


@dataclass(frozen=True)
class Block:
    """One row of the side-by-side view: an input span and its three columns."""

    start: int
    end: int
    input: tuple[Span, ...]
    output: tuple[Span, ...]
    edits: tuple[int, ...]
    ref: RefView | None = None


@dataclass(frozen=True)
class View:
    """Everything a renderer needs: the blocks, and the edits they index into."""

    source: str
    edits: tuple[Edit, ...]
    blocks: tuple[Block, ...]
    refs: tuple[Reference, ...]


def word_pieces(text: str) -> list[str]:
    """Split text into words, punctuation marks and runs of space, losing nothing.

    >>> word_pieces("the  U. S.,")
    ['the', '  ', 'U', '.', ' ', 'S', '.', ',']
    """
    return WORD_PIECE_RE.findall(text)


def word_diff(before: str, after: str) -> tuple[tuple[Run, ...], tuple[Run, ...]]:
    """Runs of ``before`` and ``after`` with the words that differ marked changed.

    >>> b, a = word_diff("can maintain Russia alliance", "can maintain its alliance")
    >>> [r.text for r in b if r.changed], [r.text for r in a if r.changed]
    (['Russia'], ['its'])
    """
    src, dst = word_pieces(before), word_pieces(after)
    left: list[Run] = []
    right: list[Run] = []
    for op in Levenshtein.opcodes(src, dst):
        changed = op.tag != "equal"
        if op.src_end > op.src_start:
            left.append(Run("".join(src[op.src_start : op.src_end]), changed))
        if op.dest_end > op.dest_start:
            right.append(Run("".join(dst[op.dest_start : op.dest_end]), changed))
    return _merge(left), _merge(right)


def _merge(runs: list[Run]) -> tuple[Run, ...]:
    out: list[Run] = []
    for r in runs:
        if out and out[-1].changed == r.changed and not r.space and not out[-1].space:
            out[-1] = Run(out[-1].text + r.text, r.changed)
        else:
            out.append(r)
    return tuple(out)


def split_primary(edits: Sequence[Edit]) -> tuple[list[int], list[int]]:
    """Indexes of edits that can be drawn in line (no two overlap) and of the rest.

    Applied edits come first; an unapplied one is drawn in line only where it
    overlaps nothing already drawn, the more confident first.
    """
    order = sorted(range(len(edits)), key=lambda i: (not edits[i].applied, -edits[i].confidence, i))
    drawn: list[tuple[int, int, int]] = []  # (start, end, index), kept sorted; never overlapping
    rest: list[int] = []
    for i in order:
        e = edits[i]
        at = bisect.bisect_left(drawn, (e.start, e.end, -1))
        # spans that do not overlap are in the same order by start and by end, so a clash is a near neighbour
        if any(overlaps(e, edits[drawn[k][2]]) for k in range(max(0, at - 2), min(len(drawn), at + 2))):
            rest.append(i)
        else:
            drawn.insert(at, (e.start, e.end, i))
    return [i for _, _, i in drawn], sorted(rest, key=lambda i: (edits[i].start, edits[i].end))


def sentence_ends(text: str) -> list[int]:
    """Offsets just after each likely sentence end (before the following space).

    >>> t = "He said . The U. S. said no , " + chr(34) + " he said . " + chr(34) + " Yes . " + chr(34)
    >>> [t[:i][-9:] for i in sentence_ends(t)]
    ['He said .', 'he said .']
    """
    out = []
    for m in LOOSE_END_RE.finditer(text):
        head = text[: m.start()].rstrip(".!?")
        if INITIAL_RE.search(text[max(0, m.start() - 3) : m.start()]):
            continue
        if not head.strip():
            continue
        rest = text[m.end() :].lstrip()
        # a quote after the end opens the next sentence only if a capital follows it
        if rest[:1] in "\"”“'" and not re.match(r"[\"”“']\s*[A-Z]", rest):
            continue
        if rest and (rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"“‘'([—-"):
            out.append(m.end())
    return out


def cut_points(
    text: str, edits: Sequence[Edit], *, target: int = BLOCK_CHARS, keep: Sequence[tuple[int, int]] = ()
) -> list[int]:
    """Start offsets of the blocks: line breaks, and sentence ends in paragraphs past ``target`` chars.

    No cut falls strictly inside an edit or a ``keep`` span. ``target=0`` cuts at every sentence end.

    >>> cut_points("One.\\n\\nTwo. Three.", [], target=0)
    [0, 6, 11]
    """
    inside = sorted([(e.start, e.end) for e in edits if e.end - e.start > 1] + [k for k in keep if k[1] - k[0] > 1])
    reach = list(accumulate((e for _, e in inside), max))  # the furthest end of any span starting at or before

    def free(p: int) -> bool:
        k = bisect.bisect_left(inside, (p, -1))  # spans starting before p
        return k == 0 or reach[k - 1] <= p

    cuts = [0]
    for m in re.finditer(r"[^\n]*(?:\n|$)", text):
        s, e = m.start(), m.end()
        if s >= len(text):
            break
        line = text[s:e]
        if s > 0 and line.strip() and free(s):  # blank lines stay with the paragraph before
            cuts.append(s)
        if len(line) <= target:
            continue
        last = s
        for rel in sentence_ends(line):
            p = s + rel
            while p < e and text[p] in " \t":  # the space before a sentence goes with the sentence before
                p += 1
            if p - last >= target and p < e and text[p] != "\n" and free(p):
                cuts.append(p)
                last = p
    return cuts


def blocks_spans(
    text: str, edits: Sequence[Edit], *, target: int = BLOCK_CHARS, keep: Sequence[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """Contiguous spans covering ``text``, one per block."""
    cuts = cut_points(text, edits, target=target, keep=keep)
    return [(a, b) for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True) if b > a or not text]


def build_view(
    source: str,
    edits: Sequence[Edit],
    alignment: Alignment | None = None,
    doc: Normalized | None = None,
    *,
    target: int = BLOCK_CHARS,
) -> View:
    """Cut ``source`` into blocks and lay out the three columns of each."""
    edits = tuple(sorted(edits, key=lambda e: (e.start, e.end, not e.applied)))
    primary, rest = split_primary(edits)
    spans = blocks_spans(source, [edits[i] for i in primary], target=target)
    if alignment is not None and alignment.passages and doc is None:
        doc = normalize(source)  # the normalizer is deterministic: the same doc the alignment was made on
    passages = _passage_spans(alignment, doc) if alignment is not None and doc is not None else []
    blocks = []
    starts = [bs for bs, _ in spans]

    def block_of(e: Edit) -> int:
        return max(0, bisect.bisect_right(starts, e.start) - 1)  # an edit at the very end goes to the last block

    by_block: dict[int, tuple[list[int], list[int]]] = {}
    for group, indexes in enumerate((primary, rest)):
        for i in indexes:
            by_block.setdefault(block_of(edits[i]), ([], []))[group].append(i)
    for n, (bs, be) in enumerate(spans):
        mine, marks = by_block.get(n, ([], []))
        inp, out = _columns(source, edits, bs, be, mine, marks)
        ref = None
        if passages and alignment is not None and doc is not None:
            ref = _ref_view(source, bs, be, passages, alignment, doc)
        blocks.append(Block(bs, be, inp, out, tuple(sorted(mine + marks)), ref))
    return View(source, edits, tuple(blocks), alignment.refs if alignment is not None else ())


def _columns(
    source: str, edits: Sequence[Edit], bs: int, be: int, primary: list[int], marks: list[int]
) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """The input and repaired columns of one block."""
    # an unapplied edit that overlaps drawn ones becomes a mark just after them
    at: dict[int, list[int]] = {}
    for i in marks:
        p = edits[i].end
        for j in primary:
            if edits[j].start < p < edits[j].end or (edits[j].start == p and edits[j].end > p):
                p = edits[j].end
        at.setdefault(min(max(p, bs), be), []).append(i)
    inp: list[Span] = []
    out: list[Span] = []
    pos = bs

    def plain(upto: int) -> None:
        nonlocal pos
        for p in sorted(k for k in at if pos <= k <= upto):
            if p > pos:
                inp.append(Span((Run(source[pos:p]),)))
                out.append(Span((Run(source[pos:p]),)))
                pos = p
            for i in at.pop(p):
                e = edits[i]
                b, a = word_diff(e.before, e.after)
                inp.append(Span(b, i, badge=True))
                out.append(Span((), i, suggestion=a, badge=True))
        if upto > pos:
            inp.append(Span((Run(source[pos:upto]),)))
            out.append(Span((Run(source[pos:upto]),)))
            pos = upto

    for i in primary:
        e = edits[i]
        plain(e.start)
        b, a = word_diff(e.before, e.after)
        inp.append(Span(b, i))
        out.append(Span(a, i) if e.applied else Span(tuple(Run(r.text) for r in b), i, suggestion=a))
        pos = e.end
    plain(be)
    return _trim(inp), _trim(out)


def _trim(spans: list[Span]) -> tuple[Span, ...]:
    """Drop the line breaks that end a block's plain text: the block's border shows them."""
    if spans and spans[-1].edit is None:
        text = spans[-1].text.rstrip("\r\n")
        spans = spans[:-1] + ([Span((Run(text),))] if text else [])
    return tuple(spans)


def to_derived(layer: Layer, pos: int, *, end: bool = False) -> int:
    """The derived-text offset of base offset ``pos`` (inside an edit: its start, or its end if ``end``).

    >>> layer = Layer("a  b", (Edit(1, 3, "  ", " ", "whitespace", 1.0),))
    >>> to_derived(layer, 3), to_derived(layer, 4), to_derived(layer, 2), to_derived(layer, 2, end=True)
    (2, 3, 1, 2)
    """
    shift = 0
    for e in layer.edits:
        grow = len(e.after) - (e.end - e.start)
        if e.end < pos or (e.end == pos and (e.start < pos or end)):
            shift += grow
        elif e.start < pos < e.end:
            return e.start + shift + (len(e.after) if end else 0)
        else:
            break
    return pos + shift


def _passage_spans(alignment: Alignment, doc: Normalized) -> list[tuple[Passage, int, int]]:
    """Each passage with its span in the input."""
    out = []
    for p in alignment.passages:
        if 0 <= p.doc_start <= p.doc_end <= len(doc.text) and 0 <= p.ref < len(alignment.refs):
            bs, be, _, _ = doc.layer.to_base(p.doc_start, p.doc_end)
            out.append((p, bs, be))
    return out


def _ref_view(
    source: str,
    bs: int,
    be: int,
    passages: list[tuple[Passage, int, int]],
    alignment: Alignment,
    doc: Normalized,
) -> RefView | None:
    """The best reference's passages over block [bs, be) of the input."""
    # space at the ends is not content a reference could cover
    while be > bs and source[be - 1].isspace():
        be -= 1
    while bs < be and source[bs].isspace():
        bs += 1
    if be <= bs:
        return None
    by_ref: dict[int, list[tuple[Passage, int, int]]] = {}
    for p, ps, pe in passages:
        if min(be, pe) - max(bs, ps) > 0:
            by_ref.setdefault(p.ref, []).append((p, max(bs, ps), min(be, pe)))
    if not by_ref:
        return None

    def weight(items: list[tuple[Passage, int, int]]) -> float:
        return sum((e - s) * p.score for p, s, e in items)

    ranked = sorted(by_ref, key=lambda r: -weight(by_ref[r]))
    best = ranked[0]
    items = sorted(by_ref[best], key=lambda t: t[1])
    ref = alignment.refs[best]
    chunks = []
    for p, s, e in items:
        ds, de = to_derived(doc.layer, s), to_derived(doc.layer, e, end=True)
        chunk = ref_chunk(ref, p, max(ds, p.doc_start), min(de, p.doc_end))
        if chunk is not None:
            chunks.append(chunk)
    if not chunks:
        return None
    covered = sum(e - s for _, s, e in items)
    score = max(p.score for p, _, _ in items)
    others = tuple((alignment.refs[r].name, max(p.score for p, _, _ in by_ref[r])) for r in ranked[1:])
    return RefView(best, ref.name, score, tuple(chunks), min(1.0, covered / (be - bs)), others)


def passage_map(p: Passage, x: int, *, end: bool = False) -> int:
    """Map document offset ``x`` inside passage ``p`` to the reference's normalized text.

    The passage's ends and its differences' ends are anchors; between anchors the
    two texts agree, so offsets move together.

    >>> p = Passage(0, 10, 30, 100, 120, 0.9, ())
    >>> passage_map(p, 15)
    105
    """
    anchors = [(p.doc_start, p.ref_start, p.doc_start, p.ref_start)]
    for d in sorted(p.differences, key=lambda d: (d.doc_start, d.doc_end)):
        anchors.append((d.doc_start, d.ref_start, d.doc_end, d.ref_end))
    anchors.append((p.doc_end, p.ref_end, p.doc_end, p.ref_end))
    for (_, _, d1, r1), (d2, r2, d3, r3) in pairwise(anchors):
        if x < d1:
            break
        if d1 <= x <= d2:  # between two anchors: the texts agree
            return min(r1 + (x - d1), r2) if not end or x < d2 else r2
        if d2 < x < d3 or (x == d3 and end):  # inside a difference: take all of it
            return r3 if end else r2
    return p.ref_end if end else p.ref_start


def ref_chunk(ref: Reference, p: Passage, ds: int, de: int) -> RefChunk | None:
    """The raw reference text matching document span [ds, de) inside passage ``p``."""
    text = ref.normalized.text
    rs, re_ = passage_map(p, ds), passage_map(p, de, end=True)
    rs, re_ = max(0, min(rs, len(text))), max(0, min(re_, len(text)))
    # widen to whole words: the offsets of two differently spaced texts drift a little
    while 0 < rs < len(text) and not text[rs - 1].isspace() and not text[rs].isspace():
        rs -= 1
    while 0 < re_ < len(text) and not text[re_ - 1].isspace() and not text[re_].isspace():
        re_ += 1
    if re_ <= rs:
        return None
    layer = ref.normalized.layer
    raw_s, raw_e, _, _ = layer.to_base(rs, re_)
    marks = []
    for d in p.differences:
        if d.ref_end > d.ref_start and rs < d.ref_end and d.ref_start < re_:
            ms, me, _, _ = layer.to_base(max(rs, d.ref_start), min(re_, d.ref_end))
            marks.append((ms - raw_s, me - raw_s, d.label))
    return RefChunk(layer.base[raw_s:raw_e], raw_s, raw_e, tuple(sorted(marks)))
