"""ERRANT-style scoring: the edits a repair made against the edits it should have made.

Both edit lists are extracted the same way, from the damaged input to a target text
(the clean gold, or the repaired output), so a perfect repair reproduces the gold
edits exactly. Extraction aligns the *non-space characters* of the two texts
(rapidfuzz), so re-spacing never disturbs the content alignment:

- where the characters differ, the difference is widened to whole input tokens and
  becomes a content edit (input token span -> replacement text), trimmed to its
  minimal form; deleting one of two identical neighbours is always put on the first
  copy, so it does not matter which copy a repair removes;
- where the characters agree but the whitespace between two of them differs
  ("U. S." / "U.S.", "Italy ," / "Italy,"), that gap is one ``tokenization`` edit,
  scored apart so the many of them do not swamp the content edits.

Counts are in tokens: an edit weighs as many tokens as it removes or adds (at least
one), so one edit that deletes a paragraph weighs as much as the paragraph.
Detection credits every input token (or insertion point) an edit touches that a
gold edit also touches; correction needs the same span and the same replacement
(compared without whitespace; case counts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace

import ftfy
from rapidfuzz.distance import Levenshtein

from repair.edits import KINDS, Edit, apply_edits
from repair.text.tokens import Token, tokenize

BETA = 0.5  # F0.5: precision counts twice as much as recall, as in grammatical error correction
TOKENIZATION = "tokenization"
CONTENT_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k != TOKENIZATION)

Unit = tuple[str, int]  # ("tok", i): input token i; ("ins", i): the point before token i; ("space", char)


def squash(text: str) -> str:
    """Text without whitespace: what content edits are compared on.

    >>> squash(" the U. S. ")
    'theU.S.'
    """
    return "".join(text.split())


@dataclass(frozen=True)
class TextEdit:
    """One difference from a source text to a target: source tokens [start, end) become ``after``."""

    start: int  # source token index; start == end: an insertion before token ``start``
    end: int
    char_start: int  # source chars covered (for an insertion: the space between the tokens)
    char_end: int
    before: str
    after: str
    kind: str

    @property
    def key(self) -> tuple[str, int, int, str]:
        """What must agree for a correction to count: the span and the replacement."""
        if self.kind == TOKENIZATION:
            return ("space", self.char_start, self.char_end, self.after)
        return ("content", self.start, self.end, squash(self.after))

    @property
    def units(self) -> frozenset[Unit]:
        """The input positions the edit touches, for detection."""
        if self.kind == TOKENIZATION:
            return frozenset({("space", self.char_start)})
        if self.start == self.end:
            return frozenset({("ins", self.start)})
        return frozenset(("tok", i) for i in range(self.start, self.end))

    @property
    def weight(self) -> int:
        """Tokens removed or added, at least one."""
        if self.kind == TOKENIZATION:
            return 1
        return max(self.end - self.start, len(tokenize(self.after)), 1)


@dataclass(frozen=True)
class Tally:
    """Weighted counts for precision (over the repair's edits) and recall (over the gold edits)."""

    hyp: int = 0
    hyp_ok: int = 0
    gold: int = 0
    gold_ok: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.hyp + other.hyp, self.hyp_ok + other.hyp_ok, self.gold + other.gold, self.gold_ok + other.gold_ok
        )

    @property
    def precision(self) -> float:
        """Share of the repair's edits that are right; 1.0 when it made none (ERRANT's convention)."""
        return self.hyp_ok / self.hyp if self.hyp else 1.0

    @property
    def recall(self) -> float:
        """Share of the gold edits the repair made; 1.0 when there were none to make."""
        return self.gold_ok / self.gold if self.gold else 1.0

    @property
    def f05(self) -> float:
        """F0.5 of precision and recall.

        >>> round(Tally(hyp=4, hyp_ok=2, gold=8, gold_ok=2).f05, 3)
        0.417
        """
        p, r = self.precision, self.recall
        b2 = BETA * BETA
        return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


def _add_maps(a: dict[str, Tally], b: dict[str, Tally]) -> dict[str, Tally]:
    return {k: a.get(k, Tally()) + b.get(k, Tally()) for k in sorted(set(a) | set(b))}


