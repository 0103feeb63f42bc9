"""Candidates for each suspect: from aligned references first, then pronouns, then the model.

Every candidate is ranked by one number: the language model's log-probability of
the sentence with the candidate in place, plus the log of its prior (how likely that
kind of fix is before the model speaks; "keep" carries the chance the span is fine).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from repair.edits import Evidence
from repair.lm import LanguageModel
from repair.lm.base import shared_length
from repair.stages.align import Alignment
from repair.stages.normalize import Normalized
from repair.stages.spans import Candidate, Proposal, Suspect
from repair.text.document import Document
from repair.text.english import CLAUSE_OPENERS, HONORIFICS, NOT_NOUNS, SUBJECT_VERBS
from repair.text.entities import (
    PRONOUN_FORMS,
    Mention,
    agreement,
    entity_keys,
    find_mentions,
    same_entity,
    split_pasted,
)
from repair.text.sentences import sentence_at
from repair.text.tokens import tokenize

# log-prior of a candidate by where it came from, on top of the suspect's own prior
SOURCE_PRIOR = {
    "ref": math.log(0.9),
    "delete": math.log(0.6),  # a duplicate's extra copy
    "pronoun": math.log(0.3),
    "lm": math.log(0.08),
    "story": math.log(0.08),  # ranked by the model like its own fillers: only where they come from differs
}
MAX_CANDIDATES = 24
# Generate fillers when the detector's prior reaches this, or a cheap candidate is this close to the original.
# Suspects of prior 0.2-0.4 are damage more often than not (held-out seed 3: 36 of 61), and 0.4 -> 0.2 (every
# suspect the detectors keep) with two-word fillers from 0.2 (was 0.5) lifted the original among the candidates
# for pronouns 75% -> 93%, function words 54 -> 77, content words 53 -> 57 (`benchmarks/README.md`, cloze).
GENERATE_MIN_PRIOR = 0.2
GENERATE_MARGIN_NATS = 1.0
TWO_WORD_MIN_PRIOR = 0.2
# weight of a filler's own log-probability against its fit with the words after it: the model
# favours short, common fillers, and the damage is best seen in how the sentence goes on
OWN_WEIGHT = 0.5
# the model would rewrite much clean text into something it likes better (`repair bench` counted ~39 false
# edits per 1,000 clean words without this): the original wording gets this head start
KEEP_BONUS_NATS = 1.5
# a "sentence" can be a whole text without full stops: the right context stops this far from the span
MAX_CONTEXT_CHARS = 1500
# Fillers asked of the model per gap and length: the drafts it scores with the right context. 4 -> 12 put the
# original among the candidates for 53% of flagged content words, not 47% (held-out seed 3, no references),
# for 39% more model tokens; 8 gave 53%. A suspect under WIDE_MIN_PRIOR gets fewer: with 8 and 4 the whole
# search cost 20% fewer tokens than 12 for all, for 63% of all damaged spans among the candidates, not 65%.
LM_PROPOSALS = 8
LM_PROPOSALS_LOW = 4
WIDE_MIN_PRIOR = 0.4
LM_LENGTHS: tuple[int, ...] = (1, 2)  # words per filler asked of the model (one only where one is likely)
# log-prior of a pronoun that agrees with another name nearby, not with the pasted one, against one that does:
# a coreference step pastes the name its pronoun meant, but other pipelines paste any name
OTHER_ANTECEDENT_NATS = -1.0
_NAMEISH = re.compile(r"\d|^[A-Z]")
HONORIFIC_RE = re.compile(rf"^(?:{'|'.join(sorted(HONORIFICS))})\.?\s+", re.IGNORECASE)
# Words the story itself offers for a span: a pasted-over word usually occurs elsewhere in the document or
# in another outlet's copy, between the same neighbours. A phrase of up to STORY_WORDS words counts when
# the story has it after the span's left neighbours and/or before its right ones, STORY_MIN_ANCHOR tokens
# of them at least; the best anchored STORY_MAX go to the model with the other candidates.
STORY_WORDS = 3
STORY_ANCHOR = 2  # neighbour tokens compared on each side
STORY_MIN_ANCHOR = 2
STORY_MAX = 8
OPENING_MARKS = "“‘\"'(["


@dataclass(frozen=True)
class Context:
    """The sentence window around a span, whitespace folded, as the model reads it."""

    left: str
    right: str
    sentence_start: bool


def propose(
    doc: Normalized,
    suspects: Sequence[Suspect],
    alignment: Alignment,
    lm: LanguageModel | None,
    document: Document | None = None,
    story: Story | None = None,
) -> tuple[Proposal, ...]:
    """Ranked candidates per suspect, best first.

    Cheap candidates (the references' readings, deletion, pronouns) are weighed first;
    the model is asked to generate fillers only where the span stays suspect, since
    generation costs far more than scoring. ``document`` is `Document.of(doc.text)` and ``story``
    `Story.of(document, alignment)`, built here unless the caller has them already (a caller
    proposing suspect by suspect builds them once).
    """
    text = doc.text
    document = Document.of(text) if document is None else document
    story = Story.of(document, alignment) if story is None else story
    spans = list(document.sentences)
    known = story.known
    names = Names(document.mentions, document.classes, document.entities)
    out: list[Proposal] = []
    for s in suspects:
        s2, raw = _widen_for_deletion(text, s)
        ctx = _context(text, spans, s2)
        cands = _cheap(text, s2, raw, ctx, known, pronouns_for(text, s2.start, s2.start + len(raw), names, spans))
        ranked = _rank(s2, cands, ctx, lm)
        if lm is not None and _worth_generating(s2, ranked):
            seen = {c.text for c in cands}
            fresh = _generated(text, s2, raw, ctx, lm, known, seen) + _from_story(
                document, s2, raw, ctx, known, story, seen
            )
            if fresh:
                ranked = sorted(ranked + _rank(s2, fresh, ctx, lm), key=lambda c: (-c.score, c.text))
        out.append(Proposal(s2, tuple(ranked[:MAX_CANDIDATES])))
    return tuple(out)


def _worth_generating(s: Suspect, ranked: list[Candidate]) -> bool:
    """Generate when the detector is fairly sure, or a cheap fix already comes close to the original."""
    if s.readings or s.kind not in ("gap", "substitution", "duplicate"):
        return False
    keep = next((c.score for c in ranked if c.source == "keep"), 0.0)
    rival = max((c.score for c in ranked if c.source != "keep"), default=float("-inf"))
    return s.score >= GENERATE_MIN_PRIOR or rival > keep - GENERATE_MARGIN_NATS


def _widen_for_deletion(text: str, s: Suspect) -> tuple[Suspect, str]:
    """Take one following space into the span so that deleting it leaves single spacing.

    A reference's reading is exact for its span and is left as it is.
    """
    if s.readings or s.kind in ("duplicate", "gap") or s.end >= len(text) or text[s.end] != " ":
        return s, text[s.start : s.end]
    return replace(s, end=s.end + 1), text[s.start : s.end]


def _context(text: str, spans: list[tuple[int, int]], s: Suspect) -> Context:
    """The whole text before the span (a model reads as much of it as it can use: a causal model the
    window of its surprisal pass, a masked one its sentence) and the rest of the span's sentence."""
    k = sentence_at(spans, s.start)
    end = min(max(spans[k][1], s.end) if spans else len(text), s.end + MAX_CONTEXT_CHARS)
    left = " ".join(text[: s.start].split())
    if text[: s.start][-1:].isspace() and left:
        left += " "
    right = text[s.end : end]
    right_folded = " ".join(right.split())
    if right[:1].isspace() and right_folded:
        right_folded = " " + right_folded
    # a sentence that opens with a quote mark or a bracket still opens with the span: "“It was ..."
    sentence_start = not text[spans[k][0] : s.start].strip().strip(OPENING_MARKS) if spans else True
    return Context(left, right_folded, sentence_start)


class _Pool:
    """Candidates for one span, spaced to fit, with names and numbers checked against what is known."""

    def __init__(self, text: str, s: Suspect, raw: str, ctx: Context, known: frozenset[str]) -> None:
        self.text, self.s, self.ctx, self.known = text, s, ctx, known
        self.trail = text[s.start : s.end][len(raw) :]  # the space taken in by _widen_for_deletion
        self.found: list[Candidate] = []

    def add(self, words: str, source: str, evidence: tuple[Evidence, ...] = (), offset: float = 0.0) -> None:
        """Add a filler; ``offset`` is its own log-prior on top of its source's (the score until ranked)."""
        words = words.strip()
        if words and self.ctx.sentence_start:
            words = words[0].upper() + words[1:]
        if any(
            _NAMEISH.search(w) and w not in self.known for w in words.split()[1 if self.ctx.sentence_start else 0 :]
        ):
            return  # never invent a name or a number
        self.found.append(Candidate(_fit(words, self.s, self.text, self.trail), source, offset, evidence))


def _cheap(
    text: str,
    s: Suspect,
    raw: str,
    ctx: Context,
    known: frozenset[str],
    pronouns: Sequence[tuple[str, float, str]] = (),
) -> list[Candidate]:
    """The original, the references' exact readings, deletion, and the pronouns that could stand for a pasted name."""
    found = [Candidate(text[s.start : s.end], "keep", 0.0)]
    refs = tuple(ev for ev in s.evidence if ev.source.startswith("ref:"))
    found += [Candidate(_reading_fit(r, s, text), "ref", 0.0, refs) for r in s.readings]
    pool = _Pool(text, s, raw, ctx, known)
    if s.kind == "duplicate" and not s.readings:
        pool.add("", "delete")
    if s.kind == "substitution" and not s.readings:
        for p, offset, why in pronouns:
            pool.add(p, "pronoun", (Evidence("rule:pronoun", why),), offset)
    return _unique(found + pool.found)


@dataclass(frozen=True)
class Names:
    """The names of a document and the pronoun class of each (`repair.text.entities.agreement`)."""

    mentions: tuple[Mention, ...]
    classes: dict[str, str]
    keys: frozenset[str] = frozenset()  # the names the document repeats: a capital that opens a sentence is not one

    def class_of(self, key: str) -> str:
        """The pronoun class of a name, through a name it is another form of ("tillerson": "rex tillerson")."""
        return self.classes.get(key) or next((c for n, c in self.classes.items() if same_entity(n, key)), "it")


def _names(text: str) -> Names:
    mentions = split_pasted(find_mentions(text), text)
    return Names(tuple(mentions), agreement(text, mentions), frozenset(entity_keys(mentions)))


def pronouns_for(
    text: str, start: int, end: int, names: Names, spans: list[tuple[int, int]]
) -> tuple[tuple[str, float, str], ...]:
    """The pronouns that could have stood where the name ``text[start:end]`` is: (pronoun, log-prior offset, why).

    A pronoun takes the form the slot wants and needs an antecedent it agrees with (he, she,
    they, it) in its sentence or the one before. A coreference step pastes the very name a
    pronoun pointed to, so the pasted name's own pronouns come first; those of the other names
    there follow at a lower prior, as does a subject or object "it" that points at no name
    ("made it clear"). A text's first mention of a name is never a paste.
    """
    inside = [m for m in find_mentions(text[start:end]) if m.key]
    if len(inside) != 1 or HONORIFIC_RE.sub("", text[start:end].strip()) != inside[0].text:
        return ()
    key = inside[0].key
    if not any(m.end <= start and same_entity(m.key, key) for m in names.mentions):
        return ()
    k = sentence_at(spans, start)
    window = spans[k - 1][0] if k > 0 else 0
    before = [m for m in names.mentions if window <= m.start and m.end <= start and m.key in names.keys]
    slots = pronoun_slots(text, start, end)
    found: dict[str, tuple[float, str]] = {}
    for m in [m for m in before if same_entity(m.key, key)] + before[::-1]:
        offset = 0.0 if same_entity(m.key, key) else OTHER_ANTECEDENT_NATS
        for slot in slots:
            for p in PRONOUN_FORMS[names.class_of(m.key)][slot]:
                found.setdefault(p, (offset, f"“{p}” agrees with “{m.text}” before it"))
    if "possessive" not in slots:  # before a noun "it" would be "its", which needs a thing to point at
        found.setdefault("it", (OTHER_ANTECEDENT_NATS, "“it” needs no antecedent"))
    return tuple((p, o, why) for p, (o, why) in found.items())


def pronoun_slots(text: str, start: int, end: int) -> tuple[str, ...]:
    """The pronoun forms that fit between the words around ``text[start:end]``: possessive, subject, object.

    >>> t = "Russia can keep Russia alliance. Russia said Russia had won. They met Russia in Rome."
    >>> pronoun_slots(t, 16, 22), pronoun_slots(t, 45, 51), pronoun_slots(t, 70, 76)
    (('possessive', 'subject'), ('subject',), ('object',))
    """
    before = tokenize(text[max(0, start - 60) : start])
    after = tokenize(text[end : end + 60])
    prev = before[-1].text.lower() if before else "."
    nxt = after[0] if after else None
    word = nxt.text.lower() if nxt is not None and nxt.is_word else ""
    if word in SUBJECT_VERBS or (word.endswith("ed") and word not in NOT_NOUNS):
        return ("subject",)
    if word and word not in NOT_NOUNS and nxt is not None and nxt.text[0].islower():
        return ("possessive", "subject")  # "its alliance", "it wants"
    return ("subject", "object") if prev in CLAUSE_OPENERS else ("object",)


def _generated(
    text: str, s: Suspect, raw: str, ctx: Context, lm: LanguageModel, known: frozenset[str], seen: set[str]
) -> list[Candidate]:
    """The model's own fillers of one or two words (one for a duplicate's first copy)."""
    pool = _Pool(text, s, raw, ctx, known)
    # two-word fillers only where two words are plausible: a gap, or a span of two or more words
    for n in LM_LENGTHS if s.kind == "gap" or len(raw.split()) > 1 or s.score >= TWO_WORD_MIN_PRIOR else (1,):
        k = LM_PROPOSALS if s.score >= WIDE_MIN_PRIOR else LM_PROPOSALS_LOW
        for words, _ in lm.propose(ctx.left.rstrip(), _right_for_lm(ctx), n, k):
            pool.add(words, "lm")
    return [c for c in _unique(pool.found) if c.text not in seen]


@dataclass(frozen=True)
class Story:
    """What the document and its references say, read once per document: every suspect's proposal uses it.

    ``rows`` are the tokens of the document (as the `Document` has them) and of each reference, ``lower``
    the same lowercased, ``where`` each lowercased token's (row, position)s; ``known`` the words a candidate
    may use when they look like names or numbers.
    """

    rows: tuple[tuple[str, ...], ...]
    lower: tuple[tuple[str, ...], ...]
    where: dict[str, tuple[tuple[int, int], ...]]
    known: frozenset[str]

    @classmethod
    def of(cls, document: Document, alignment: Alignment) -> Story:
        texts = [document.text] + [r.normalized.text for r in alignment.refs]
        refs = [tuple(t.text for t in tokenize(r.normalized.text)) for r in alignment.refs]
        known = frozenset(w for t in texts for w in re.findall(r"[\w’'.\-]+", t))
        return cls.from_rows([tuple(t.text for t in document.tokens), *refs], known)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[str]], known: frozenset[str] = frozenset()) -> Story:
        lower = tuple(tuple(w.lower() for w in row) for row in rows)
        where: dict[str, list[tuple[int, int]]] = {}
        for r, row in enumerate(lower):
            for i, w in enumerate(row):
                where.setdefault(w, []).append((r, i))
        return cls(tuple(tuple(row) for row in rows), lower, {w: tuple(p) for w, p in where.items()}, known)


