"""The ranked alternatives a reviewer may choose from, and the questions asked where no fix is confident.

A suspect's candidates come scored as log-probabilities; their softmax is the raw
share. The winner's share is judged (`repair.stages.verdict`); the probability it
loses is spread over the other candidates (the original wording among them) in
proportion to their raw shares, so the shares a reviewer sees sum to one and the
winner's equals the edit's confidence.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from repair.edits import Edit, Evidence
from repair.stages.spans import Candidate, Proposal
from repair.stages.verdict import Judge, raw_shares

MAX_ALTERNATIVES = 9  # one key each, 1-9 (`repair review`): the reviewer's keyboard, not a tuning
QUESTION_SOURCE = "decide:question"


def ranked_shares(
    candidates: Sequence[Candidate], before: str, lead: int, lead_share: float
) -> tuple[tuple[str, float], ...]:
    """The candidates that change ``before``, as (text, share), most likely first; ``lead`` has ``lead_share``.

    >>> cands = [Candidate("influence", "lm", 0.0), Candidate("its", "lm", -1.0), Candidate("Assad", "keep", -1.0)]
    >>> [(t, round(s, 2)) for t, s in ranked_shares(cands, "Assad", 0, 0.1)]
    [('its', 0.45), ('influence', 0.1)]
    """
    raw = raw_shares(candidates)
    rest = (1.0 - lead_share) / max(1e-9, 1.0 - raw[lead])
    best: dict[str, float] = {}
    for i, (c, r) in enumerate(zip(candidates, raw, strict=True)):
        if c.source == "keep" or c.text == before:
            continue
        share = lead_share if i == lead else min(1.0, r * rest)
        best[c.text] = max(share, best.get(c.text, 0.0))
    order = sorted(best.items(), key=lambda kv: -kv[1])
    return tuple((t, round(s, 4)) for t, s in order[:MAX_ALTERNATIVES])


def first_change(candidates: Sequence[Candidate], before: str) -> int | None:
    """Index of the best candidate that changes the text (None: every candidate keeps it)."""
    return next((i for i, c in enumerate(candidates) if c.source != "keep" and c.text != before), None)


def questions(
    text: str,
    proposals: Sequence[Proposal],
    taken: Sequence[Edit],
    judge: Judge,
    *,
    shown: int,
    min_share: float,
    ask_prior: float = 1.0,
) -> list[Edit]:
    """A no-op edit, not applied, for each flagged span whose candidates all lost to its own wording.

    Its alternatives are the candidates that would change it; its confidence is the best one's
    (``judge``), and it is asked only if that is at least ``min_share`` (less is noise) or the
    detector held the span at least ``ask_prior`` likely damaged (a reviewer should look there,
    whatever the candidates). Spans that overlap an edit in ``taken`` are left out: that edit
    already asks about them. The evidence shows the ``shown`` best candidates with their scores.
    """
    out: list[Edit] = []
    ordered = sorted(taken, key=lambda e: (e.start, e.end))
    starts = [e.start for e in ordered]
    for p in proposals:
        s = p.suspect
        before = text[s.start : s.end]
        if not p.candidates or (p.candidates[0].source != "keep" and p.candidates[0].text != before):
            continue
        lead = first_change(p.candidates, before)
        if lead is None or _touches_any(s.start, s.end, ordered, starts):
            continue
        share, judged = judge(p, lead, before, shown)
        alts = ranked_shares(p.candidates, before, lead, share)
        if not alts or (alts[0][1] < min_share and s.score < ask_prior):
            continue
        scored = tuple((c.text, c.score) for c in p.candidates[:shown])
        why = Evidence(QUESTION_SOURCE, f"{s.reason}; no candidate beat the text as it stands", candidates=scored)
        out.append(Edit(s.start, s.end, before, before, s.kind, alts[0][1], (*s.evidence, why, *judged), False, alts))
    return out


def _touch(start: int, end: int, e: Edit) -> bool:
    return (start < e.end and e.start < end) or start == end == e.start == e.end


def _touches_any(start: int, end: int, ordered: Sequence[Edit], starts: Sequence[int]) -> bool:
    """Whether [start, end) touches one of ``ordered`` (edits that do not overlap, sorted; ``starts`` theirs).

    Only edits starting at or before ``end`` can touch, and going back from there their ends fall: the
    walk stops at the first that ends before ``start``.

    >>> es = [Edit(0, 3, "abc", "", "x", 1), Edit(5, 7, "fg", "", "x", 1), Edit(9, 9, "", "z", "x", 1)]
    >>> [_touches_any(a, b, es, [e.start for e in es]) for a, b in ((2, 4), (3, 5), (6, 6), (9, 9), (8, 9))]
    [True, False, True, True, False]
    """
    i = bisect_right(starts, end)
    while i > 0:
        i -= 1
        e = ordered[i]
        if _touch(start, end, e):
            return True
        if e.end < start:
            return False
    return False
