"""Candidates for each suspect: from aligned references first, then pronouns, then the model.

Every candidate is ranked by one number: the language model's log-probability of
the sentence with the candidate in place, plus the log of its prior (how likely that
kind of fix is before the model speaks; "keep" carries the chance the span is fine).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from repair.align import Alignment
from repair.edits import Evidence
from repair.entities import find_mentions
from repair.lm import LanguageModel
from repair.normalize import Normalized
from repair.sentences import sentence_at, sentence_spans
from repair.spans import Candidate, Proposal, Suspect

PRONOUNS: tuple[str, ...] = ("its", "it", "his", "he", "him", "their", "they", "them")
# log-prior of a candidate by where it came from, on top of the suspect's own prior
SOURCE_PRIOR = {"ref": math.log(0.9), "delete": math.log(0.6), "pronoun": math.log(0.3), "lm": math.log(0.15)}
MAX_CANDIDATES = 24
# a "sentence" can be a whole text without full stops: the context stops this far from the span
MAX_CONTEXT_CHARS = 1500
LM_PROPOSALS = 6
_NAMEISH = re.compile(r"\d|^[A-Z]")


@dataclass(frozen=True)
class Context:
    """The sentence window around a span, whitespace folded, as the model reads it."""

    left: str
    right: str
    sentence_start: bool


def propose(
    doc: Normalized, suspects: Sequence[Suspect], alignment: Alignment, lm: LanguageModel | None
) -> tuple[Proposal, ...]:
    """Ranked candidates per suspect, best first."""
    text = doc.text
    spans = sentence_spans(text)
    known = _known_words(text, alignment)
    out: list[Proposal] = []
    for s in suspects:
        s2, raw = _widen_for_deletion(text, s)
        ctx = _context(text, spans, s2)
        cands = _gather(text, s2, raw, ctx, alignment, lm, known)
        out.append(Proposal(s2, tuple(_rank(s2, cands, ctx, lm))))
    return tuple(out)


def _widen_for_deletion(text: str, s: Suspect) -> tuple[Suspect, str]:
    """Take one following space into the span so that deleting it leaves single spacing."""
    if s.kind in ("duplicate", "gap") or s.end >= len(text) or text[s.end] != " ":
        return s, text[s.start : s.end]
    return Suspect(s.start, s.end + 1, s.kind, s.score, s.reason, s.evidence), text[s.start : s.end]


def _context(text: str, spans: list[tuple[int, int]], s: Suspect) -> Context:
    k = sentence_at(spans, s.start)
    left_start = spans[k - 1][0] if k > 0 else spans[k][0] if spans else 0
    end = max(spans[k][1], s.end) if spans else len(text)
    left_start, end = max(left_start, s.start - MAX_CONTEXT_CHARS), min(end, s.end + MAX_CONTEXT_CHARS)
    left = " ".join(text[left_start : s.start].split())
    if text[left_start : s.start][-1:].isspace() and left:
        left += " "
    right = text[s.end : end]
    right_folded = " ".join(right.split())
    if right[:1].isspace() and right_folded:
        right_folded = " " + right_folded
    sentence_start = not text[spans[k][0] : s.start].strip() if spans else True
    return Context(left, right_folded, sentence_start)


def _known_words(text: str, alignment: Alignment) -> set[str]:
    """Words a candidate may use when they look like names or numbers: those the document or a reference has."""
    pool = [text] + [r.normalized.text for r in alignment.refs]
    return {w for t in pool for w in re.findall(r"[\w’'.\-]+", t)}


def _gather(
    text: str,
    s: Suspect,
    raw: str,
    ctx: Context,
    alignment: Alignment,
    lm: LanguageModel | None,
    known: set[str],
) -> list[Candidate]:
    trail = text[s.start : s.end][len(raw) :]  # the space taken in by _widen_for_deletion
    found: list[Candidate] = [Candidate(text[s.start : s.end], "keep", 0.0)]

    def add(words: str, source: str, evidence: tuple[Evidence, ...] = ()) -> None:
        words = words.strip()
        if words and ctx.sentence_start and source != "ref":
            words = words[0].upper() + words[1:]
        if any(_NAMEISH.search(w) and w not in known for w in words.split()[1 if ctx.sentence_start else 0 :]):
            return  # never invent a name or a number
        found.append(Candidate(_fit(words, s, text, trail), source, 0.0, evidence))

    for ev in s.evidence:
        if ev.source.startswith("ref:"):
            add(ev.detail, "ref", (ev,))
    for ev in _covering_ref_readings(s, alignment):
        add(ev.detail, "ref", (ev,))
    if s.kind == "duplicate":
        add("", "delete")
    if s.kind == "substitution":
        add("", "delete")
        if find_mentions(raw):
            for p in PRONOUNS:
                add(p, "pronoun")
    if lm is not None and s.kind in ("gap", "substitution", "duplicate"):
        sizes = (1, 2) if s.kind != "duplicate" else (1,)
        for n in sizes:
            for words, _ in lm.propose(ctx.left.rstrip(), _right_for_lm(ctx), n, LM_PROPOSALS):
                add(words, "lm")
    return _unique(found)[:MAX_CANDIDATES]


def _right_for_lm(ctx: Context) -> str:
    return ctx.right.lstrip()


def _fit(words: str, s: Suspect, text: str, trail: str) -> str:
    """Spacing for a filler so it sits in the text the way a word would."""
    if s.kind == "gap":
        if not words:
            return text[s.start : s.end]
        nxt = text[s.end : s.end + 1]
        return " " + words + (" " if nxt and (nxt.isalnum() or nxt in "“\"(‘") else "")
    if s.kind == "duplicate":
        return words + " " if words else ""
    return words + trail if words else ""


def _covering_ref_readings(s: Suspect, alignment: Alignment) -> list[Evidence]:
    """What references read at this span when a covering passage marks a damage difference there."""
    out: list[Evidence] = []
    for p in alignment.passages:
        if not (p.doc_start <= s.start and s.end <= p.doc_end):
            continue
        ref = alignment.refs[p.ref]
        for d in p.differences:
            if d.label == "damage" and d.doc_start == s.start and d.doc_end in (s.end, s.end - 1):
                bs, be = ref.normalized.layer.to_base(d.ref_start, d.ref_end)[:2]
                out.append(Evidence(f"ref:{ref.name}", d.ref_text, span=(bs, be), score=p.score))
    return out


def _unique(cands: list[Candidate]) -> list[Candidate]:
    order = {"keep": 0, "ref": 1, "delete": 2, "pronoun": 3, "lm": 4}
    best: dict[str, Candidate] = {}
    for c in cands:
        old = best.get(c.text)
        if old is None or order[c.source] < order[old.source]:
            best[c.text] = c if old is None else Candidate(c.text, c.source, 0.0, c.evidence + old.evidence)
    return sorted(best.values(), key=lambda c: order[c.source])


def _rank(s: Suspect, cands: list[Candidate], ctx: Context, lm: LanguageModel | None) -> list[Candidate]:
    """Score every candidate in its sentence; add the log-priors; best first."""
    texts = [_for_lm(c.text, s) for c in cands]
    if lm is not None:
        lm_scores = lm.score(ctx.left, texts, ctx.right)
    else:
        lm_scores = [0.0] * len(cands)
    prior_damage = min(0.99, max(0.01, s.score))
    ranked: list[Candidate] = []
    for c, ls in zip(cands, lm_scores, strict=True):
        if c.source == "keep":
            prior = math.log(1.0 - prior_damage)
        else:
            prior = math.log(prior_damage) + SOURCE_PRIOR[c.source]
        ranked.append(Candidate(c.text, c.source, ls + prior, c.evidence))
    # ties break by text so the order never depends on anything but the input
    return sorted(ranked, key=lambda c: (-c.score, c.text))


def _for_lm(candidate: str, s: Suspect) -> str:
    """The model reads fillers with single spacing, like the folded context around them.

    >>> _for_lm("    ", Suspect(0, 4, "gap", 0.5, "")), _for_lm(" two  words ", Suspect(0, 4, "gap", 0.5, ""))
    (' ', ' two words ')
    """
    core = " ".join(candidate.split())
    if not core:
        return " " if candidate else ""
    lead = " " if candidate[:1].isspace() else ""
    trail = " " if candidate[-1:].isspace() else ""
    return lead + core + trail
