"""Passage search: where a reference covers the input, found from rare shared n-grams (as in passim).

Anchors are word n-grams rare in both texts; anchors that line up are chained, each chain is
extended while the texts keep matching, and each resulting span is aligned word by word with
rapidfuzz and trimmed to start and end on matching words. What differs inside a passage comes
out as `Stretch`es with the exact match around them; what they mean is `repair.stages.label`'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from repair.stages.align.units import Side

Span = tuple[int, int, int, int]  # doc units [start, end), ref units [start, end)
Op = tuple[str, int, int, int, int]  # an opcode in absolute unit indexes


@dataclass(frozen=True)
class AlignSettings:
    """The numbers of the passage search."""

    content_n: int = 3  # anchors: n-grams of consecutive content words...
    word_n: int = 4  # ...and of all words (quotes made of short words), with at least one content word
    max_repeat: int = 2  # an n-gram is rare if it occurs at most this often in each text
    max_gap: int = 24  # chained anchors lie at most this many words apart in the input...
    max_shift: int = 8  # ...and their diagonals differ by at most this many words
    extend_window: int = 40  # words looked at beyond a chain's ends when extending it
    xdrop: int = 6  # stop extending once the match score falls this far below its best
    min_matched: int = 5  # a passage shares at least this many words with its reference...
    min_score: float = 0.5  # ...and this similarity
    context_window: int = 6  # words either side of a difference counted for "otherwise matches closely"
    max_run: int = 50  # exact matching words counted either side of a difference, at most


@dataclass(frozen=True)
class Stretch:
    """One differing stretch of a passage and how well the words around it match."""

    a: int  # doc units [a, b) against ref units [c, e)
    b: int
    c: int
    e: int
    near: tuple[int, int]  # matching words within `AlignSettings.context_window` before and after
    runs: tuple[int, int]  # exactly matching words directly before and after


@dataclass(frozen=True)
class Covered:
    """A stretch of the input that one reference covers closely: where on both sides (char offsets of the
    normalized texts), and how similar the two are."""

    ref: int  # index into the references
    doc_start: int
    doc_end: int
    ref_start: int
    ref_end: int
    score: float  # 0..1 similarity of the two stretches


@dataclass(frozen=True)
class Match(Covered):
    """A passage as the search found it."""

    matched: int  # words the two stretches share
    stretches: tuple[Stretch, ...]  # what differs inside it


def _ngrams(side: Side, settings: AlignSettings) -> dict[tuple[str, ...], list[tuple[int, int]]]:
    """Every anchor n-gram of a text with the unit spans where it occurs."""
    found: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
    cn, wn = settings.content_n, settings.word_n
    content = [i for i, u in enumerate(side.units) if not u.function]
    for k in range(len(content) - cn + 1):
        idx = content[k : k + cn]
        found[("c", *(side.keys[i] for i in idx))].append((idx[0], idx[-1] + 1))
    for i in range(len(side.units) - wn + 1):
        if any(not u.function for u in side.units[i : i + wn]):
            found[("w", *side.keys[i : i + wn])].append((i, i + wn))
    return found


def _anchors(doc: Side, ref: Side, settings: AlignSettings) -> list[Span]:
    """(doc start, doc end, ref start, ref end) unit spans of the rare n-grams both texts share."""
    dg, rg = _ngrams(doc, settings), _ngrams(ref, settings)
    out: list[Span] = []
    for gram, dspans in dg.items():
        rspans = rg.get(gram)
        if rspans and len(dspans) <= settings.max_repeat and len(rspans) <= settings.max_repeat:
            out.extend((d0, d1, r0, r1) for d0, d1 in dspans for r0, r1 in rspans)
    return sorted(out)


def _chains(anchors: list[Span], settings: AlignSettings) -> list[Span]:
    """Group anchors that lie on nearly the same diagonal close together; return each group's span."""
    chains: list[list[Span]] = []
    for a in anchors:
        best: tuple[int, int, int] | None = None
        for n, chain in enumerate(chains):
            last = chain[-1]
            gap = a[0] - last[1]
            shift = abs((a[0] - a[2]) - (last[0] - last[2]))
            if a[0] >= last[0] and a[2] >= last[2] and gap <= settings.max_gap and shift <= settings.max_shift:
                cand = (shift, max(gap, 0), n)
                best = cand if best is None or cand < best else best
        if best is None:
            chains.append([a])
        else:
            chains[best[2]].append(a)
    return [(min(a[0] for a in c), max(a[1] for a in c), min(a[2] for a in c), max(a[3] for a in c)) for c in chains]


def _reach(doc_keys: Sequence[str], ref_keys: Sequence[str], xdrop: int) -> tuple[int, int]:
    """How far two key lists keep matching from their starts (X-drop on the alignment's score)."""
    gain = best = 0
    reach = (0, 0)
    for op in Indel.opcodes(list(doc_keys), list(ref_keys)):
        size = (op.src_end - op.src_start) + (op.dest_end - op.dest_start)
        if op.tag == "equal":
            gain += op.src_end - op.src_start
            if gain > best:
                best, reach = gain, (op.src_end, op.dest_end)
        else:
            gain -= size
            if gain < best - xdrop:
                break
    return reach


