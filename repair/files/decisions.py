"""A reviewer's decisions, kept apart from the edit list so a review can stop, resume, or come from the browser.

The file names each edit by its span and the text it covers, says what the reviewer
did (``accepted``, ``rejected``, ``chosen`` with the replacement, or ``skipped``: seen
and left as the tool decided) and carries the input's hash, so decisions are never
applied to another text. `repair review` writes it as decisions are made; the HTML
report writes the same format for download; `repair review --apply` reads either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from repair.edits import REVIEWER_DECISIONS, Edit, overlaps
from repair.files.editlist import sha256
from repair.files.textio import InputError, parse_json

FORMAT = "repair-decisions"
FORMAT_VERSION = 1
SKIPPED = "skipped"
KNOWN = (*REVIEWER_DECISIONS, SKIPPED)


@dataclass(frozen=True)
class Decision:
    """What the reviewer did with the edit at ``start``-``end`` that replaces ``before``."""

    start: int
    end: int
    before: str
    kind: str  # a held content edit and a surface fix can cover the same span: the kind tells them apart
    decision: str  # accepted | rejected | chosen | skipped
    after: str | None = None  # the replacement, for ``chosen``

    @property
    def key(self) -> tuple[int, int, str, str]:
        return (self.start, self.end, self.before, self.kind)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"start": self.start, "end": self.end, "before": self.before, "kind": self.kind}
        out["decision"] = self.decision
        if self.decision == "chosen":
            out["after"] = self.after or ""
        return out


def key_of(e: Edit) -> tuple[int, int, str, str]:
    return (e.start, e.end, e.before, e.kind)


def decide_edit(edits: Sequence[Edit], i: int, decision: str, after: str | None = None) -> tuple[Edit, ...]:
    """The edits with edit ``i`` decided; applying it un-applies the applied edits it overlaps.

    >>> es = [Edit(0, 3, "a b", "ab", "x", .4, applied=False), Edit(1, 2, " ", "", "y", .9)]
    >>> [(e.applied, e.decided_by) for e in decide_edit(es, 0, "chosen", "a-b")]
    [(True, 'chosen'), (False, 'held')]
    """
    if decision == SKIPPED:
        return tuple(edits)
    target = edits[i]
    if decision == "rejected":
        chosen = replace(target, applied=False, decision="rejected")
    elif decision == "accepted":
        chosen = replace(target, applied=True, decision="accepted")
    elif decision == "chosen":
        chosen = replace(target, applied=True, decision="chosen", after=target.after if after is None else after)
    else:
        raise ValueError(f"unknown decision {decision!r}")
    return tuple(
        chosen if j == i else (replace(e, applied=False) if chosen.applied and e.applied and overlaps(e, chosen) else e)
        for j, e in enumerate(edits)
    )


def apply_decisions(
    edits: Sequence[Edit], decisions: Iterable[Decision], *, name: str = "decisions"
) -> tuple[Edit, ...]:
    """The edits with every decision applied in the order made; a decision that names no edit is refused."""
    out = tuple(edits)
    where = {key_of(e): i for i, e in enumerate(out)}
    for d in decisions:
        i = where.get(d.key)
        if i is None:
            raise InputError(f"{name}: no {d.kind} edit at {d.start}-{d.end} covering {d.before!r} in this edit list")
        out = decide_edit(out, i, d.decision, d.after)
    return out


def recorded(edits: Sequence[Edit], seen: Iterable[int] = ()) -> list[Decision]:
    """The reviewer's decisions held in ``edits``, plus ``skipped`` for the edits ``seen`` and left undecided."""
    seen_set = set(seen)
    out = []
    for i, e in enumerate(edits):
        if e.decision:
            out.append(
                Decision(e.start, e.end, e.before, e.kind, e.decision, e.after if e.decision == "chosen" else None)
            )
        elif i in seen_set:
            out.append(Decision(e.start, e.end, e.before, e.kind, SKIPPED))
    return out


def dump_decisions(source: str, decisions: Sequence[Decision], *, input_name: str) -> str:
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "input": input_name,
        "input_sha256": sha256(source),
        "decisions": [d.to_json() for d in decisions],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def load_decisions(text: str | bytes, source: str, *, name: str = "decisions file") -> list[Decision]:
    """Parse a decisions file, check the whole of it against its schema, and check it was made for ``source``."""
    from repair.files.schema import validate_decisions

    doc: Any = parse_json(text, name)
    if isinstance(doc, dict) and doc.get("format") != FORMAT:
        raise InputError(f"{name} is not a repair decisions file (its format is not {FORMAT!r})")
    validate_decisions(doc, name=name)
    out = [
        Decision(d["start"], d["end"], d["before"], d["kind"], d["decision"], d.get("after"))
        for d in doc["decisions"]
    ]
    if doc.get("input_sha256") != sha256(source):
        raise InputError(f"{name} was made for a different input (its input_sha256 does not match)")
    return out