@dataclass(frozen=True)
class Score:
    """One repair (or many, added up) measured against the gold text."""

    detection: dict[str, Tally] = field(default_factory=dict)
    correction: dict[str, Tally] = field(default_factory=dict)
    gold_tokens: int = 0
    word_errors_before: int = 0  # token edit distance input -> gold
    word_errors_after: int = 0  # token edit distance output -> gold
    gold_chars: int = 0
    char_errors_before: int = 0
    char_errors_after: int = 0
    words: int = 0  # words of the input
    false_edits: int = 0  # the repair's edits that touch no gold edit
    hyp_edits: int = 0
    gold_edits: int = 0

    def __add__(self, other: Score) -> Score:
        plain = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name not in ("detection", "correction")
        }
        return Score(
            detection=_add_maps(self.detection, other.detection),
            correction=_add_maps(self.correction, other.correction),
            **plain,
        )

    def overall(self, stage: str) -> Tally:
        """All content kinds together ("detection" or "correction"); tokenization stays apart."""
        tallies = self.detection if stage == "detection" else self.correction
        total = Tally()
        for kind, t in tallies.items():
            if kind != TOKENIZATION:
                total = total + t
        return total

    @property
    def wer_before(self) -> float:
        return self.word_errors_before / self.gold_tokens if self.gold_tokens else 0.0

    @property
    def wer_after(self) -> float:
        return self.word_errors_after / self.gold_tokens if self.gold_tokens else 0.0

    @property
    def cer_before(self) -> float:
        return self.char_errors_before / self.gold_chars if self.gold_chars else 0.0

    @property
    def cer_after(self) -> float:
        return self.char_errors_after / self.gold_chars if self.gold_chars else 0.0

    @property
    def false_per_1k(self) -> float:
        """The repair's edits that touch no gold edit, per 1,000 input words."""
        return 1000 * self.false_edits / self.words if self.words else 0.0

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("detection", "correction")
        }
        for stage in ("detection", "correction"):
            out[stage] = {k: vars(t) for k, t in getattr(self, stage).items()}
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Score:
        plain = {f.name: int(data.get(f.name, 0)) for f in fields(cls) if f.name not in ("detection", "correction")}  # type: ignore[call-overload]
        stages = {
            stage: {k: Tally(**v) for k, v in dict(data.get(stage) or {}).items()}  # type: ignore[call-overload]
            for stage in ("detection", "correction")
        }
        return cls(detection=stages["detection"], correction=stages["correction"], **plain)


# ---- edit extraction -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    """A text's tokens and non-space characters: where each character sits, where each token starts."""

    text: str
    chars: str
    pos: tuple[int, ...]  # text offset of each non-space character
    toks: tuple[Token, ...]
    first: tuple[int, ...]  # index in ``chars`` of each token's first character
    tok_of: tuple[int, ...]  # the token each character belongs to (every non-space character is in one)

    @classmethod
    def of(cls, text: str) -> _Side:
        pos = tuple(i for i, c in enumerate(text) if not c.isspace())
        toks = tokenize(text)
        at = {p: k for k, p in enumerate(pos)}
        tok_of = [0] * len(pos)
        for t, tok in enumerate(toks):
            for k in range(at[tok.start], at[tok.start] + len(tok.text)):
                tok_of[k] = t
        return cls(text, "".join(text[i] for i in pos), pos, toks, tuple(at[t.start] for t in toks), tuple(tok_of))

    def same_token(self, k: int) -> bool:
        """Whether characters k-1 and k belong to one token (so no edit may start or end between them)."""
        return 0 < k < len(self.chars) and self.tok_of[k - 1] == self.tok_of[k]

    def char_span(self, t0: int, t1: int) -> tuple[int, int]:
        """The characters of tokens [t0, t1) (tokens hold no space, so they are contiguous)."""
        start = self.first[t0] if t0 < len(self.toks) else len(self.chars)
        end = self.first[t1] if t1 < len(self.toks) else len(self.chars)
        return start, end


