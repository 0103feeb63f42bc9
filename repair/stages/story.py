"""The words the story itself offers for a span: a pasted-over word usually occurs elsewhere in the document or in
another outlet's copy, between the same neighbours.

A phrase of up to `StorySettings.words` words counts when the story has it after the span's
left neighbours and/or before its right ones, `StorySettings.min_anchor` tokens of them at
least; `propose` hands the best anchored to the model with its other candidates.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from repair.lm.base import shared_length
from repair.stages.align import Reference
from repair.stages.sources import Paraphrases, SourcesSettings, StoryNames
from repair.text.document import Document
from repair.text.tokens import Token

WORD_TOKEN = re.compile(r"\w")
SENTENCE_OPENERS = '.!?"“”'  # a token after one of these opens a sentence, and so may be capitalized for that alone


@dataclass(frozen=True)
class StorySettings:
    """How the story's phrases are found: ``anchor`` neighbour tokens compared on each side, of which at least
    ``min_anchor`` (1 or more) must match; phrases of up to ``words`` words; the best ``most`` offered."""

    words: int = 3
    anchor: int = 2
    min_anchor: int = 2
    most: int = 8


NO_NAMES = StoryNames((), ())


@dataclass(frozen=True)
class Story:
    """What the document and its references say, read once per document: every suspect's proposal uses it.

    ``rows`` are the tokens of the document and of each reference (as their `Document`s have them), ``lower``
    the same lowercased, ``where`` each lowercased token's (row, position)s; ``known`` the words a candidate
    may use when they look like names or numbers (`Document.words`).
    """

    rows: tuple[tuple[str, ...], ...]
    lower: tuple[tuple[str, ...], ...]
    where: dict[str, tuple[tuple[int, int], ...]]
    known: frozenset[str]
    names: StoryNames = NO_NAMES  # the names of the document and its references, by kind
    paraphrases: Paraphrases | None = None  # per sentence, the reference sentence telling the same fact

    @classmethod
    def of(cls, document: Document, refs: Sequence[Reference], settings: SourcesSettings | None = None) -> Story:
        documents = [document, *(r.document for r in refs)]
        known = frozenset().union(*(d.words for d in documents))
        base = cls.from_rows([tuple(t.text for t in d.tokens) for d in documents], known)
        match = (settings or SourcesSettings()).min_sentence_match
        paraphrases = Paraphrases.of(document, documents[1:], match) if refs else None
        return replace(base, names=StoryNames.of(documents), paraphrases=paraphrases)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[str]], known: frozenset[str] = frozenset()) -> Story:
        lower = tuple(tuple(w.lower() for w in row) for row in rows)
        where: dict[str, list[tuple[int, int]]] = {}
        for r, row in enumerate(lower):
            for i, w in enumerate(row):
                where.setdefault(w, []).append((r, i))
        return cls(tuple(tuple(row) for row in rows), lower, {w: tuple(p) for w, p in where.items()}, known)


def neighbours(tokens: Sequence[Token], start: int, end: int, n: int) -> tuple[list[str], list[str]]:
    """The texts of the ``n`` tokens before ``start`` and the ``n`` after ``end``."""
    k = bisect_right(tokens, start, key=lambda t: t.end)  # the first token not wholly before the span
    j = bisect_left(tokens, end, key=lambda t: t.start)  # the first token after it
    return [t.text for t in tokens[max(0, k - n) : k]], [t.text for t in tokens[j : j + n]]


def story_phrases(
    left: Sequence[str], right: Sequence[str], story: Story, settings: StorySettings, skip: str = ""
) -> list[tuple[str, int]]:
    """Phrases of up to ``settings.words`` words the story has between tokens like ``left`` and ``right``, with how
    many neighbour tokens match (best first; ``skip`` is the span's own wording). A phrase that opens with
    the span's left neighbour is not offered: put in place, it would say that word twice ("keep keep its").

    >>> rows = [("he", "said", "its", "alliance", "held", "."), ("keep", "its", "alliance", "with", "Syria")]
    >>> story_phrases(("keep",), ("alliance", "with"), Story.from_rows(rows), StorySettings(), skip="Russia")
    [('its', 3)]
    """
    lo_left = [w.lower() for w in left[-settings.anchor :]][::-1]  # nearest first
    lo_right = [w.lower() for w in right[: settings.anchor]]
    found: dict[str, tuple[int, int]] = {}  # phrase -> (anchor tokens, occurrences)
    for r, i in _anchored_starts(story, lo_left, lo_right, settings.words):
        row, lower = story.rows[r], story.lower[r]
        if lo_left and lower[i] == lo_left[0]:
            continue  # every phrase from here opens with the left neighbour
        for n in range(1, settings.words + 1):
            if i + n > len(row) or not WORD_TOKEN.match(row[i + n - 1]):
                break
            before, after = lower[max(0, i - len(lo_left)) : i][::-1], lower[i + n : i + n + len(lo_right)]
            a = shared_length(before, lo_left) + shared_length(after, lo_right)
            if a < settings.min_anchor:
                continue
            words = list(row[i : i + n])
            if words[0][:1].isupper() and i > 0 and row[i - 1] in SENTENCE_OPENERS and words[0].lower() in lower:
                words[0] = words[0].lower()  # capitalized only because it opened a sentence
            phrase = " ".join(words)
            if phrase != skip:
                old = found.get(phrase, (0, 0))
                found[phrase] = (max(old[0], a), old[1] + 1)
    return [(p, a) for p, (a, _) in sorted(found.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))]


def _anchored_starts(
    story: Story, lo_left: Sequence[str], lo_right: Sequence[str], words: int
) -> list[tuple[int, int]]:
    """Every (row, position) a phrase anchored by at least one neighbour can start at, in story order: right
    after the left neighbour, or one to ``words`` tokens before the right one (from the index, not a scan
    of the whole story for each suspect)."""
    starts = {(r, p + 1) for r, p in story.where.get(lo_left[0], ())} if lo_left else set()
    if lo_right:
        starts |= {(r, p - n) for r, p in story.where.get(lo_right[0], ()) for n in range(1, words + 1)}
    return sorted((r, i) for r, i in starts if 0 <= i < len(story.rows[r]))
