"""Tokens with character offsets: the common coordinate system of every stage."""

from __future__ import annotations

import re
from dataclasses import dataclass

# words keep inner apostrophes, periods and hyphens ("doesn’t", "U.S.", "like-minded");
# everything else that is not space is a token of its own
TOKEN_RE = re.compile(r"\b\w(?:\.\w)+\.|\w+(?:[’'.\-]\w+)*|[^\w\s]", re.UNICODE)
WORD_RE = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return bool(WORD_RE.match(self.text))


def tokenize(text: str, offset: int = 0) -> tuple[Token, ...]:
    """Split text into word and punctuation tokens with char offsets.

    >>> [t.text for t in tokenize("U.S. officials don’t, (AP) in Italy.")]
    ['U.S.', 'officials', 'don’t', ',', '(', 'AP', ')', 'in', 'Italy', '.']
    """
    return tuple(Token(m.group(), m.start() + offset, m.end() + offset) for m in TOKEN_RE.finditer(text))


def count_words(text: str) -> int:
    """Whitespace-separated words: the unit of throughput figures, and how many words a filler has.

    >>> count_words("U. S. officials  said"), count_words(" not  yet ")
    (4, 2)
    """
    return len(text.split())