Op = tuple[str, int, int, int, int]  # (tag, source start, source end, target start, target end) in characters


def align_chars(a: _Side, b: _Side) -> list[Op]:
    """Character alignment anchored on whole tokens: tokens first, characters only where tokens differ.

    Anchoring keeps an unchanged word between two damaged ones from being split up
    by a character-level alignment that would borrow its letters.
    """
    blocks: list[Op] = []  # token-level: equal runs, and the differing stretches between them
    for t in Levenshtein.opcodes([x.text for x in a.toks], [x.text for x in b.toks]):
        tag = "equal" if t.tag == "equal" else "differ"
        if blocks and blocks[-1][0] == tag == "differ":
            blocks[-1] = (tag, blocks[-1][1], t.src_end, blocks[-1][3], t.dest_end)
        else:
            blocks.append((tag, t.src_start, t.src_end, t.dest_start, t.dest_end))
    ops: list[Op] = []
    for tag, t0, t1, u0, u1 in blocks:
        i0, i1 = a.char_span(t0, t1)
        j0, j1 = b.char_span(u0, u1)
        if tag == "equal":
            ops.append(("equal", i0, i1, j0, j1))
            continue
        for c in Levenshtein.opcodes(a.chars[i0:i1], b.chars[j0:j1]):
            ops.append((c.tag, i0 + c.src_start, i0 + c.src_end, j0 + c.dest_start, j0 + c.dest_end))
    merged: list[Op] = []
    for op in ops:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if merged and merged[-1][0] == op[0] == "equal":
            prev = merged.pop()
            op = ("equal", prev[1], op[2], prev[3], op[4])
        merged.append(op)
    return merged


def extract_edits(source: str, target: str, answers: Sequence[Edit] = ()) -> tuple[TextEdit, ...]:
    """The edits that turn ``source`` into ``target``, content and tokenization, sorted by position.

    ``answers`` (an answer key on ``source``, see `repair.bench.corrupt`) names the kind of
    each content edit; without it the kind is guessed from the edit's shape.

    >>> [(e.before, e.after, e.kind) for e in extract_edits("Assad Assad must go .", "Assad must go.")]
    [('Assad', '', 'duplicate'), (' ', '', 'tokenization')]
    """
    a, b = _Side.of(source), _Side.of(target)
    a2b: dict[int, int] = {}
    regions: list[Region] = []
    spaces: list[TextEdit] = []
    for tag, i0, i1, j0, j1 in align_chars(a, b):
        if tag == "equal":
            for k in range(i1 - i0):
                a2b[i0 + k] = j0 + k
            spaces.extend(_space_edits(a, b, i0, i1, j0))
        else:
            regions.append((i0, i1, j0, j1))
    content: list[TextEdit] = []
    covered: list[tuple[int, int]] = []
    for i0, i1, j0, j1 in _whole_tokens(regions, a, b, a2b):
        after = target[b.pos[j0] : b.pos[j1 - 1] + 1] if j1 > j0 else ""
        if i0 < i1:
            start, end = a.tok_of[i0], a.tok_of[i1 - 1] + 1
            covered.append((a.pos[i0], a.pos[i1 - 1] + 1))
        else:
            start = end = a.tok_of[i0] if i0 < len(a.chars) else len(a.toks)
        edit = _minimal(source, a.toks, start, end, after)
        if edit is not None:
            content.append(replace(edit, kind=_kind(edit, a.toks, answers)))
    # spacing inside a stretch that a content edit rewrites is part of that edit
    spaces = [e for e in spaces if not any(c0 <= e.char_start and e.char_end <= c1 for c0, c1 in covered)]
    return tuple(sorted(content + spaces, key=lambda e: (e.char_start, e.char_end)))


Region = tuple[int, int, int, int]  # source chars [i0, i1) became target chars [j0, j1)


