"""The cloze view of `repair bench`: for each damaged span of the answer key, were the original words proposed?

Detection and correction scores mix three questions: was the span flagged, were the
original words among its candidates, and did they win. This view answers the middle one,
which is where candidate generation shows: for every substituted or dropped span the key
of `repair corrupt` knows, whether a suspect covered it, and the rank of the original among
the fixes proposed there (keeping the span as it is does not count as a fix), split by what
the original was: a function word, a content word, a pronoun or possessive, two or three
words, or words dropped at a gap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.table import Table

from repair.edits import Edit
from repair.lm import LanguageModel
from repair.pipeline import repair_text
from repair.stages.normalize import Normalized
from repair.stages.spans import Proposal
from repair.text.english import COREF_WORDS

CLOZE_KINDS: tuple[str, ...] = ("function", "content", "pronoun", "span", "gap")
LABELS = {
    "function": "function word",
    "content": "content word",
    "pronoun": "pronoun/possessive",
    "span": "2-3-word original",
    "gap": "gap",
    "all": "all",
}
TOP_K = 5  # the second recall column: the original among the first this many fixes
# closed-class words (the pronouns a coreference step overwrites are a kind of their own)
FUNCTION_WORDS = frozenset(
    """a an the this that these those we our us you your i my me who whom whose which what how why when where
    whether there here of to in on at by for from with without into onto over under about after before since
    until through against between among during up down out off as than but and or nor so yet if because
    though although while not no also is are was were be been being am has have had do does did will would
    can could should may might must shall all any some each every both many more most such other another""".split()
)
_EDGE_PUNCT = "\"'“”‘’.,;:!?()[]"


def cloze_kind(answer: Edit) -> str | None:
    """What an answer of the key restores, or None for damage no words are proposed for (duplicates, brackets).

    >>> [cloze_kind(Edit(0, 6, "Russia", w, "substitution", 1.0)) for w in ("its", "of", "alliance", "to all")]
    ['pronoun', 'function', 'content', 'span']
    """
    if answer.kind == "gap":
        return "gap"
    words = answer.after.split()
    if answer.kind != "substitution" or not words:
        return None
    if len(words) > 1:
        return "span"
    word = words[0].strip(_EDGE_PUNCT).lower()
    return "pronoun" if word in COREF_WORDS else "function" if word in FUNCTION_WORDS else "content"


@dataclass(frozen=True)
class ClozeItem:
    """One damaged span of the key and what the tool proposed for it."""

    case: str
    kind: str  # one of CLOZE_KINDS
    damaged: str
    original: str
    flagged: bool  # a suspect covered or touched the span
    rank: int | None  # of the original among the fixes proposed there, from 1; None: not proposed
    fixes: int  # fixes proposed for the suspects there
    wins: bool  # the original outranks keeping the span: it would be the edit
    best: str = ""  # the best-ranked fix, to read the misses

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def _bare(text: str) -> str:
    """Text with whitespace taken out: normalization's re-spacing ("U. S." -> "U.S.") is not the question here."""
    return re.sub(r"\s+", "", text)


def _touches(s0: int, s1: int, a0: int, a1: int) -> bool:
    return (s0 < a1 and a0 < s1) or ((s0 == s1 or a0 == a1) and s0 <= a1 and a0 <= s1)


def cloze_items(
    case: str, text: str, answers: Iterable[Edit], doc: Normalized, proposals: Sequence[Proposal]
) -> list[ClozeItem]:
    """Every substitution and gap of the key ``answers`` (on ``text``) against the proposals made on ``doc``.

    A candidate restores the original when putting it in place makes the text around the
    answer read as the original there (whitespace aside); a suspect wider or narrower than
    the damage can still do so, or fail to.
    """
    lifted = [(p, *doc.layer.to_base(p.suspect.start, p.suspect.end)) for p in proposals]
    out = []
    for a in answers:
        kind = cloze_kind(a)
        if kind is None:
            continue
        hits = [h for h in lifted if _touches(h[1], h[2], a.start, a.end)]
        rank: int | None = None
        wins = False
        fixes = 0
        best = ""
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
        out.append(ClozeItem(case, kind, a.before, a.after.strip(), bool(hits), rank, fixes, wins, best))
    return out


