"""Sentence windows with offsets: the unit the language model scores."""

from __future__ import annotations

import re

# a sentence ends at . ! ? (optionally closed by quotes/brackets) before space and a capital, quote or digit,
# or at a line break; "U.S. officials" does not end one because a lower-case word follows
_END_RE = re.compile(r"""(?<=[.!?])["”’')\]]*(?=\s+["“‘(\[]?[A-Z0-9])|\n+""")


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


def sentence_at(spans: list[tuple[int, int]], pos: int) -> int:
    """Index of the sentence holding char ``pos`` (the nearest one before it otherwise)."""
    best = 0
    for i, (s, _) in enumerate(spans):
        if s <= pos:
            best = i
        else:
            break
    return best
