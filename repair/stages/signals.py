"""The signs that a unit of the text was pasted over other words, as numbers a fitted model weighs.

A broken coreference step pastes a name of the document (now and then a function word) over
words, or puts one in. The units that can be such a paste are the document's names and its
function words; each gets the same families of signs:

- grammar: what kind of token stands before and after it ("maintain Russia alliance": a verb
  before, a lower-case noun after; "Mr. Senate said": a title before an organisation);
- the name itself: how often the document uses it, whether this is its first mention (a
  first mention is never a paste), whether it repeats within the sentence;
- the model (where there is one): how surprising the unit and the words after it are.

The references are not asked here: where one reads otherwise it speaks through its own
detector, and a paste suspect it had raised itself would then vouch for its own reading (an
outlet's "the mayor" for "Brooks"). Their signs added little besides (held-out names: ROC AUC
0.928 without them, 0.932 with; `benchmarks/detector_fit.py`). `repair.stages.detect` turns the
signs into a probability with weights fitted on real stories.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from repair.text.document import Document
from repair.text.english import (
    AUXILIARIES,
    DETERMINERS,
    FUNCTION_WORDS,
    HONORIFICS,
    PREPOSITIONS,
    SPEECH_VERBS,
    SUBJECT_PRONOUNS,
    TITLES,
)
from repair.text.entities import Mention
from repair.text.tokens import Token

UnitKind = Literal["name", "function"]
UNIT_KINDS: tuple[UnitKind, ...] = ("name", "function")

# the classes of the tokens around a unit
POSSESSIVES = frozenset({"his", "her", "its", "their", "our", "my", "your"})
CONJUNCTIONS = frozenset({"and", "or", "but", "nor"})
SENTENCE_ENDS = frozenset({".", "!", "?"})
QUOTES = frozenset({'"', "“", "”", "‘", "’", "'"})
CLAUSE_MARKS = frozenset({",", ";", ":"})
OPENERS = SENTENCE_ENDS | QUOTES  # a word after one of these may open a sentence, so its capital says nothing
CLASSES: tuple[str, ...] = (
    "start",
    "end",
    "quote",
    "clause",
    "stop",
    "punct",
    "det",
    "poss",
    "prep",
    "pron",
    "aux",
    "conj",
    "func",
    "title",
    "name",
    "number",
    "speech",
    "ed",
    "ly",
    "content",
)
SURPRISAL_KNOTS = (4.0, 8.0, 12.0)  # nats: the hinges of the piecewise-linear surprisal signs
MAX_NATS = 20.0


@dataclass(frozen=True)
class Unit:
    """A span that may be a paste: a name (its honorific taken in) or a function word."""

    start: int  # offsets in the normalized text
    end: int
    first: int  # token indexes, inclusive
    last: int
    kind: UnitKind
    mention: Mention | None = None


def token_class(toks: Sequence[Token], i: int, names: frozenset[int]) -> str:
    """The coarse class of token ``i`` (`CLASSES`); ``names`` holds the indexes of tokens inside names."""
    if i < 0:
        return "start"
    if i >= len(toks):
        return "end"
    t = toks[i].text
    low = t.lower()
    if t in QUOTES:
        return "quote"
    if t in CLAUSE_MARKS:
        return "clause"
    if t in SENTENCE_ENDS:
        return "stop"
    if not toks[i].is_word:
        return "punct"
    if low in POSSESSIVES or low.endswith(("’s", "'s")):
        return "poss"
    if low in DETERMINERS:
        return "det"
    if low in PREPOSITIONS:
        return "prep"
    if low in SUBJECT_PRONOUNS or low in ("him", "them", "us", "me"):
        return "pron"
    if low in CONJUNCTIONS:
        return "conj"
    if low in SPEECH_VERBS and low not in AUXILIARIES:
        return "speech"
    if low in AUXILIARIES:
        return "aux"
    if low in FUNCTION_WORDS:
        return "func"
    if low.rstrip(".") in TITLES and t[0].isupper():
        return "title"
    if i in names or t[0].isupper():
        return "name"
    if t[0].isdigit():
        return "number"
    if low.endswith("ed"):
        return "ed"
    if low.endswith("ly"):
        return "ly"
    return "content"


def units_of(document: Document) -> list[Unit]:
    """Every name of the document (with its honorific) and every function word outside a name, in order."""
    toks = document.tokens
    by_start = {t.start: i for i, t in enumerate(toks)}
    by_end = {t.end: i for i, t in enumerate(toks)}
    out: list[Unit] = []
    inside: set[int] = set()
    for m in document.mentions:
        first, last = by_start.get(m.start), by_end.get(m.end)
        if first is None or last is None:
            continue
        head = _with_honorific(toks, first)
        inside.update(range(head, last + 1))
        out.append(Unit(toks[head].start, m.end, head, last, "name", m))
    for i, t in enumerate(toks):
        if i not in inside and t.is_word and t.text.lower() in FUNCTION_WORDS:
            out.append(Unit(t.start, t.end, i, i, "function"))
    return sorted(out, key=lambda u: (u.start, u.end))


def _with_honorific(toks: Sequence[Token], first: int) -> int:
    """The first token of a name with its title ("Mr. Tillerson"): a pasted name comes with it."""
    dotted = first > 1 and toks[first - 1].text == "." and toks[first - 1].start == toks[first - 2].end
    i = first - 1 if dotted else first
    before = toks[i - 1] if i > 0 else None
    if before is not None and before.text.lower() in HONORIFICS and before.text[0].isupper():
        return i - 1
    return first


@dataclass(frozen=True)
class Context:
    """What every unit's signs are read from, worked out once per text."""

    document: Document
    names: frozenset[int]  # token indexes inside names
    counts: dict[str, int]  # per name key, its mentions
    first_seen: dict[str, int]  # per name key, the offset of its first mention
    surprisal: Sequence[float] | None
    classes: Sequence[str]  # per token: its class (`token_class`)
    sentence_first: Sequence[int]  # per token: the index of its sentence's first token

    @classmethod
    def of(cls, document: Document, surprisal: Sequence[float] | None) -> Context:
        toks = document.tokens
        names: set[int] = set()
        counts: dict[str, int] = {}
        first_seen: dict[str, int] = {}
        starts = [t.start for t in toks]
        for m in document.mentions:
            names.update(range(bisect_left(starts, m.start), bisect_left(starts, m.end)))
            counts[m.key] = counts.get(m.key, 0) + 1
            first_seen.setdefault(m.key, m.start)
        sentence_first = [0] * len(toks)
        s, first = 0, 0
        spans = document.sentences
        for i, t in enumerate(toks):
            moved = False
            while s + 1 < len(spans) and t.start >= spans[s + 1][0]:
                s += 1
                moved = True
            first = i if moved else first
            sentence_first[i] = first
        inside = frozenset(names)
        classes = [token_class(toks, i, inside) for i in range(len(toks))]
        return cls(document, inside, counts, first_seen, surprisal, classes, sentence_first)

    def class_of(self, i: int) -> str:
        """The class of token ``i``, "start" before the first and "end" after the last."""
        return "start" if i < 0 else "end" if i >= len(self.classes) else self.classes[i]


