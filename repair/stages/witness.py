"""What the references say about the input, all of them together: their votes on each damaged span.

Where damage differences from any reference overlap, every reference covering the span
votes for how it reads there (a reference that paraphrases it abstains, one that reads as
the input votes to keep it, at `WitnessSettings.keep_weight` of its passage's score). The
heaviest reading wins; when it is not the input's, it becomes a `ReferenceFix` that detect
hands on as a suspect. Each damage difference also gets the agreement-aware confidence of
the reading it voted for.

Nothing here depends on the order the references come in: ties go to keeping the input,
then to the reading itself, never to a list position.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from repair.edits import SUSPECT_KINDS, Evidence, SuspectKind
from repair.stages.align import Aligned, Reference
from repair.stages.label import DAMAGE, Difference, Passage

DAMAGE_KINDS: dict[str, SuspectKind] = {k: k for k in SUSPECT_KINDS}
# Numeric hygiene, not tuning: confidences are kept to 4 digits, and readings' summed weights are compared to
# 9, so that weights summed in another order (the same references given in another order) still tie.
DIGITS = 4
TIE_DIGITS = 9


@dataclass(frozen=True)
class WitnessSettings:
    """How the references' votes are weighed."""

    keep_weight: float = 0.8  # how much a reference agreeing with the input counts against a fix


@dataclass(frozen=True)
class Witness:
    """One reference's support for a fix: where it reads what, and how well its passage matches."""

    name: str
    ref_start: int  # normalized offsets in the reference
    ref_end: int
    ref_raw_start: int  # the same span in the reference's raw text
    ref_raw_end: int
    ref_text: str
    passage_score: float
    confidence: float  # from this reference alone


@dataclass(frozen=True)
class ReferenceFix:
    """The references' merged proposal for one input span: replace ``doc_text`` by ``after``."""

    doc_start: int
    doc_end: int
    doc_text: str
    after: str
    kind: SuspectKind
    confidence: float
    witnesses: tuple[Witness, ...]  # the references that agree, best first
    dissent: tuple[str, ...] = ()  # references covering the span that read otherwise

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(w.name for w in self.witnesses)

    def evidence(self) -> tuple[Evidence, ...]:
        """One Evidence per agreeing reference, naming its file and raw span."""
        others = f"; disagreeing: {', '.join(self.dissent)}" if self.dissent else ""
        agree = f"agreeing references: {len(self.witnesses)}{others}"
        return tuple(
            Evidence(
                source=f"ref:{w.name}",
                detail=f"reference reads “{w.ref_text}” ({agree})",
                span=(w.ref_raw_start, w.ref_raw_end),
                score=w.passage_score,
            )
            for w in self.witnesses
        )


@dataclass(frozen=True)
class Alignment:
    """The passages the references cover, their differences labelled, and the fixes the references agree on."""

    refs: tuple[Reference, ...]
    passages: tuple[Passage, ...]
    doc_text: str = ""  # the normalized input the passages' offsets point into
    fixes: tuple[ReferenceFix, ...] = ()  # merged once (`witness`): detect, the tables and the JSON read these

    def covering(self, start: int, end: int) -> list[Passage]:
        """Passages whose document span contains [start, end)."""
        return [p for p in self.passages if p.doc_start <= start and end <= p.doc_end]


@dataclass(frozen=True)
class _Vote:
    ref: int
    passage: Passage
    diffs: tuple[Difference, ...]  # empty: this reference reads as the input does
    text: str  # the input span as this reference would have it
    weight: float


def witness(aligned: Aligned, passages: tuple[Passage, ...], settings: WitnessSettings) -> Alignment:
    """The alignment with the references' votes counted: the fixes they agree on, and each damage difference's
    agreement-aware confidence."""
    draft = Alignment(aligned.refs, passages, aligned.doc.text)
    fixes, conf = _fixes_and_shares(draft, settings)
    voted = tuple(
        replace(
            p,
            differences=tuple(
                replace(d, confidence=conf.get((p.ref, d.doc_start, d.ref_start), d.confidence)) for d in p.differences
            ),
        )
        for p in passages
    )
    return replace(draft, passages=voted, fixes=tuple(fixes))