def story_phrases(left: Sequence[str], right: Sequence[str], story: Story, skip: str = "") -> list[tuple[str, int]]:
    """Phrases of up to `STORY_WORDS` words the story has between tokens like ``left`` and ``right``, with how
    many neighbour tokens match (best first; ``skip`` is the span's own wording). A phrase that opens with
    the span's left neighbour is not offered: put in place, it would say that word twice ("keep keep its").

    >>> rows = [("he", "said", "its", "alliance", "held", "."), ("keep", "its", "alliance", "with", "Syria")]
    >>> story_phrases(("keep",), ("alliance", "with"), Story.from_rows(rows), skip="Russia")
    [('its', 3)]
    """
    lo_left = [w.lower() for w in left[-STORY_ANCHOR:]][::-1]  # nearest first
    lo_right = [w.lower() for w in right[:STORY_ANCHOR]]
    found: dict[str, tuple[int, int]] = {}  # phrase -> (anchor tokens, occurrences)
    for r, i in _anchored_starts(story, lo_left, lo_right):
        row, lower = story.rows[r], story.lower[r]
        if lo_left and lower[i] == lo_left[0]:
            continue  # every phrase from here opens with the left neighbour
        for n in range(1, STORY_WORDS + 1):
            if i + n > len(row) or not WORD_TOKEN.match(row[i + n - 1]):
                break
            before, after = lower[max(0, i - len(lo_left)) : i][::-1], lower[i + n : i + n + len(lo_right)]
            a = shared_length(before, lo_left) + shared_length(after, lo_right)
            if a < STORY_MIN_ANCHOR:
                continue
            words = list(row[i : i + n])
            if words[0][:1].isupper() and i > 0 and row[i - 1] in '.!?"“”' and words[0].lower() in lower:
                words[0] = words[0].lower()  # capitalized only because it opened a sentence
            phrase = " ".join(words)
            if phrase != skip:
                old = found.get(phrase, (0, 0))
                found[phrase] = (max(old[0], a), old[1] + 1)
    return [(p, a) for p, (a, _) in sorted(found.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))]