def _whole_tokens(regions: Sequence[Region], a: _Side, b: _Side, a2b: dict[int, int]) -> list[Region]:
    """Grow differing stretches until each starts and ends on token boundaries on both sides.

    A token only partly matched ("a" matched inside "called") cannot anchor anything,
    so the stretch swallows it, and the token it matched on the other side too.
    """
    b2a = {j: i for i, j in a2b.items()}
    current = sorted(regions)
    while True:
        grown = [_grow(r, a, b, a2b, b2a) for r in current]
        merged: list[Region] = []
        for r in sorted(grown):
            if merged and (r[0] <= merged[-1][1] or r[2] <= merged[-1][3]):
                m = merged.pop()
                r = (m[0], max(m[1], r[1]), min(m[2], r[2]), max(m[3], r[3]))
            merged.append(r)
        if merged == current:
            return merged
        current = merged


def _grow(r: Region, a: _Side, b: _Side, a2b: dict[int, int], b2a: dict[int, int]) -> Region:
    """One round of widening a stretch to whole tokens, first in the source, then in the target."""
    i0, i1, j0, j1 = r
    while a.same_token(i0):
        i0 -= 1
        if i0 in a2b:
            j0 = min(j0, a2b[i0])
    while a.same_token(i1):
        if i1 in a2b:
            j1 = max(j1, a2b[i1] + 1)
        i1 += 1
    while b.same_token(j0):
        j0 -= 1
        if j0 in b2a:
            i0 = min(i0, b2a[j0])
    while b.same_token(j1):
        if j1 in b2a:
            i1 = max(i1, b2a[j1] + 1)
        j1 += 1
    return i0, i1, j0, j1


def _space_edits(a: _Side, b: _Side, i0: int, i1: int, j0: int) -> Iterable[TextEdit]:
    """Tokenization edits inside one run of agreeing characters, the texts' ends included."""
    first = i0 - 1 if i0 == 0 and j0 == 0 else i0
    at_end = i1 == len(a.chars) and j0 + (i1 - i0) == len(b.chars)
    for i in range(first, i1 if at_end else i1 - 1):
        j = j0 + (i - i0)
        a_from = a.pos[i] + 1 if i >= 0 else 0
        a_to = a.pos[i + 1] if i + 1 < len(a.chars) else len(a.text)
        b_from = b.pos[j] + 1 if j >= 0 else 0
        b_to = b.pos[j + 1] if j + 1 < len(b.chars) else len(b.text)
        if a.text[a_from:a_to] != b.text[b_from:b_to]:
            tok = a.tok_of[i + 1] if i + 1 < len(a.chars) else len(a.toks)
            yield TextEdit(tok, tok, a_from, a_to, a.text[a_from:a_to], b.text[b_from:b_to], TOKENIZATION)


def _minimal(source: str, toks: Sequence[Token], start: int, end: int, after: str) -> TextEdit | None:
    """Trim tokens both sides share, and put a repeat's deletion on its first copy."""
    new = list(tokenize(after))
    while start < end and new and toks[start].text == new[0].text:
        start += 1
        new.pop(0)
    while start < end and new and toks[end - 1].text == new[-1].text:
        end -= 1
        new.pop()
    text = after[new[0].start : new[-1].end] if new else ""
    if start == end and not text:
        return None
    if not text:
        n = end - start
        gone = [t.text for t in toks[start:end]]
        while start - n >= 0 and [t.text for t in toks[start - n : start]] == gone:
            start, end = start - n, end - n
    if start < end:
        c0, c1 = toks[start].start, toks[end - 1].end
    else:
        c0 = toks[start - 1].end if start > 0 else 0
        c1 = toks[start].start if start < len(toks) else len(source)
    return TextEdit(start, end, c0, c1, source[c0:c1], text, "")


def _kind(e: TextEdit, toks: Sequence[Token], answers: Sequence[Edit]) -> str:
    """The answer key's kind for the damage under the edit, else a guess from the edit's shape."""
    best, best_overlap = "", -1
    for ans in answers:
        if ans.kind == TOKENIZATION or ans.end < e.char_start or e.char_end < ans.start:
            continue
        overlap = min(ans.end, e.char_end) - max(ans.start, e.char_start)
        if overlap > best_overlap:
            best, best_overlap = ans.kind, overlap
    return best or shape_kind(e, toks)


