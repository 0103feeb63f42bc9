"""The edit: the one unit every stage passes on, and the arithmetic of applying edits.

An `Edit` replaces ``input[start:end]`` with ``after``. Every stage works on some
derived text (normalized, say); `repair.text.layer.Layer` remembers how a derived text was made from
its base so an edit found on the derived text can be *lifted* back to offsets in
the base, absorbing the edits it overlaps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

# The kinds of damage, in the order tables list them: the surface kinds `normalize` repairs by rule, then the
# content kinds a suspect may be (`SuspectKind`).
Kind = Literal["tokenization", "mojibake", "whitespace", "duplicate", "stray", "gap", "substitution"]
KINDS: tuple[Kind, ...] = get_args(Kind)
SuspectKind = Literal["duplicate", "stray", "gap", "substitution"]
SUSPECT_KINDS: tuple[SuspectKind, ...] = get_args(SuspectKind)

# Where a candidate filler of a suspect span comes from, in the order one wins a tie of texts (`propose`): the
# text as it stands, a reference's reading, a duplicate's deletion, nothing where a paste was put in, a pronoun
# for a pasted name, a punctuation mark a pasted name stands over, another of the story's names, words the story
# has between the same neighbours, words of a reference sentence telling the same fact, the model's own drafts.
Source = Literal["keep", "ref", "delete", "drop", "pronoun", "mark", "names", "story", "paraphrase", "lm"]
SOURCES: tuple[Source, ...] = get_args(Source)

# Why `detect` holds a span suspect: a run of spaces (`normalize`), a word or phrase said twice at once,
# references agreeing on another reading, a name of the document pasted over words, a function word where the
# sentence breaks.
Cause = Literal["spaces", "repeat", "reference", "mention", "misfit"]
CAUSES: tuple[Cause, ...] = get_args(Cause)

# the decisions only a reviewer makes; ``applied`` and ``held`` are the threshold's
REVIEWER_DECISIONS: tuple[str, ...] = ("accepted", "rejected", "chosen")


@dataclass(frozen=True)
class Evidence:
    """Why an edit is proposed: a rule, a reference passage, or model scores."""

    source: str  # "rule:NAME" | "ref:PATH" | "lm:MODEL" | "detector:NAME"
    detail: str = ""
    span: tuple[int, int] | None = None  # char span in the reference's raw text
    score: float | None = None
    candidates: tuple[tuple[str, float], ...] = ()  # (text, score), best first

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"source": self.source, "detail": self.detail}
        if self.span is not None:
            out["span"] = list(self.span)
        if self.score is not None:
            out["score"] = round(self.score, 4)
        if self.candidates:
            out["candidates"] = [[t, round(s, 4)] for t, s in self.candidates]
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Evidence:
        span = data.get("span")
        score = data.get("score")
        cands = data.get("candidates") or []
        return cls(
            source=str(data["source"]),
            detail=str(data.get("detail", "")),
            span=(int(span[0]), int(span[1])) if isinstance(span, list) else None,
            score=float(score) if isinstance(score, (int, float)) else None,
            candidates=tuple((str(t), float(s)) for t, s in cands),  # type: ignore[attr-defined]
        )


@dataclass(frozen=True)
class Edit:
    """Replace ``input[start:end]`` (== ``before``) with ``after``."""

    start: int
    end: int
    before: str
    after: str
    kind: str  # one of KINDS when this tool made the edit; an edit list read back may name others
    confidence: float
    evidence: tuple[Evidence, ...] = ()
    applied: bool = True
    # what a reviewer may choose instead of ``after``: (replacement of before, calibrated share), best first
    alternatives: tuple[tuple[str, float], ...] = ()
    decision: str = ""  # "" while the tool's threshold decides, else the reviewer's: one of REVIEWER_DECISIONS

    @property
    def question(self) -> bool:
        """A flagged span with no confident fix: it changes nothing until a reviewer picks an alternative."""
        return self.before == self.after and bool(self.alternatives)

    @property
    def decided_by(self) -> str:
        """Who decided: ``applied`` / ``held`` by the threshold, or the reviewer's decision.

        >>> Edit(0, 1, "a", "b", "x", .2, applied=False).decided_by
        'held'
        """
        return self.decision or ("applied" if self.applied else "held")

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "start": self.start,
            "end": self.end,
            "before": self.before,
            "after": self.after,
            "kind": self.kind,
            "confidence": round(self.confidence, 4),
            "applied": self.applied,
            "decision": self.decided_by,
            "evidence": [e.to_json() for e in self.evidence],
        }
        if self.alternatives:
            out["alternatives"] = [{"text": t, "share": round(s, 4)} for t, s in self.alternatives]
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Edit:
        ev = data.get("evidence") or []
        decision = str(data.get("decision") or "")
        return cls(
            start=int(data["start"]),  # type: ignore[call-overload]
            end=int(data["end"]),  # type: ignore[call-overload]
            before=str(data["before"]),
            after=str(data["after"]),
            kind=str(data["kind"]),
            confidence=float(data["confidence"]),  # type: ignore[arg-type]
            applied=bool(data.get("applied", True)),
            evidence=tuple(Evidence.from_json(e) for e in ev),  # type: ignore[attr-defined]
            alternatives=tuple(
                (str(a["text"]), float(a["share"]))
                for a in data.get("alternatives") or []  # type: ignore[attr-defined]
            ),
            decision=decision if decision in REVIEWER_DECISIONS else "",
        )


class EditError(ValueError):
    """Edits that do not fit the text they claim to change."""


def check_edits(text: str, edits: Iterable[Edit]) -> list[Edit]:
    """Sort edits and verify offsets, ``before`` and non-overlap; return them sorted.

    >>> check_edits("ab", [Edit(0, 1, "a", "A", "x", 1.0)])[0].after
    'A'
    """
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    prev_end = 0
    prev_insert_at = -1
    for e in ordered:
        if not 0 <= e.start <= e.end <= len(text):
            raise EditError(f"edit {e.start}-{e.end} lies outside the text (length {len(text)})")
        if text[e.start : e.end] != e.before:
            raise EditError(f"edit {e.start}-{e.end}: before={e.before!r} but text has {text[e.start : e.end]!r}")
        if e.start < prev_end or (e.start == e.end == prev_insert_at):
            raise EditError(f"edit {e.start}-{e.end} overlaps the edit before it")
        prev_end = max(prev_end, e.end)
        if e.start == e.end:
            prev_insert_at = e.start
    return ordered


def apply_edits(text: str, edits: Iterable[Edit], *, only_applied: bool = True) -> str:
    """Apply non-overlapping edits; with none applied the text comes back unchanged.

    >>> apply_edits("the the cat", [Edit(0, 4, "the ", "", "duplicate", 0.9)])
    'the cat'
    """
    chosen = [e for e in edits if e.applied or not only_applied]
    parts: list[str] = []
    pos = 0
    for e in check_edits(text, chosen):
        parts.append(text[pos : e.start])
        parts.append(e.after)
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts)


def overlaps(a: Edit, b: Edit) -> bool:
    """Whether two edits cannot both be applied (the rule `check_edits` enforces).

    >>> overlaps(Edit(0, 3, "abc", "", "x", 1), Edit(2, 2, "", "d", "x", 1))
    True
    >>> overlaps(Edit(0, 3, "abc", "", "x", 1), Edit(3, 3, "", "d", "x", 1))
    False
    """
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    return a.start < b.end and b.start < a.end