def _anchored_starts(story: Story, lo_left: Sequence[str], lo_right: Sequence[str]) -> list[tuple[int, int]]:
    """Every (row, position) a phrase anchored by at least one neighbour can start at, in story order: right
    after the left neighbour, or one to `STORY_WORDS` tokens before the right one (from the index, not a scan
    of the whole story for each suspect)."""
    if STORY_MIN_ANCHOR < 1:
        return [(r, i) for r, row in enumerate(story.rows) for i in range(len(row))]
    starts = {(r, p + 1) for r, p in story.where.get(lo_left[0], ())} if lo_left else set()
    if lo_right:
        starts |= {(r, p - n) for r, p in story.where.get(lo_right[0], ()) for n in range(1, STORY_WORDS + 1)}
    return sorted((r, i) for r, i in starts if 0 <= i < len(story.rows[r]))


WORD_TOKEN = re.compile(r"\w")


def _from_story(
    document: Document,
    s: Suspect,
    raw: str,
    ctx: Context,
    known: frozenset[str],
    story: Story,
    seen: set[str],
) -> list[Candidate]:
    """Fillers the document or a reference offers for the span (`story_phrases`), best anchored first."""
    if s.kind not in ("gap", "substitution"):
        return []
    tokens = document.tokens
    k = bisect_right(tokens, s.start, key=lambda t: t.end)  # the first token not wholly before the span
    left = [t.text for t in tokens[max(0, k - STORY_ANCHOR) : k]]
    j = bisect_left(tokens, s.end, key=lambda t: t.start)  # the first token after it
    right = [t.text for t in tokens[j : j + STORY_ANCHOR]]
    pool = _Pool(document.text, s, raw, ctx, known)
    why = "the story has these words between the same neighbours"
    for phrase, anchor in story_phrases(left, right, story, " ".join(raw.split()))[:STORY_MAX]:
        pool.add(phrase, "story", (Evidence("story", f"{why} ({anchor} tokens)"),))
    return [c for c in _unique(pool.found) if c.text not in seen]