def shape_kind(e: TextEdit, toks: Sequence[Token]) -> str:
    """Guess a content edit's kind from its shape: gap, duplicate, stray, mojibake or substitution."""
    if e.start == e.end:
        return "gap"
    gone = [t.text for t in toks[e.start : e.end]]
    if not e.after:
        n = len(gone)
        if [t.text for t in toks[e.end : e.end + n]] == gone or [t.text for t in toks[e.start - n : e.start]] == gone:
            return "duplicate"
        if not any(t.is_word for t in toks[e.start : e.end]):
            return "stray"
    if squash(ftfy.fix_text(e.before, uncurl_quotes=False)) == squash(e.after):
        return "mojibake"
    return "substitution"


# ---- scoring ---------------------------------------------------------------------------------------------


def score_texts(source: str, gold: str, output: str, answers: Sequence[Edit] = ()) -> Score:
    """Score ``output`` (a repair of ``source``) against ``gold`` (the clean original)."""
    gold_edits = extract_edits(source, gold, answers)
    hyp_edits = label_hyp(extract_edits(source, output), gold_edits)
    gold_units = {u: e.kind for e in gold_edits for u in e.units}
    gold_keys = {e.key for e in gold_edits}
    hyp_keys = {e.key for e in hyp_edits}
    hyp_units = {u for e in hyp_edits for u in e.units}
    det: dict[str, Tally] = {}
    cor: dict[str, Tally] = {}
    for e in hyp_edits:
        hits = sum(u in gold_units for u in e.units)
        det[e.kind] = det.get(e.kind, Tally()) + Tally(hyp=len(e.units), hyp_ok=hits)
        cor[e.kind] = cor.get(e.kind, Tally()) + Tally(hyp=e.weight, hyp_ok=e.weight if e.key in gold_keys else 0)
    for u, kind in gold_units.items():
        det[kind] = det.get(kind, Tally()) + Tally(gold=1, gold_ok=int(u in hyp_units))
    for e in gold_edits:
        cor[e.kind] = cor.get(e.kind, Tally()) + Tally(gold=e.weight, gold_ok=e.weight if e.key in hyp_keys else 0)
    g_toks = [t.text for t in tokenize(gold)]
    return Score(
        detection=dict(sorted(det.items())),
        correction=dict(sorted(cor.items())),
        gold_tokens=len(g_toks),
        word_errors_before=Levenshtein.distance([t.text for t in tokenize(source)], g_toks),
        word_errors_after=Levenshtein.distance([t.text for t in tokenize(output)], g_toks),
        gold_chars=len(gold),
        char_errors_before=Levenshtein.distance(source, gold),
        char_errors_after=Levenshtein.distance(output, gold),
        words=sum(t.is_word for t in tokenize(source)),
        false_edits=sum(not (e.units & gold_units.keys()) for e in hyp_edits),
        hyp_edits=len(hyp_edits),
        gold_edits=len(gold_edits),
    )


def label_hyp(hyp: Sequence[TextEdit], gold: Sequence[TextEdit]) -> tuple[TextEdit, ...]:
    """Give each of the repair's edits the kind of the gold edit it touches most (its shape's kind if none)."""
    unit_kind = {u: e.kind for e in gold for u in e.units}
    out = []
    for e in hyp:
        kinds = Counter(unit_kind[u] for u in e.units if u in unit_kind)
        out.append(replace(e, kind=kinds.most_common(1)[0][0]) if kinds and e.kind != TOKENIZATION else e)
    return tuple(out)


def judge_edits(source: str, gold: str, edits: Sequence[Edit]) -> list[bool]:
    """For each edit on ``source`` taken alone: would it move the text toward the gold?

    An edit is right when every difference it makes is one of the gold edits, with
    the same replacement; applied or not, so a calibration plot can use them all.
    """
    gold_keys = {e.key for e in extract_edits(source, gold)}
    out = []
    for e in edits:
        alone = extract_edits(source, apply_edits(source, [replace(e, applied=True)]))
        out.append(bool(alone) and all(x.key in gold_keys for x in alone))
    return out