def _hinges(prefix: str, nats: float) -> dict[str, float]:
    """Surprisal as a piecewise-linear sign: its value and how far past each knot it goes."""
    x = min(MAX_NATS, max(0.0, nats))
    return {prefix: x / 10} | {f"{prefix}>{k:g}": max(0.0, x - k) / 10 for k in SURPRISAL_KNOTS}


def signals(unit: Unit, ctx: Context) -> dict[str, float]:
    """The signs of damage of one unit (absent signs are left out: they count 0)."""
    doc = ctx.document
    toks = doc.tokens
    f, last = unit.first, unit.last
    f_: dict[str, float] = {}
    for name, i in (("prev", f - 1), ("prev2", f - 2), ("next", last + 1), ("next2", last + 2)):
        f_[f"{name}={ctx.class_of(i)}"] = 1.0
    if f > 0 and "\n" in doc.text[toks[f - 1].end : toks[f].start]:
        f_["prev=start"] = 1.0
    same_sentence = range(max(f - 40, ctx.sentence_first[f]), f)
    f_["sentence position"] = min(len(same_sentence), 20) / 20
    word = toks[f].text
    if unit.kind == "name" and unit.mention is not None:
        m = unit.mention
        n = ctx.counts.get(m.key, 1)
        f_["name count"] = math.log(n)
        f_["name once"] = float(n == 1)
        f_["first mention"] = float(ctx.first_seen.get(m.key, m.start) >= m.start)
        f_["name words"] = min(4, last - f + 1) / 4
        person = doc.classes.get(m.key, "it") in ("he", "she")
        f_["person"] = float(person)
        f_["led by the"] = float(m.text.lower().startswith("the "))
        f_["possessive name"] = float(m.text.endswith(("’s", "'s")))
        key_words = m.key.split()
        earlier = [i for i in same_sentence if i in ctx.names and toks[i].text.lower() in key_words]
        f_["name again in sentence"] = float(bool(earlier))
        f_["titled"] = float(toks[f].text.lower().rstrip(".") in HONORIFICS)
        f_["titled non-person"] = float(f_["titled"] and not person)
    else:
        low = word.lower()
        opens = f == 0 or toks[f - 1].text in OPENERS or "\n" in doc.text[toks[f - 1].end : toks[f].start]
        f_["capital mid-sentence"] = float(word[0].isupper() and not opens)
        f_["same word before"] = float(f > 0 and toks[f - 1].text.lower() == low)
        f_["same word after"] = float(last + 1 < len(toks) and toks[last + 1].text.lower() == low)
        f_[f"word class={ctx.class_of(f)}"] = 1.0
    if ctx.surprisal is not None:
        s = ctx.surprisal
        f_ |= _hinges("nats", s[f])
        nxt = [s[i] for i in range(last + 1, min(len(toks), last + 3)) if toks[i].is_word]
        f_ |= _hinges("nats next", nxt[0] if nxt else 0.0)
        f_ |= _hinges("nats after", max(nxt) if nxt else 0.0)
        around = [s[i] for i in range(max(0, f - 6), min(len(toks), last + 7)) if toks[i].is_word]
        f_["nats above neighbours"] = (s[f] - sum(around) / len(around)) / 10 if around else 0.0
    return {k: v for k, v in f_.items() if v}