def _right_for_lm(ctx: Context) -> str:
    return ctx.right.lstrip()


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

    >>> _reading_fit("ten", Suspect(5, 9, "gap", 0.9, ""), "every    minutes")
    ' ten '
    """
    if s.kind == "gap" and s.start < s.end and not text[s.start : s.end].strip():
        return _fit(reading.strip(), s, text, "")
    return reading


def _unique(cands: list[Candidate]) -> list[Candidate]:
    order = {"keep": 0, "ref": 1, "delete": 2, "drop": 3, "pronoun": 4, "story": 5, "lm": 6}
    best: dict[str, Candidate] = {}
    for c in cands:
        old = best.get(c.text)
        if old is None or order[c.source] < order[old.source]:
            best[c.text] = c if old is None else Candidate(c.text, c.source, c.score, c.evidence + old.evidence)
    return sorted(best.values(), key=lambda c: order[c.source])


def _rank(s: Suspect, cands: list[Candidate], ctx: Context, lm: LanguageModel | None) -> list[Candidate]:
    """Score every candidate in its sentence; add the log-priors; best first."""
    texts = [_for_lm(c.text, s) for c in cands]
    lm_scores = fit_scores(lm, ctx.left, texts, ctx.right) if lm is not None else [0.0] * len(cands)
    prior_damage = min(0.99, max(0.01, s.score))
    ranked: list[Candidate] = []
    for c, ls in zip(cands, lm_scores, strict=True):
        if c.source == "keep":
            prior = math.log(1.0 - prior_damage) + (KEEP_BONUS_NATS if lm is not None else 0.0)
        else:
            prior = math.log(prior_damage) + SOURCE_PRIOR[c.source] + c.score  # a cheap candidate's own offset
        ranked.append(Candidate(c.text, c.source, ls + prior, c.evidence))
    # ties break by text so the order never depends on anything but the input
    return sorted(ranked, key=lambda c: (-c.score, c.text))


def fit_scores(lm: LanguageModel, left: str, texts: Sequence[str], right: str) -> list[float]:
    """How well each filler fits: its fit with the words after it, plus a share of its own log-probability."""
    return [fit + OWN_WEIGHT * own for own, fit in lm.score_parts(left, texts, right)]


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
