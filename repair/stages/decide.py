"""Pick the best candidate per suspect, calibrate its confidence, abstain when weak.

Content edits are found on the normalized text; here they are lifted back to the
input, absorbing the normalization edits they overlap.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from repair.edits import Edit, Evidence, apply_edits
from repair.stages.alternatives import questions, ranked_shares
from repair.stages.calibrate import CalibrationMap, Features, calibrated
from repair.stages.logistic import Logistic
from repair.stages.normalize import Normalized
from repair.stages.spans import Proposal
from repair.stages.verdict import Judge
from repair.text.sentences import LINE_END_RE, PARAGRAPH_BREAK_RE, line_layout

# The threshold at which content F0.5 peaks while false content edits on clean text stay <= 0.5 per 1,000 words,
# chosen on the fit stories with each story judged by a decision model fitted on the others (two damage draws
# of 28 stories, with and without references: `benchmarks/decision_fit.py`). F0.5 is flat from 0.30 to 0.45
# (0.41 / 0.39 / 0.35 / 0.32 across the four runs at 0.40); below 0.40 false edits pass 0.4 per 1,000 words.
DEFAULT_MIN_CONFIDENCE = 0.40
LAYOUT_EVIDENCE = Evidence("decide:layout", "held: applying it would add, remove or merge line ends or blank lines")
KEPT_EVIDENCE = Evidence("decide:layout", "the line end at the edge of the span is kept")


@dataclass(frozen=True)
class DecideSettings:
    """The numbers of deciding, beyond the threshold (a run's choice, ``--min-confidence``) and the calibration
    map (a data file, `repair.stages.calibrate`)."""

    shown_candidates: int = 5  # the best candidates an edit's evidence lists, with their scores
    min_question_share: float = 0.02  # a question needs one alternative at least this likely: less is noise
    # ...unless the detector holds the span at least this likely damaged: then the reviewer is asked anyway. At
    # the paste detector's own cut (0.25 with the model) every suspect it keeps is asked about: on the fit
    # stories that flags 89% of the damaged spans, not 84% at 0.3 (`repair bench --stories`, the loss view)
    ask_prior: float = 0.25
    # the fitted decision models (`repair.stages.verdict`), for runs with the language model ("lm") and without
    # ("nolm"), from ``repair/data/decide.json``; without one, a content edit's raw share is calibrated by the map
    decisions: Mapping[str, Logistic] = field(default_factory=dict)


def confidence_of(proposal: Proposal, temperature: float = 1.0) -> float:
    """The share of the best candidate among all, the original wording included: the raw confidence.

    Candidate scores already hold the suspect's prior, so this would be the posterior
    that the best fix is right if the scores were true log-probabilities; they are not
    (the model is overconfident), so `decide` maps it through `repair.stages.calibrate`.
    """
    cands = proposal.candidates
    if not cands:
        return 0.0
    top = cands[0].score
    return 1.0 / sum(math.exp((c.score - top) / temperature) for c in cands)


def content_edits(doc: Normalized, proposals: Sequence[Proposal], judge: Judge, shown: int) -> list[Edit]:
    """One edit on the normalized text per proposal whose best candidate changes something.

    Its confidence is the ``judge``'s; the signs weighed and the raw share stay in its evidence.
    """
    out: list[Edit] = []
    for p in proposals:
        if not p.candidates:
            continue
        best = p.candidates[0]
        s = p.suspect
        before = doc.text[s.start : s.end]
        if best.source == "keep" or best.text == before:
            continue
        ranked = tuple((c.text, c.score) for c in p.candidates[:shown])
        confidence, judged = judge(p, 0, before, shown)
        evidence = (
            *s.evidence,
            *best.evidence,
            Evidence(source=f"decide:{best.source}", detail=s.reason, candidates=ranked),
            *judged,
        )
        edit = Edit(s.start, s.end, before, best.text, s.kind, confidence, evidence)
        out.append(replace(edit, alternatives=ranked_shares(p.candidates, before, 0, confidence)))
    return out


def decide(
    doc: Normalized,
    proposals: Sequence[Proposal],
    min_confidence: float,
    cmap: CalibrationMap,
    settings: DecideSettings,
    with_model: bool = True,
) -> tuple[Edit, ...]:
    """All edits in input offsets; those under ``min_confidence`` are kept but marked not applied.

    A content edit's confidence is the share of fixes with its signs that were right, by the decision
    model fitted for runs ``with_model`` or without (`repair.stages.verdict`); a rule edit's is its
    rule's confidence calibrated through ``cmap`` (read by the caller: the shipped map unless told
    otherwise, see `repair.stages.calibrate.default_map`), so the threshold means the same for all.
    """
    judge = Judge(cmap, settings.decisions.get("lm" if with_model else "nolm"))
    found = _drop_overlaps(content_edits(doc, proposals, judge, settings.shown_candidates))
    applied = [e for e in found if e.confidence >= min_confidence]
    rejected = [replace(e, applied=False) for e in found if e.confidence < min_confidence]
    lifted = doc.layer.lift_group(applied) if applied else []
    swallowed = {id(a) for e in applied for a in doc.layer.absorbed_by(e.start, e.end)}
    rules = [_calibrate_rule(e, cmap) for e in doc.edits if id(e) not in swallowed]
    surface = [e if e.confidence >= min_confidence else replace(e, applied=False) for e in rules]
    asked = [
        doc.layer.lift(q)
        for q in questions(
            doc.text,
            proposals,
            found,
            judge,
            shown=settings.shown_candidates,
            min_share=settings.min_question_share,
            ask_prior=settings.ask_prior,
        )
    ]
    shown = [doc.layer.lift(e) for e in rejected] + [replace(q, after=q.before) for q in asked]
    edits = hold_layout_changes(doc.source, surface + lifted + shown)
    return tuple(sorted(edits, key=lambda e: (e.start, e.end, not e.applied)))


def _calibrate_rule(e: Edit, cmap: CalibrationMap) -> Edit:
    refs = len({ev.source for ev in e.evidence if ev.source.startswith("ref:")})
    return calibrated(e, Features(e.kind, "rule", e.confidence, None, refs), cmap)


def layout(text: str) -> tuple[tuple[str, ...], int]:
    """The line ends of a text in order, and how many blank-line paragraph breaks it has.

    >>> layout("a\\r\\nb\\n\\nc")
    (('\\r\\n', '\\n', '\\n'), 1)
    """
    return line_layout(text)


def _lines_around(text: str, start: int, end: int) -> tuple[int, int]:
    """From the line end before ``start`` to just past the line end after ``end`` (CRLF kept whole)."""
    lo = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start))
    lo = 0 if lo < 0 else lo - 1 if text[lo] == "\n" and lo > 0 and text[lo - 1] == "\r" else lo
    m = LINE_END_RE.search(text, end)
    return lo, m.end() if m else len(text)


def _keeping_line_ends(e: Edit) -> Edit | None:
    """The edit with the line ends at the edges of its span kept, if that is all it would remove.

    >>> _keeping_line_ends(Edit(5, 12, "\\n Syria", "", "stray", 0.9)).after
    '\\n'
    >>> _keeping_line_ends(Edit(0, 8, "the\\nthe ", "", "duplicate", 0.9)) is None
    True
    """
    lead = re.match(r"[ \t\r\n]*", e.before)
    trail = re.search(r"[ \t\r\n]*$", e.before[lead.end() if lead else 0 :])
    head = lead.group() if lead else ""
    tail = trail.group() if trail else ""
    middle = e.before[len(head) : len(e.before) - len(tail)]
    if LINE_END_RE.search(middle) or LINE_END_RE.search(e.after):
        return None
    ends_before, ends_after = "".join(LINE_END_RE.findall(head)), "".join(LINE_END_RE.findall(tail))
    return replace(e, after=ends_before + e.after + ends_after, evidence=(*e.evidence, KEPT_EVIDENCE))


def _layout_kept(text: str, lo: int, hi: int, edits: Sequence[Edit]) -> bool:
    local = [replace(m, start=m.start - lo, end=m.end - lo) for m in edits]
    # the start of a text counts as the start of a line, so a streamed chunk (which starts
    # after a paragraph break) is judged as it would be inside the whole text
    head = "\n" if lo == 0 else ""
    return layout(head + apply_edits(text[lo:hi], local)) == layout(head + text[lo:hi])


_LINE_CHARS_RE = re.compile(r"[\r\n]")
_INK_RE = re.compile(r"[^ \t\r\n]")


def _inside_a_line(text: str, e: Edit) -> bool:
    """Whether ``e`` surely keeps the layout: it adds and removes no line end, and its line has words before it
    and after it, so no line end moves, joins another or starts a blank line (what `_layout_kept` would find,
    without applying the edit to its whole line and reading the layout of both).

    >>> _inside_a_line("a b\\nc d", Edit(1, 2, " ", "", "x", 1)), _inside_a_line("a\\n b", Edit(2, 4, " b", "", "x", 1))
    (True, False)
    """
    if _LINE_CHARS_RE.search(e.before) or _LINE_CHARS_RE.search(e.after):
        return False
    lo = max(text.rfind("\n", 0, e.start), text.rfind("\r", 0, e.start)) + 1
    m = _LINE_CHARS_RE.search(text, e.end)
    hi = m.start() if m else len(text)
    if _INK_RE.search(text, lo, e.start) or _INK_RE.search(text, e.end, hi):
        return True
    return bool(_INK_RE.search(e.before) and _INK_RE.search(e.after))  # words in the line before and after


def hold_layout_changes(text: str, edits: Sequence[Edit]) -> list[Edit]:
    """Keep the text's line ends and blank lines: trim or hold (mark not applied) the edits that would change them.

    Whatever a stage proposes, the output keeps the input's layout: every line end
    (CRLF, CR, LF), and no paragraph made or lost. An edit that only takes line ends
    along at its edges keeps them; others are held. Edits on neighbouring lines are
    then judged together, since two harmless edits can empty a line between them.
    """
    out: list[Edit] = []
    for e in edits:
        if (
            e.applied
            and not _inside_a_line(text, e)
            and not _layout_kept(text, *_lines_around(text, e.start, e.end), [e])
        ):
            trimmed = _keeping_line_ends(e)
            ok = trimmed is not None and _layout_kept(text, *_lines_around(text, e.start, e.end), [trimmed])
            e = trimmed if ok and trimmed is not None else _held(e)
        out.append(e)
    groups: list[tuple[int, int, list[int]]] = []
    for i in sorted((i for i, e in enumerate(out) if e.applied), key=lambda i: (out[i].start, out[i].end)):
        lo, hi = _lines_around(text, out[i].start, out[i].end)
        if groups and lo < groups[-1][1]:
            g_lo, g_hi, members = groups.pop()
            groups.append((g_lo, max(g_hi, hi), [*members, i]))
        else:
            groups.append((lo, hi, [i]))
    for lo, hi, members in groups:
        if len(members) == 1 or _layout_kept(text, lo, hi, [out[i] for i in members]):
            continue
        kept: list[Edit] = []  # the most confident first, as long as the layout holds
        for i in sorted(members, key=lambda i: -out[i].confidence):
            if _layout_kept(text, lo, hi, [*kept, out[i]]):
                kept.append(out[i])
            else:
                out[i] = _held(out[i])
    return _keep_paragraphs(text, out)


def _keep_paragraphs(text: str, edits: list[Edit]) -> list[Edit]:
    """A paragraph with words never comes out blank, whether the text runs whole or streamed by paragraphs."""
    cuts = [0, *(p for m in PARAGRAPH_BREAK_RE.finditer(text) for p in (m.start(), m.end())), len(text)]
    out = list(edits)
    for a, b in zip(cuts[::2], cuts[1::2], strict=True):
        inside = [i for i, e in enumerate(out) if e.applied and a <= e.start and e.end <= b]
        if not inside or not text[a:b].strip():
            continue
        local = [replace(out[i], start=out[i].start - a, end=out[i].end - a) for i in inside]
        if not apply_edits(text[a:b], local).strip():
            for i in inside:
                if out[i].before.strip():
                    out[i] = _held(out[i])
    return out


def _held(e: Edit) -> Edit:
    return replace(e, applied=False, evidence=(*e.evidence, LAYOUT_EVIDENCE))


def _from_model(e: Edit) -> bool:
    return not any(ev.source == "decide:ref" for ev in e.evidence)


def _drop_overlaps(edits: list[Edit]) -> list[Edit]:
    """Where two proposals overlap, keep the more confident one.

    Two model fixes that touch are also in conflict: each was weighed with the other's
    span as it stands, so applying both would compound ("in Assad Assad" -> "in which he").
    """
    kept: list[Edit] = []
    spans: list[tuple[int, int, bool]] = []  # kept spans, sorted; they do not overlap
    for e in sorted(edits, key=lambda e: (-e.confidence, e.start, e.end)):
        model = _from_model(e)
        # every kept span that overlaps or touches e: ends rise with starts, so they are contiguous
        lo = hi = bisect.bisect_left(spans, (e.start, e.start, False))
        while lo > 0 and spans[lo - 1][1] >= e.start:
            lo -= 1
        while hi < len(spans) and spans[hi][0] <= e.end:
            hi += 1
        if any(_clash(e, model, n) for n in spans[lo:hi]):
            continue
        bisect.insort(spans, (e.start, e.end, model))
        kept.append(e)
    return sorted(kept, key=lambda e: (e.start, e.end))


def _clash(e: Edit, model: bool, other: tuple[int, int, bool]) -> bool:
    s, t, other_model = other
    if s < e.end and e.start < t:
        return True
    if s == t == e.start == e.end:
        return True  # two insertions at one point
    return model and other_model and (t == e.start or e.end == s)
