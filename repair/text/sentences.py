"""Sentence windows with offsets: the unit the language model scores."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from operator import itemgetter

# What ends a sentence, defined once: a mark, then any quotes and brackets that close the sentence with it.
MARK = "[.!?]"
CLOSERS = "[\"”’')\\]]"
# ...and, between tokens, the tokens a sentence ends on and the ones a new sentence may follow
END_TOKENS = frozenset({".", "!", "?", '"', "“", "”", ":"})
OPENING_TOKENS = END_TOKENS | {"(", "—"}
# One line end: CRLF is one line end, never CR then LF (a blank line is two of them with spaces between).
LINE_END = r"(?:\r\n|\r(?!\n)|\n)"
LINE_END_RE = re.compile(LINE_END)
PARAGRAPH_BREAK_RE = re.compile(rf"{LINE_END}(?:[ \t]*{LINE_END})+")

# Where each reader cuts, from the definition above:
# a sentence of the text ends at the mark before space and a capital, quote or digit, or at a line break;
# "U.S. officials" does not end one because a lower-case word follows
_END_RE = re.compile(rf"""(?<={MARK}){CLOSERS}*(?=\s+["“‘(\[]?[A-Z0-9])|\n+""")
# the report's side-by-side view cuts after the mark before any space (the capital after it may be the damage)
LOOSE_END_RE = re.compile(rf"(?<={MARK}){CLOSERS}*(?=\s)")
# a language model's context window starts after a mark and its spaces, or after a line break and its spaces
WINDOW_BREAK_RE = re.compile(rf"{MARK}{CLOSERS}*\s+|\n\s*")
# a run of text that holds a sentence or clause break (the alignment keeps a pasted mention within one clause)
CLAUSE_BREAK_RE = re.compile(r"[.!?;:\n]")
# a sentence end a tokenizer spaced out ("Syria . The"), between two words
SPACED_END_RE = re.compile(rf"(?<=[^\W\d_]{{2}}) ?{MARK} (?=[A-Z][a-z])")
# a line too long for one chunk is cut after a mark with two lower-case letters before it (or a space
# between, as a tokenizer leaves "word ."), its closers and spaces, so "U. S." and "Mr." stay whole;
# CJK stops need no space after them
CUT_END_RE = re.compile(rf"(?:(?<=[a-z]{{2}}{MARK})|(?<=[a-z]{{2}} {MARK})){CLOSERS}*[ \t]+|[。！？]")


def line_layout(text: str) -> tuple[tuple[str, ...], int]:
    """The line ends of a text in order, and how many blank-line paragraph breaks it has.

    What ``LINE_END_RE`` and ``PARAGRAPH_BREAK_RE`` find, without a regular expression's walk over every
    char where only LF ends lines: the layout of a long line is asked for at every edit on it.

    >>> line_layout("a\\r\\nb\\n\\nc"), line_layout("a\\n \\t\\n\\nb\\n c\\n")
    ((('\\r\\n', '\\n', '\\n'), 1), (('\\n', '\\n', '\\n', '\\n', '\\n'), 1))
    """
    if "\r" in text:
        return tuple(LINE_END_RE.findall(text)), len(PARAGRAPH_BREAK_RE.findall(text))
    breaks = run = 0  # ``run``: line ends so far with only spaces and tabs between them
    prev = -1
    at = text.find("\n")
    while at >= 0:
        if run and not text[prev + 1 : at].strip(" \t"):
            run += 1
        else:
            breaks += run >= 2
            run = 1
        prev, at = at, text.find("\n", at + 1)
    return ("\n",) * text.count("\n"), breaks + (run >= 2)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Char spans of the sentences of ``text`` (whitespace between them excluded).

    >>> t = "He said it. The U.S. did not.\\nNew line here"
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['He said it.', 'The U.S. did not.', 'New line here']
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _END_RE.finditer(text):
        _add(text, pos, m.end(), spans)
        pos = m.end()
    _add(text, pos, len(text), spans)
    return spans


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    chunk = text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk.rstrip())
    if trail > lead:
        spans.append((start + lead, start + trail))


def sentence_at(spans: Sequence[tuple[int, int]], pos: int) -> int:
    """Index of the sentence holding char ``pos`` (the nearest one before it otherwise); ``spans`` in order.

    >>> sentence_at([(0, 11), (12, 29), (30, 43)], 15), sentence_at([(4, 9)], 0), sentence_at([], 3)
    (1, 0, 0)
    """
    return max(0, bisect_right(spans, pos, key=itemgetter(0)) - 1)