def _extend(doc: Side, ref: Side, span: Span, settings: AlignSettings) -> Span:
    """Grow a chain's span both ways while the texts keep matching."""
    d0, d1, r0, r1 = span
    window, xdrop = settings.extend_window, settings.xdrop
    while True:
        dn, rn = _reach(doc.keys[d1 : d1 + window], ref.keys[r1 : r1 + window], xdrop)
        d1, r1 = d1 + dn, r1 + rn
        if max(dn, rn) < window // 2:
            break
    while True:
        lo_d, lo_r = max(0, d0 - window), max(0, r0 - window)
        dn, rn = _reach(doc.keys[lo_d:d0][::-1], ref.keys[lo_r:r0][::-1], xdrop)
        d0, r0 = d0 - dn, r0 - rn
        if max(dn, rn) < window // 2:
            break
    return d0, d1, r0, r1


def _merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Fuse spans that overlap in both texts (one passage found from two chains)."""
    todo = sorted(set(spans))
    out: list[Span] = []
    for s in todo:
        for n, o in enumerate(out):
            if s[0] <= o[1] and o[0] <= s[1] and s[2] <= o[3] and o[2] <= s[3]:
                out[n] = (min(s[0], o[0]), max(s[1], o[1]), min(s[2], o[2]), max(s[3], o[3]))
                break
        else:
            out.append(s)
    return out if len(out) == len(todo) else _merge_spans(out)


def _trimmed_ops(doc: Side, ref: Side, span: Span) -> tuple[Span, list[Op]]:
    """Align a span word by word and trim it so it starts and ends with matching words."""
    d0, d1, r0, r1 = span
    ops = list(Indel.opcodes(list(doc.keys[d0:d1]), list(ref.keys[r0:r1])))
    while ops and ops[0].tag != "equal":
        ops.pop(0)
    while ops and ops[-1].tag != "equal":
        ops.pop()
    if not ops:
        return (d0, d0, r0, r0), []
    a, b = ops[0], ops[-1]
    return (d0 + a.src_start, d0 + b.src_end, r0 + a.dest_start, r0 + b.dest_end), [
        (o.tag, d0 + o.src_start, d0 + o.src_end, r0 + o.dest_start, r0 + o.dest_end) for o in ops
    ]


def _stretches(ops: list[Op], settings: AlignSettings) -> tuple[Stretch, ...]:
    """The differing stretches of an aligned passage with their context.

    Context is counted where the words are: in the reference for an insertion, in
    the input for a deletion, on both (the weaker) for a substitution.
    """
    dm = {i for tag, d0, d1, _, _ in ops if tag == "equal" for i in range(d0, d1)}
    rm = {j for tag, _, _, r0, r1 in ops if tag == "equal" for j in range(r0, r1)}
    segs: list[Span] = []
    for tag, d0, d1, r0, r1 in ops:  # consecutive insert/delete opcodes form one stretch
        if tag == "equal":
            continue
        if segs and segs[-1][1] == d0 and segs[-1][3] == r0:
            segs[-1] = (segs[-1][0], d1, segs[-1][2], r1)
        else:
            segs.append((d0, d1, r0, r1))
    w, most = settings.context_window, settings.max_run
    out = []
    for a, b, c, e in segs:
        dn = (_count(dm, a - w, a), _count(dm, b, b + w))
        rn = (_count(rm, c - w, c), _count(rm, e, e + w))
        dr = (_run(dm, a - 1, -1, most), _run(dm, b, 1, most))
        rr = (_run(rm, c - 1, -1, most), _run(rm, e, 1, most))
        if a == b:
            near, runs = rn, rr
        elif c == e:
            near, runs = dn, dr
        else:
            near, runs = (min(dn[0], rn[0]), min(dn[1], rn[1])), (min(dr[0], rr[0]), min(dr[1], rr[1]))
        out.append(Stretch(a, b, c, e, near, runs))
    return tuple(out)


def _count(matched: set[int], lo: int, hi: int) -> int:
    return sum(1 for i in range(lo, hi) if i in matched)


def _run(matched: set[int], i: int, step: int, most: int) -> int:
    n = 0
    while i in matched and n < most:
        n, i = n + 1, i + step
    return n


def matches(doc: Side, ref: Side, index: int, settings: AlignSettings) -> list[Match]:
    """The passages reference ``index`` covers, at most one per stretch of the input."""
    spans = _merge_spans(_extend(doc, ref, c, settings) for c in _chains(_anchors(doc, ref, settings), settings))
    found: list[Match] = []
    for span in spans:
        (d0, d1, r0, r1), ops = _trimmed_ops(doc, ref, span)
        if not ops:
            continue
        dk, rk = list(doc.keys[d0:d1]), list(ref.keys[r0:r1])
        matched = sum(o[2] - o[1] for o in ops if o[0] == "equal")
        score = round(Indel.normalized_similarity(dk, rk), 4)
        if matched < settings.min_matched or score < settings.min_score:
            continue
        ds, de = doc.units[d0].start, doc.units[d1 - 1].end
        rs, re_ = ref.units[r0].start, ref.units[r1 - 1].end
        found.append(Match(index, ds, de, rs, re_, score, matched, _stretches(ops, settings)))
    # a quote the reference repeats aligns twice to the same input stretch: keep the better
    kept: list[Match] = []
    for p in sorted(found, key=lambda p: (-p.matched, -p.score, p.doc_start, p.ref_start)):
        if all(p.doc_end <= k.doc_start or k.doc_end <= p.doc_start for k in kept):
            kept.append(p)
    return kept
