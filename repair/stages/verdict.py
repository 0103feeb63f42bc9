"""How sure to be of a fix: the signs its candidate carries, weighed by a model fitted on real stories.

A candidate's share among its rivals is only one sign that it is right. The detector's
prior that the span is damage at all, how far it leads the original wording and the
runner-up, where it came from and how many sources offered the same words, what kind of
suspect it fills: a logistic model over these (`decision_signs`), fitted on the judged edits
of the benchmark's fit stories (``benchmarks/decision_fit.py``), gives the share of fixes
like it that were right. Without a fitted model the raw share goes through the calibration
map (`repair.stages.calibrate`), as rule edits always do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from repair.edits import Evidence
from repair.stages.calibrate import SOURCE_NAMES, CalibrationMap, Features, calibration_evidence, margin_of
from repair.stages.logistic import Logistic
from repair.stages.spans import Candidate, Proposal

SIGNS_SOURCE = "decide:signs"
# the evidence each kind of candidate brings, telling where its words came from: how many sources agree
ORIGINS = ("ref:", "rule:pronoun", "rule:break", "rule:drop", "rule:delete", "story", "ref-sentence", "lm:draft")
NATS_SCALE = 5.0  # score gaps are read in units of this many nats
MAX_GAP = 2.0  # ...and clipped to this many units either way
WORDS_SCALE = 3  # words added or taken away, clipped to this many


def raw_shares(candidates: Sequence[Candidate]) -> list[float]:
    """Softmax of the candidates' scores.

    >>> [round(x, 2) for x in raw_shares([Candidate("a", "lm", 0.0), Candidate("b", "lm", -math.log(3))])]
    [0.75, 0.25]
    """
    if not candidates:
        return []
    top = max(c.score for c in candidates)
    weights = [math.exp(c.score - top) for c in candidates]
    total = sum(weights)
    return [w / total for w in weights]


def _logit(p: float) -> float:
    p = min(1 - 1e-4, max(1e-4, p))
    return math.log(p / (1 - p))


def _gap(nats: float) -> float:
    return max(-MAX_GAP, min(MAX_GAP, nats / NATS_SCALE))


def origins(c: Candidate) -> int:
    """How many kinds of source offered the candidate's words (the model's draft, a pronoun rule, the story ...)."""
    return len({o for ev in c.evidence for o in ORIGINS if ev.source.startswith(o)})


def decision_signs(p: Proposal, lead: int, before: str, refs: int) -> dict[str, float]:
    """The signs that candidate ``lead`` of a proposal is the right fix of ``before`` (absent signs count 0).

    >>> from repair.stages.spans import Suspect
    >>> s = Suspect(0, 6, "substitution", 0.8, "", cause="mention")
    >>> cands = (Candidate("its", "pronoun", -1.0), Candidate("Russia", "keep", -3.0))
    >>> signs = decision_signs(Proposal(s, cands), 0, "Russia", 0)
    >>> signs["source=pronoun"], round(signs["keep gap"], 2), round(signs["share"], 3)
    (1.0, 0.4, 0.881)
    """
    cands = p.candidates
    best, s = cands[lead], p.suspect
    shares = raw_shares(cands)
    keep = next((c.score for c in cands if c.source == "keep"), None)
    rivals = [c.score for i, c in enumerate(cands) if i != lead]
    added = len(best.text.split()) - len(before.split())
    signs = {
        f"source={best.source}": 1.0,
        f"kind={s.kind}": 1.0,
        f"cause={s.cause}": 1.0,
        "share": shares[lead],
        "share logit": _logit(shares[lead]) / NATS_SCALE,
        "margin": _gap(best.score - max(rivals)) if rivals else MAX_GAP,
        "keep gap": _gap(best.score - keep) if keep is not None else MAX_GAP,
        "prior": s.score,
        "prior logit": _logit(s.score) / NATS_SCALE,
        "references": float(min(refs, 2)),
        "sources agree": float(max(0, origins(best) - 1)),
        "words added": max(-WORDS_SCALE, min(WORDS_SCALE, added)) / WORDS_SCALE,
        "deletes": float(not best.text.strip()),
        "candidates": math.log(len(cands)),
    }
    return {k: v for k, v in signs.items() if v}


@dataclass(frozen=True)
class Judge:
    """How sure decide is of a proposal's candidate: the fitted decision model over its signs where there is
    one, else its raw share through the calibration map."""

    cmap: CalibrationMap
    model: Logistic | None = None

    def __call__(self, p: Proposal, lead: int, before: str, shown: int) -> tuple[float, tuple[Evidence, ...]]:
        """The candidate's confidence and the evidence of how it was reached (its signs, the raw share)."""
        best, s = p.candidates[lead], p.suspect
        scored = tuple((c.text, c.score) for c in p.candidates[:shown])
        refs = len({ev.source for ev in (*s.evidence, *best.evidence) if ev.source.startswith("ref:")})
        source = SOURCE_NAMES.get(best.source, best.source)
        f = Features(s.kind, source, round(raw_shares(p.candidates)[lead], 4), margin_of(scored), refs)
        signs = decision_signs(p, lead, before, refs)
        kept = Evidence(SIGNS_SOURCE, "what the decision weighed", candidates=tuple(sorted(signs.items())))
        if self.model is None:
            value, group = self.cmap.calibrate(f.kind, f.source, f.raw)
            return value, (kept, calibration_evidence(f, value, group))
        value = round(self.model.probability(signs), 4)
        return value, (kept, calibration_evidence(f, value, "fixes with these signs, on real stories"))
