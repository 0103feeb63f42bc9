"""Pick the best candidate per suspect, calibrate its confidence, abstain when weak.

Content edits are found on the normalized text; here they are lifted back to the
input, absorbing the normalization edits they overlap.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import replace

from repair.edits import Edit, Evidence
from repair.normalize import Normalized
from repair.spans import Proposal

DEFAULT_MIN_CONFIDENCE = 0.5


def confidence_of(proposal: Proposal, temperature: float = 1.0) -> float:
    """The share of the best candidate among all, the original wording included.

    Candidate scores already hold the suspect's prior, so this is the posterior that
    the best fix is right; ``temperature`` is fitted on the synthetic benchmark.
    """
    cands = proposal.candidates
    if not cands:
        return 0.0
    top = cands[0].score
    return 1.0 / sum(math.exp((c.score - top) / temperature) for c in cands)


def content_edits(doc: Normalized, proposals: Sequence[Proposal]) -> list[Edit]:
    """One edit on the normalized text per proposal whose best candidate changes something."""
    out: list[Edit] = []
    for p in proposals:
        if not p.candidates:
            continue
        best = p.candidates[0]
        s = p.suspect
        before = doc.text[s.start : s.end]
        if best.source == "keep" or best.text == before:
            continue
        ranked = tuple((c.text, c.score) for c in p.candidates[:5])
        evidence = (
            s.evidence
            + best.evidence
            + (Evidence(source=f"decide:{best.source}", detail=s.reason, candidates=ranked),)
        )
        out.append(Edit(s.start, s.end, before, best.text, s.kind, confidence_of(p), evidence))
    return out


def decide(doc: Normalized, proposals: Sequence[Proposal], min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> tuple[Edit, ...]:
    """All edits in input offsets; those under ``min_confidence`` are kept but marked not applied."""
    found = _drop_overlaps(content_edits(doc, proposals))
    applied = [e for e in found if e.confidence >= min_confidence]
    rejected = [replace(e, applied=False) for e in found if e.confidence < min_confidence]
    lifted = doc.layer.lift_group(applied) if applied else []
    swallowed = {id(a) for e in applied for a in doc.layer.absorbed_by(e.start, e.end)}
    surface = [
        e if e.confidence >= min_confidence else replace(e, applied=False)
        for e in doc.edits
        if id(e) not in swallowed
    ]
    shown = [doc.layer.lift(e) for e in rejected]
    return tuple(sorted(surface + lifted + shown, key=lambda e: (e.start, e.end, not e.applied)))


def _drop_overlaps(edits: list[Edit]) -> list[Edit]:
    """Where two proposals overlap, keep the more confident one."""
    kept: list[Edit] = []
    spans: list[tuple[int, int]] = []  # the kept spans, sorted; they do not overlap, so their ends rise too
    for e in sorted(edits, key=lambda e: -e.confidence):
        i = bisect.bisect_left(spans, (e.end, -1))  # spans[:i] start before e ends
        if i and spans[i - 1][1] > e.start:
            continue
        if e.start == e.end and (e.start, e.end) in spans[i : i + 1]:  # two insertions at one point
            continue
        spans.insert(i, (e.start, e.end))
        kept.append(e)
    return sorted(kept, key=lambda e: (e.start, e.end))
