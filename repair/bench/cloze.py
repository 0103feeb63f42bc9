"""Where the damage is lost: for each damaged span of the answer key, what became of it.

Detection and correction scores mix three questions: was the span flagged, were the original
words among its candidates, and did they win. Here every span of the key that damaged words
(`repair.bench.originals.original_class`: a pasted name over a pronoun, function word, content
word, several words or punctuation; a dropped word; an extra token) gets one outcome:

- ``fixed``: the repaired text reads as the original there;
- ``held``: the first suggestion there was the original, but it was not applied;
- ``lower``: the original was among the suggestions, ranked lower;
- ``missing``: the span was flagged, but no suggestion restores the original;
- ``unflagged``: nothing touched the span.

The cloze columns (the rank of the original among the fixes proposed, keeping the span as it
is not counting as a fix) come from the same items.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich import box
from rich.table import Table

from repair.bench.originals import ORIGINALS, SHORT, original_class
from repair.bench.score import TOKENIZATION, extract_edits
from repair.edits import Edit
from repair.stages.normalize import Normalized
from repair.stages.spans import Proposal

Outcome = Literal["fixed", "held", "lower", "missing", "unflagged"]
OUTCOMES: tuple[Outcome, ...] = ("fixed", "held", "lower", "missing", "unflagged")
OUTCOME_LABELS: dict[Outcome, str] = {
    "fixed": "fixed",
    "held": "held",
    "lower": "lower",
    "missing": "no cand.",
    "unflagged": "unflagged",
}
TOP_K = 5  # the second recall column: the original among the first this many fixes
SURFACE_KINDS = frozenset({TOKENIZATION, "mojibake", "whitespace"})


@dataclass(frozen=True)
class ClozeItem:
    """One damaged span of the key and what the tool made of it."""

    case: str
    kind: str  # what the original was: one of `repair.bench.originals.ORIGINALS`
    damaged: str
    original: str
    flagged: bool  # an edit of the run (applied, held or a question) touched the span
    rank: int | None  # of the original among the fixes proposed there, from 1; None: not proposed
    fixes: int  # fixes proposed for the suspects there
    wins: bool  # the original outranks keeping the span: it would be the edit
    best: str = ""  # the best-ranked fix, to read the misses
    fixed: bool = False  # the repaired text reads as the original there

    @property
    def outcome(self) -> Outcome:
        if self.fixed:
            return "fixed"
        if not self.flagged:
            return "unflagged"
        if self.rank is None:
            return "missing"
        return "held" if self.rank == 1 else "lower"

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self)) | {"outcome": self.outcome}


def _bare(text: str) -> str:
    """Text with whitespace taken out: normalization's re-spacing ("U. S." -> "U.S.") is not the question here."""
    return re.sub(r"\s+", "", text)


def _touches(s0: int, s1: int, a0: int, a1: int) -> bool:
    return (s0 < a1 and a0 < s1) or ((s0 == s1 or a0 == a1) and s0 <= a1 and a0 <= s1)


def restored(text: str, gold: str, output: str, answers: Sequence[Edit]) -> list[bool]:
    """Per answer of the key: whether ``output`` reads as ``gold`` there (every content difference under it undone).

    The differences are the scorer's (`repair.bench.score.extract_edits`), so "fixed" here is a
    correction the score counts right.
    """
    wanted = [e for e in extract_edits(text, gold, answers) if e.kind != TOKENIZATION]
    made = {e.key for e in extract_edits(text, output) if e.kind != TOKENIZATION}
    out = []
    for a in answers:
        under = [e for e in wanted if _touches(e.char_start, e.char_end, a.start, a.end)]
        out.append(bool(under) and all(e.key in made for e in under))
    return out


def cloze_items(
    case: str,
    text: str,
    answers: Sequence[Edit],
    doc: Normalized,
    proposals: Sequence[Proposal],
    *,
    gold: str | None = None,
    output: str | None = None,
    edits: Sequence[Edit] = (),
) -> list[ClozeItem]:
    """Every word-damaging answer of the key ``answers`` (on ``text``) against what the run made of it.

    A candidate restores the original when putting it in place makes the text around the answer
    read as the original there (whitespace aside); a suspect wider or narrower than the damage can
    still do so, or fail to. ``edits`` (on ``text``) are the run's edits, applied, held or asked: one
    touching the answer flags it, and one that restores it counts as a first suggestion.
    ``gold`` and ``output`` tell which answers the repair fixed.
    """
    fixed = restored(text, gold, output, answers) if gold is not None and output is not None else [False] * len(answers)
    lifted = [(p, *doc.layer.to_base(p.suspect.start, p.suspect.end)) for p in proposals]
    content_edits = [e for e in edits if e.kind not in SURFACE_KINDS]
    out = []
    for a, is_fixed in zip(answers, fixed, strict=True):
        kind = original_class(a)
        if kind is None:
            continue
        rank: int | None = None
        wins = False
        fixes = 0
        best = ""
        hits = [h for h in lifted if _touches(h[1], h[2], a.start, a.end)]
        for p, bs, be, ds, de in hits:
            fix = [c for c in p.candidates if c.source != "keep"]
            fixes += len(fix)
            best = best or (fix[0].text.strip() if fix else "")
            lo, hi = min(bs, a.start), max(be, a.end)
            target = _bare(text[lo : a.start] + a.after + text[a.end : hi])
            for i, c in enumerate(fix, 1):
                after = doc.text[ds : p.suspect.start] + c.text + doc.text[p.suspect.end : de]
                if _bare(text[lo:bs] + after + text[be:hi]) == target:
                    rank = i if rank is None else min(rank, i)
                    wins = wins or p.candidates[0] is c
                    break
        touching = [e for e in content_edits if _touches(e.start, e.end, a.start, a.end)]
        for e in touching:
            lo, hi = min(e.start, a.start), max(e.end, a.end)
            if e.after != e.before and _bare(text[lo : e.start] + e.after + text[e.end : hi]) == _bare(
                text[lo : a.start] + a.after + text[a.end : hi]
            ):
                rank = 1
        # flagged as a user sees it: an edit there, applied, held or asked (a suspect whose candidates all
        # lost to the text, with none worth a question, shows the user nothing)
        flagged = bool(touching) or is_fixed
        out.append(ClozeItem(case, kind, a.before, a.after.strip(), flagged, rank, fixes, wins, best, is_fixed))
    return out