class Recorder:
    """The pipeline as a bench repairer that keeps each run's normalized text and proposals."""

    def __init__(self, lm: LanguageModel | None, min_confidence: float) -> None:
        self.lm, self.min_confidence = lm, min_confidence
        self.runs: dict[str, tuple[Normalized, tuple[Proposal, ...]]] = {}

    def __call__(self, text: str, refs: Sequence[tuple[str, str]]) -> tuple[str, Sequence[Edit]]:
        r = repair_text(text, refs, self.lm, min_confidence=self.min_confidence)
        self.runs[text] = (r.doc, r.proposals)
        return r.output, r.edits


def cloze_of(cases: Iterable[Any], recorder: Recorder) -> list[ClozeItem]:
    """The cloze items of every benchmark case (`repair.bench.Case`) the recorder repaired."""
    out: list[ClozeItem] = []
    for case in cases:
        run = recorder.runs.get(case.input)
        if case.answers and run is not None:
            out += cloze_items(case.name, case.input, case.answers, *run)
    return out


def summary(items: Sequence[ClozeItem]) -> dict[str, dict[str, float]]:
    """Per kind (and "all"): spans, share flagged, and of the flagged the share whose original is a fix
    ranked first (r1), in the first five (r5), among all kept (rall), and that outranks keeping (wins)."""
    rows: dict[str, dict[str, float]] = {}
    for kind in (*CLOZE_KINDS, "all"):
        group = [i for i in items if kind in ("all", i.kind)]
        if not group:
            continue
        flagged = [i for i in group if i.flagged]
        found = [i.rank for i in flagged if i.rank is not None]

        def share(n: int, of: int) -> float:
            return round(n / of, 4) if of else 0.0

        rows[kind] = {
            "spans": len(group),
            "flagged": share(len(flagged), len(group)),
            "r1": share(sum(r == 1 for r in found), len(flagged)),
            f"r{TOP_K}": share(sum(r <= TOP_K for r in found), len(flagged)),
            "rall": share(len(found), len(flagged)),
            "wins": share(sum(i.wins for i in flagged), len(flagged)),
            "mean_rank": round(sum(found) / len(found), 2) if found else 0.0,
            "fixes": round(sum(i.fixes for i in flagged) / len(flagged), 1) if flagged else 0.0,
        }
    return rows


def cloze_json(items: Sequence[ClozeItem]) -> dict[str, Any]:
    """What `repair bench --cloze --json` keeps: the summary, its numbers flat (for --compare), every item."""
    rows = summary(items)
    flat = {f"cloze.{k}.{m}": v for k, row in rows.items() for m, v in row.items() if m != "spans"}
    return {"summary": rows, "metrics": flat, "items": [i.to_json() for i in items]}


def cloze_table(items: Sequence[ClozeItem]) -> Table:
    """The summary as a table (percent)."""
    table = Table(
        title="cloze: damaged spans of the answer key (recall among the flagged, percent)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    heads = ("original", "spans", "flagged", "r@1", f"r@{TOP_K}", "r@all", "wins", "mean rank", "fixes")
    for name in heads:
        table.add_column(name, justify="left" if name == "original" else "right", no_wrap=True)
    for kind, row in summary(items).items():
        pct = [f"{100 * row[m]:.1f}" for m in ("flagged", "r1", f"r{TOP_K}", "rall", "wins")]
        table.add_row(
            LABELS[kind],
            str(int(row["spans"])),
            *pct,
            f"{row['mean_rank']:.2f}",
            f"{row['fixes']:.1f}",
            style="bold" if kind == "all" else "",
        )
    return table
