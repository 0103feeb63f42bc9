"""Candidates for each suspect: the references' readings, a duplicate's deletion, pronouns for a pasted name,
the words the story has between the same neighbours, and the model's own drafts.

Every candidate is ranked by one number: the language model's log-probability of
the sentence with the candidate in place, plus the log of its prior (how likely that
kind of fix is before the model speaks; "keep" carries the chance the span is fine).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from repair.edits import SOURCES, Evidence, Source
from repair.lm import LanguageModel
from repair.lm.base import DocumentContext
from repair.stages.pronouns import PronounSettings, pronouns_for
from repair.stages.signals import token_class
from repair.stages.sources import SourcesSettings, break_marks, names_for
from repair.stages.spans import Candidate, Proposal, Suspect
from repair.stages.story import Story, StorySettings, neighbours, story_phrases
from repair.text.document import Document
from repair.text.sentences import sentence_at

_NAMEISH = re.compile(r"\d|^[A-Z]")
OPENING_MARKS = "“‘\"'(["
SPACED_MARKS = frozenset({"—", "–"})  # marks written with a space on both sides
DRAFTED = Evidence("lm:draft", "the model drafted these words")
WANT_A_NOUN = frozenset({"det", "poss", "prep"})  # token classes (`repair.stages.signals.token_class`) a noun follows
END_NO_NOUN = frozenset({"prep", "det", "conj", "clause", "stop", "func", "pron", "end", "quote"})
HEARD_WITHOUT_MODEL: frozenset[Source] = frozenset({"ref", "delete"})  # sources that stand without a model
STORY_WHY = "the story has these words between the same neighbours"


def _source_priors() -> dict[Source, float]:
    return {
        "ref": 0.9,
        "delete": 0.6,  # a duplicate's extra copy
        "pronoun": 0.3,
        "lm": 0.08,
        "story": 0.08,  # ranked by the model like its own fillers: only where they come from differs
        "drop": 0.08,  # a pasted name or word put in where nothing stood
        "mark": 0.08,  # a name pasted over a full stop or comma (`repair.stages.sources.break_marks`)
        "names": 0.08,  # another of the story's names at a name's site
        "paraphrase": 0.08,  # a word of the reference sentence that tells the same fact
    }


@dataclass(frozen=True)
class ProposeSettings:
    """The numbers of proposing: where candidates come from, how many, and how they are weighed."""

    # prior of a candidate by where it came from, on top of the suspect's own prior ("keep" has the suspect's)
    source_priors: Mapping[Source, float] = field(default_factory=_source_priors)
    max_candidates: int = 24  # candidates kept per suspect, best first
    # Generate fillers when the detector's prior reaches generate_min_prior, or a cheap candidate is within
    # generate_margin_nats of the original. Suspects of prior 0.2-0.4 are damage more often than not (held-out
    # seed 3: 36 of 61), and 0.4 -> 0.2 (every suspect the detectors keep) with two-word fillers from 0.2 (was
    # 0.5) lifted the original among the candidates for pronouns 75% -> 93%, function words 54 -> 77, content
    # words 53 -> 57 (`benchmarks/README.md`, cloze).
    generate_min_prior: float = 0.2
    generate_margin_nats: float = 1.0
    two_word_min_prior: float = 0.2
    # Fillers asked of the model per gap and length: the drafts it scores with the right context. 4 -> 12 put
    # the original among the candidates for 53% of flagged content words, not 47% (held-out seed 3, no
    # references), for 39% more model tokens; 8 gave 53%. A suspect under wide_min_prior gets fewer: with 8 and
    # 4 the whole search cost 20% fewer tokens than 12 for all, for 63% of all damaged spans among the
    # candidates, not 65%. 8 / 4 -> 6 / 3 paid for the candidates of other kinds (`repair.stages.sources`) and the
    # three-word drafts: model tokens on article 000 without references 6,944 before them, 11,049 with them at
    # 8 / 3, 10,273 at 6 / 3, for content F0.5 43.8 -> 43.0 on the fit stories with references.
    drafts: int = 6
    drafts_low: int = 3
    wide_min_prior: float = 0.4
    draft_lengths: tuple[int, ...] = (1, 2)  # words per filler asked of the model (one only where one is likely)
    # ...and where the span's grammar says words are missing (a determiner or preposition before it, no noun
    # after): a one-word paste often overwrote two or three
    missing_lengths: tuple[int, ...] = (1, 2, 3)
    # weight of a filler's own log-probability against its fit with the words after it: the model
    # favours short, common fillers, and the damage is best seen in how the sentence goes on
    own_weight: float = 0.5
    # the model would rewrite much clean text into something it likes better (`repair bench` counted ~39 false
    # edits per 1,000 clean words without this): the original wording gets this head start
    keep_bonus_nats: float = 1.5
    # without a model nothing weighs a filler but its source's prior: a source other than a reference or a
    # duplicate's deletion is this far behind the original wording, so it is offered, never applied on priors alone
    unheard_nats: float = 3.0
    # a suspect's prior is kept inside [prior_floor, 1 - prior_floor]: neither it nor "keep" is ever impossible
    prior_floor: float = 0.01
    # a "sentence" can be a whole text without full stops: the right context stops this far from the span
    max_context_chars: int = 1500
    pronouns: PronounSettings = field(default_factory=PronounSettings)
    story: StorySettings = field(default_factory=StorySettings)
    sources: SourcesSettings = field(default_factory=SourcesSettings)


@dataclass(frozen=True)
class Context:
    """The sentence window around a span, whitespace folded, as the model reads it.

    The left side is the whole text before the span, folded only when read: only a model reads it, and
    folding it for every suspect of a long text costs the square of its length.
    """

    right: str
    sentence_start: bool
    text: str = field(repr=False, compare=False)
    at: int  # where the span starts in ``text``

    @cached_property
    def left(self) -> str:
        """The text before the span, whitespace folded (a space at its end kept as one)."""
        before = self.text[: self.at]
        left = " ".join(before.split())
        return left + " " if before[-1:].isspace() and left else left


def propose(
    document: Document,
    story: Story,
    suspects: Sequence[Suspect],
    lm: LanguageModel | None,
    settings: ProposeSettings,
    context: DocumentContext | None = None,
) -> tuple[Proposal, ...]:
    """Ranked candidates per suspect, best first.

    Cheap candidates (the references' readings, deletion, pronouns) are weighed first;
    the model is asked to generate fillers only where the span stays suspect, since
    generation costs far more than scoring. ``story`` is `Story.of(document, references)`,
    built once per document; ``context`` what the model kept of the document when detection
    read it (`repair.stages.detect.token_surprisal`), handed back with every gap.
    """
    text = document.text
    known = story.known
    out: list[Proposal] = []
    for s in suspects:
        s2, raw = _widen_for_deletion(text, s)
        first, last = _token_range(document, s.start, s.end)
        marks = break_marks(document.tokens, first, last) if _takes_marks(s, raw) else ()
        s2, lead = _widen_for_marks(text, s2, document, first) if marks else (s2, "")
        ctx = _context(text, document.sentences, s2, settings.max_context_chars)
        pronouns = (
            pronouns_for(document, s.start, s.start + len(raw), s.mention, settings.pronouns) if s.mention else ()
        )
        cands = _cheap(text, s2, raw, ctx, known, pronouns, lead)
        if s.kind == "substitution" and not s.readings:
            cands = _unique(cands + _other_kinds(document, s2, raw, ctx, story, lead, marks, (first, last), settings))
        ranked = _rank(s2, cands, ctx, lm, settings, context)
        if lm is not None and _worth_generating(s2, ranked, settings):
            seen = {c.text for c in cands}
            fresh = (
                _generated(
                    text, s2, raw, ctx, lm, known, seen, settings, context, lead, _missing(document, first, last)
                )
                + _from_story(document, s2, raw, ctx, known, story, seen, settings.story, lead)
                + _paraphrased(document, s2, raw, ctx, story, seen, settings.sources, lead)
            )
            if fresh:
                ranked = sorted(ranked + _rank(s2, fresh, ctx, lm, settings, context), key=lambda c: (-c.score, c.text))
        out.append(Proposal(s2, tuple(ranked[: settings.max_candidates])))
    return tuple(out)


def _worth_generating(s: Suspect, ranked: list[Candidate], settings: ProposeSettings) -> bool:
    """Generate when the detector is fairly sure, or a cheap fix already comes close to the original."""
    if s.readings or s.kind not in ("gap", "substitution", "duplicate"):
        return False
    keep = next((c.score for c in ranked if c.source == "keep"), 0.0)
    rival = max((c.score for c in ranked if c.source != "keep"), default=float("-inf"))
    return s.score >= settings.generate_min_prior or rival > keep - settings.generate_margin_nats


def _widen_for_deletion(text: str, s: Suspect) -> tuple[Suspect, str]:
    """Take one following space into the span so that deleting it leaves single spacing.

    A reference's reading is exact for its span and is left as it is.
    """
    if s.readings or s.kind in ("duplicate", "gap") or s.end >= len(text) or text[s.end] != " ":
        return s, text[s.start : s.end]
    return replace(s, end=s.end + 1), text[s.start : s.end]


def _token_range(document: Document, start: int, end: int) -> tuple[int, int]:
    """The first and last token of ``document`` inside [start, end) (last < first when none is)."""
    toks = document.tokens
    return bisect_left(toks, start, key=lambda t: t.start), bisect_left(toks, end, key=lambda t: t.start) - 1


def _missing(document: Document, first: int, last: int) -> bool:
    """Whether the grammar around tokens ``first..last`` says words are missing: a determiner, possessive or
    preposition before them, and after them nothing a noun phrase could end with.

    >>> d = Document.of("It joined the Harlow of Justice and the Harlow said no.")
    >>> _missing(d, 3, 3), _missing(d, 8, 8)
    (True, False)
    """
    if first == 0 or first > last:
        return False
    before = token_class(document.tokens, first - 1, frozenset())
    after = token_class(document.tokens, last + 1, frozenset())
    return before in WANT_A_NOUN and after in END_NO_NOUN


def _takes_marks(s: Suspect, raw: str) -> bool:
    """Whether a suspect may stand where punctuation was: a pasted name, not a reference's reading."""
    return s.cause == "mention" and not s.readings and bool(raw.strip()) and "\n" not in raw


def _widen_for_marks(text: str, s: Suspect, document: Document, first: int) -> tuple[Suspect, str]:
    """Take the space before the span in too, so a full stop or comma can sit against the word before it.

    Every candidate then carries that space back (``lead``); a mark does not.
    """
    if first == 0:
        return s, ""
    prev_end = document.tokens[first - 1].end
    lead = text[prev_end : s.start]
    if lead != " ":
        return s, ""
    return replace(s, start=prev_end), lead


def _context(text: str, spans: Sequence[tuple[int, int]], s: Suspect, max_chars: int) -> Context:
    """The whole text before the span (a model reads as much of it as it can use: a causal model the
    window of its surprisal pass, a masked one its sentence) and the rest of the span's sentence."""
    k = sentence_at(spans, s.start)
    end = min(max(spans[k][1], s.end) if spans else len(text), s.end + max_chars)
    right = text[s.end : end]
    right_folded = " ".join(right.split())
    if right[:1].isspace() and right_folded:
        right_folded = " " + right_folded
    # a sentence that opens with a quote mark or a bracket still opens with the span: "“It was ..."
    sentence_start = not text[spans[k][0] : s.start].strip().strip(OPENING_MARKS) if spans else True
    return Context(right_folded, sentence_start, text, s.start)


class _Pool:
    """Candidates for one span, spaced to fit, with names and numbers checked against what is known."""

    def __init__(self, text: str, s: Suspect, raw: str, ctx: Context, known: frozenset[str], lead: str = "") -> None:
        self.text, self.s, self.ctx, self.known, self.lead = text, s, ctx, known, lead
        # the spaces taken in by _widen_for_marks (before) and _widen_for_deletion (after)
        self.trail = text[s.start : s.end][len(lead) + len(raw) :]
        self.found: list[Candidate] = []

    def add(self, words: str, source: Source, evidence: tuple[Evidence, ...] = (), offset: float = 0.0) -> None:
        """Add a filler; ``offset`` is its own log-prior on top of its source's (the score until ranked)."""
        words = words.strip()
        if words and self.ctx.sentence_start:
            words = words[0].upper() + words[1:]
        if any(
            _NAMEISH.search(w) and w not in self.known for w in words.split()[1 if self.ctx.sentence_start else 0 :]
        ):
            return  # never invent a name or a number
        fitted = _fit(words, self.s, self.text, self.trail)
        if self.lead:
            fitted = (self.lead + fitted) if words else (self.lead if self.trail else "")
        self.found.append(Candidate(fitted, source, offset, evidence))

    def mark(self, mark: str, evidence: tuple[Evidence, ...]) -> None:
        """Add a punctuation mark that sits against the word before the span (a dash keeps its space)."""
        spaced = self.lead + mark if mark in SPACED_MARKS else mark
        self.found.append(Candidate(spaced + (self.trail or " "), "mark", 0.0, evidence))


def _cheap(
    text: str,
    s: Suspect,
    raw: str,
    ctx: Context,
    known: frozenset[str],
    pronouns: Sequence[tuple[str, float, str]] = (),
    lead: str = "",
) -> list[Candidate]:
    """The original, the references' exact readings, deletion, and the pronouns that could stand for a pasted name."""
    found = [Candidate(text[s.start : s.end], "keep", 0.0)]
    refs = tuple(ev for ev in s.evidence if ev.source.startswith("ref:"))
    found += [Candidate(_reading_fit(r, s, text), "ref", 0.0, refs) for r in s.readings]
    pool = _Pool(text, s, raw, ctx, known, lead)
    if s.kind == "duplicate" and not s.readings:
        pool.add("", "delete", (Evidence("rule:delete", "the second copy stays"),))
    if s.kind == "substitution" and not s.readings:
        for p, offset, why in pronouns:
            pool.add(p, "pronoun", (Evidence("rule:pronoun", why),), offset)
    return _unique(found + pool.found)


def _other_kinds(
    document: Document,
    s: Suspect,
    raw: str,
    ctx: Context,
    story: Story,
    lead: str,
    marks: Sequence[str],
    tokens: tuple[int, int],
    settings: ProposeSettings,
) -> list[Candidate]:
    """What else a paste may have overwritten (`repair.stages.sources`): a punctuation mark, nothing at all,
    or another of the story's names."""
    pool = _Pool(document.text, s, raw, ctx, story.known, lead)
    words = raw.strip()
    for m in marks:
        pool.mark(m, (Evidence("rule:break", f"“{words}” stands where a clause or sentence may have ended"),))
    pool.add("", "drop", (Evidence("rule:drop", f"“{words}” may have been put in where nothing stood"),))
    first, last = tokens
    if first <= last:
        most = settings.sources.most_names
        for name in names_for(document.tokens, first, last, story.names, document.text, most):
            pool.add(name, "names", (Evidence("story:names", f"a name of the story that fits here: “{name}”"),))
    return pool.found


def _paraphrased(
    document: Document,
    s: Suspect,
    raw: str,
    ctx: Context,
    story: Story,
    seen: set[str],
    settings: SourcesSettings,
    lead: str = "",
) -> list[Candidate]:
    """Words of the reference sentence that tells the same fact in other words (`Paraphrases`)."""
    if s.kind not in ("gap", "substitution") or story.paraphrases is None:
        return []
    pool = _Pool(document.text, s, raw, ctx, story.known, lead)
    for words in story.paraphrases.words_for(document.text, s.start, s.end, settings.most_paraphrase):
        pool.add(words, "paraphrase", (Evidence("ref-sentence", f"a reference telling the same fact has “{words}”"),))
    return [c for c in _unique(pool.found) if c.text not in seen]


def _generated(
    text: str,
    s: Suspect,
    raw: str,
    ctx: Context,
    lm: LanguageModel,
    known: frozenset[str],
    seen: set[str],
    settings: ProposeSettings,
    context: DocumentContext | None,
    lead: str = "",
    missing: bool = False,
) -> list[Candidate]:
    """The model's own fillers of one or two words (one for a duplicate's first copy; up to three where the
    grammar around the span says words are ``missing``)."""
    pool = _Pool(text, s, raw, ctx, known, lead)
    # two-word fillers only where two words are plausible: a gap, or a span of two or more words
    wide = s.kind == "gap" or len(raw.split()) > 1 or s.score >= settings.two_word_min_prior
    lengths = settings.missing_lengths if missing else settings.draft_lengths if wide else (1,)
    for n in lengths:
        k = settings.drafts if s.score >= settings.wide_min_prior else settings.drafts_low
        for words, _ in lm.propose(ctx.left.rstrip(), ctx.right.lstrip(), n, k, context):
            pool.add(words, "lm", (DRAFTED,))
    return [c for c in _unique(pool.found) if c.text not in seen]


def _from_story(
    document: Document,
    s: Suspect,
    raw: str,
    ctx: Context,
    known: frozenset[str],
    story: Story,
    seen: set[str],
    settings: StorySettings,
    lead: str = "",
) -> list[Candidate]:
    """Fillers the document or a reference offers for the span (`story_phrases`), best anchored first."""
    if s.kind not in ("gap", "substitution"):
        return []
    left, right = neighbours(document.tokens, s.start + len(lead), s.end, settings.anchor)
    pool = _Pool(document.text, s, raw, ctx, known, lead)
    for phrase, anchor in story_phrases(left, right, story, settings, " ".join(raw.split()))[: settings.most]:
        pool.add(phrase, "story", (Evidence("story", f"{STORY_WHY} ({anchor} tokens)"),))
    return [c for c in _unique(pool.found) if c.text not in seen]


def _fit(words: str, s: Suspect, text: str, trail: str) -> str:
    """Spacing for a filler so it sits in the text the way a word would."""
    if s.kind == "gap":
        if not words:
            return text[s.start : s.end]
        nxt = text[s.end : s.end + 1]
        return " " + words + (" " if nxt and (nxt.isalnum() or nxt in '“"(‘') else "")
    if s.kind == "duplicate":
        return words + " " if words else ""
    return words + trail if words else ""


def _reading_fit(reading: str, s: Suspect, text: str) -> str:
    """A reference's reading as it replaces the span: exact, but a run of spaces takes its words spaced as a word is.

    >>> _reading_fit("ten", Suspect(5, 9, "gap", 0.9, "", cause="spaces"), "every    minutes")
    ' ten '
    """
    if s.kind == "gap" and s.start < s.end and not text[s.start : s.end].strip():
        return _fit(reading.strip(), s, text, "")
    return reading


def _unique(cands: list[Candidate]) -> list[Candidate]:
    """One candidate per text: the one from the first source in `SOURCES`, with the evidence of all."""
    order = {source: i for i, source in enumerate(SOURCES)}
    best: dict[str, Candidate] = {}
    for c in cands:
        old = best.get(c.text)
        if old is None or order[c.source] < order[old.source]:
            best[c.text] = c if old is None else Candidate(c.text, c.source, c.score, c.evidence + old.evidence)
    return sorted(best.values(), key=lambda c: order[c.source])


def _rank(
    s: Suspect,
    cands: list[Candidate],
    ctx: Context,
    lm: LanguageModel | None,
    settings: ProposeSettings,
    context: DocumentContext | None = None,
) -> list[Candidate]:
    """Score every candidate in its sentence; add the log-priors; best first."""
    texts = [_for_lm(c.text, s) for c in cands]
    lm_scores = fit_scores(lm, ctx.left, texts, ctx.right, settings, context) if lm is not None else [0.0] * len(cands)
    floor = settings.prior_floor
    prior_damage = min(1.0 - floor, max(floor, s.score))
    ranked: list[Candidate] = []
    for c, ls in zip(cands, lm_scores, strict=True):
        if c.source == "keep":
            prior = math.log(1.0 - prior_damage) + (settings.keep_bonus_nats if lm is not None else 0.0)
        else:  # a cheap candidate's own offset on top
            prior = math.log(prior_damage) + math.log(settings.source_priors[c.source]) + c.score
            if lm is None and c.source not in HEARD_WITHOUT_MODEL:
                prior -= settings.unheard_nats
        ranked.append(Candidate(c.text, c.source, ls + prior, c.evidence))
    # ties break by text so the order never depends on anything but the input
    return sorted(ranked, key=lambda c: (-c.score, c.text))


def fit_scores(
    lm: LanguageModel,
    left: str,
    texts: Sequence[str],
    right: str,
    settings: ProposeSettings,
    context: DocumentContext | None = None,
) -> list[float]:
    """How well each filler fits: its fit with the words after it, plus a share of its own log-probability."""
    return [fit + settings.own_weight * own for own, fit in lm.score_parts(left, texts, right, context)]


def _for_lm(candidate: str, s: Suspect) -> str:
    """The model reads fillers with single spacing, like the folded context around them.

    >>> gap = Suspect(0, 4, "gap", 0.5, "", cause="spaces")
    >>> _for_lm("    ", gap), _for_lm(" two  words ", gap)
    (' ', ' two words ')
    """
    core = " ".join(candidate.split())
    if not core:
        return " " if candidate else ""
    lead = " " if candidate[:1].isspace() else ""
    trail = " " if candidate[-1:].isspace() else ""
    return lead + core + trail