def _share(n: int, of: int) -> float:
    return round(n / of, 4) if of else 0.0


def _groups(items: Sequence[ClozeItem]) -> dict[str, list[ClozeItem]]:
    groups = {kind: [i for i in items if i.kind == kind] for kind in ORIGINALS}
    return {k: g for k, g in groups.items() if g} | ({"all": list(items)} if items else {})


def summary(items: Sequence[ClozeItem]) -> dict[str, dict[str, float]]:
    """Per kind of original (and "all"): spans, share flagged, and of the flagged the share whose original is a
    fix ranked first (r1), in the first five (r5), among all kept (rall), and that outranks keeping (wins)."""
    rows: dict[str, dict[str, float]] = {}
    for kind, group in _groups(items).items():
        flagged = [i for i in group if i.flagged]
        found = [i.rank for i in flagged if i.rank is not None]
        rows[kind] = {
            "spans": len(group),
            "flagged": _share(len(flagged), len(group)),
            "r1": _share(sum(r == 1 for r in found), len(flagged)),
            f"r{TOP_K}": _share(sum(r <= TOP_K for r in found), len(flagged)),
            "rall": _share(len(found), len(flagged)),
            "wins": _share(sum(i.wins for i in flagged), len(flagged)),
            "mean_rank": round(sum(found) / len(found), 2) if found else 0.0,
            "fixes": round(sum(i.fixes for i in flagged) / len(flagged), 1) if flagged else 0.0,
        }
    return rows


def loss(items: Sequence[ClozeItem]) -> dict[str, dict[str, float]]:
    """Per kind of original (and "all"): spans, and the share of them with each outcome (`OUTCOMES`)."""
    return {
        kind: {"spans": len(group)} | {o: _share(sum(i.outcome == o for i in group), len(group)) for o in OUTCOMES}
        for kind, group in _groups(items).items()
    }


def cloze_json(items: Sequence[ClozeItem]) -> dict[str, Any]:
    """What `repair bench --json` keeps: the loss and cloze summaries, their numbers flat (for --compare),
    every item."""
    rows, lost = summary(items), loss(items)
    flat = {f"cloze.{k}.{m}": v for k, row in rows.items() for m, v in row.items() if m != "spans"}
    flat |= {f"loss.{k}.{o}": v for k, row in lost.items() for o, v in row.items() if o != "spans"}
    return {"summary": rows, "loss": lost, "metrics": flat, "items": [i.to_json() for i in items]}


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def loss_table(items: Sequence[ClozeItem]) -> Table:
    """Where the damage is lost, per kind of original (percent of its spans)."""
    table = _table("where the damage is lost: damaged spans by original (percent of the kind's spans)")
    table.caption = (
        "held: the first suggestion was the original, not applied; lower: the original ranked lower;"
        " no cand.: flagged, the original not among the candidates"
    )
    table.caption_justify = "left"
    for name in ("original was", "spans", *(OUTCOME_LABELS[o] for o in OUTCOMES)):
        table.add_column(name, justify="left" if name == "original was" else "right", no_wrap=True)
    for kind, row in loss(items).items():
        cells = [f"{100 * row[o]:.0f}" for o in OUTCOMES]
        table.add_row(SHORT[kind], str(int(row["spans"])), *cells, style="bold" if kind == "all" else "")
    return table


def cloze_table(items: Sequence[ClozeItem]) -> Table:
    """The cloze summary as a table (percent)."""
    table = _table("cloze: damaged spans of the answer key (recall among the flagged, percent)")
    heads = ("original", "spans", "flagged", "r@1", f"r@{TOP_K}", "r@all", "wins", "mean rank", "fixes")
    for name in heads:
        table.add_column(name, justify="left" if name == "original" else "right", no_wrap=True)
    for kind, row in summary(items).items():
        pct = [f"{100 * row[m]:.1f}" for m in ("flagged", "r1", f"r{TOP_K}", "rall", "wins")]
        table.add_row(
            SHORT[kind],
            str(int(row["spans"])),
            *pct,
            f"{row['mean_rank']:.2f}",
            f"{row['fixes']:.1f}",
            style="bold" if kind == "all" else "",
        )
    return table