def _clusters(alignment: Alignment) -> list[tuple[int, int]]:
    """Input spans where damage differences from any reference overlap or touch."""
    spans = sorted((d.doc_start, d.doc_end) for p in alignment.passages for d in p.differences if d.label == DAMAGE)
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and (s < out[-1][1] or (s == out[-1][1] and (s == e or out[-1][0] == out[-1][1]))):
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _votes(alignment: Alignment, text: str, span: tuple[int, int], settings: WitnessSettings) -> list[_Vote]:
    """What each reference covering ``span`` reads there; a reference paraphrasing it abstains."""
    s, e = span
    votes = []
    for n in range(len(alignment.refs)):
        # a point (an insertion) is covered only strictly inside: a passage ending there knows nothing after it
        cover = [
            p
            for p in alignment.passages
            if p.ref == n and p.doc_start <= s and e <= p.doc_end and (s < e or p.doc_start < s < p.doc_end)
        ]
        if not cover:
            continue
        p = max(cover, key=lambda p: (p.score, -p.ref_start))
        inside = [
            d
            for d in p.differences
            if s <= d.doc_start and d.doc_end <= e and (s == e or (d.doc_start, d.doc_end) != (e, e))
        ]
        touching = [d for d in p.differences if d.doc_start < e and s < d.doc_end and d not in inside]
        if touching or any(d.label != DAMAGE for d in inside):
            continue
        if inside:
            parts, pos = [], s
            for d in sorted(inside, key=lambda d: (d.doc_start, d.doc_end)):
                parts += [text[pos : d.doc_start], d.after]
                pos = d.doc_end
            reading = "".join(parts) + text[pos:e]
            weight = max(d.local_confidence for d in inside)
        else:
            reading, weight = text[s:e], settings.keep_weight * p.score
        votes.append(_Vote(n, p, tuple(inside), reading, weight))
    return votes


def _reading_key(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def _combine(weights: Iterable[float]) -> float:
    """The chance at least one of independent witnesses is right."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


def _fixes_and_shares(
    alignment: Alignment, settings: WitnessSettings
) -> tuple[list[ReferenceFix], dict[tuple[int, int, int], float]]:
    """Merged fixes, and for every damage difference its agreement-aware confidence."""
    fixes: list[ReferenceFix] = []
    conf: dict[tuple[int, int, int], float] = {}
    doc_text = alignment.doc_text
    for span in _clusters(alignment):
        votes = _votes(alignment, doc_text, span, settings)
        if not votes:
            continue
        groups: dict[str, list[_Vote]] = defaultdict(list)
        for v in votes:
            groups[_reading_key(v.text)].append(v)
        total = sum(v.weight for v in votes)
        keep_key = _reading_key(doc_text[span[0] : span[1]])

        # ties go to keeping the input, then to the reading itself: never to a list position
        ranked = sorted(groups, key=lambda k: (round(sum(v.weight for v in groups[k]), TIE_DIGITS), k == keep_key, k))
        ranked.reverse()
        for key in ranked:
            g = groups[key]
            share = sum(v.weight for v in g) / total if total else 0.0
            c = round(_combine(v.weight for v in g) * share, DIGITS)
            for v in g:
                for d in v.diffs:
                    conf[(v.ref, d.doc_start, d.ref_start)] = c
        win = ranked[0]
        if win == keep_key:
            continue
        g = sorted(groups[win], key=lambda v: (-v.weight, alignment.refs[v.ref].name))
        share = sum(v.weight for v in g) / total
        reading = g[0].text
        witnesses = tuple(_witness(alignment, v) for v in g)
        dissent = tuple(sorted(alignment.refs[v.ref].name for v in votes if _reading_key(v.text) != win))
        kinds = {d.kind for v in g for d in v.diffs}  # damage differences have a suspect's kinds (`label`)
        kind: SuspectKind = DAMAGE_KINDS[kinds.pop()] if len(kinds) == 1 else "substitution"
        fixes.append(
            ReferenceFix(
                span[0],
                span[1],
                doc_text[span[0] : span[1]],
                reading,
                kind,
                round(_combine(v.weight for v in g) * share, DIGITS),
                witnesses,
                dissent,
            )
        )
    return fixes, conf


def _witness(alignment: Alignment, v: _Vote) -> Witness:
    ds = v.diffs
    rs, re_ = min(d.ref_start for d in ds), max(d.ref_end for d in ds)
    raw = alignment.refs[v.ref].normalized.layer.to_base(rs, re_)
    ref_text = alignment.refs[v.ref].normalized.text[rs:re_]
    return Witness(alignment.refs[v.ref].name, rs, re_, raw[0], raw[1], ref_text, v.passage.score, v.weight)
