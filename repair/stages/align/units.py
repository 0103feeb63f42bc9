"""The words of a text as the alignment sees them: dotted initials and clitics kept whole, keyed for matching.

A tokenization artifact ("U. S.", "does n’t", "Assad ’s", "can not") must not break an anchor, so a unit
takes in what a tokenizer split off, and its key keeps letters and digits only ("U. S." and "US" both key
"us").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from repair.text.english import ALIGN_STOPWORDS

UNIT_RE = re.compile(r"\b\w\.(?: ?\w\.)+|\b[Cc]an ?not\b|\w+(?:[’'.\-]\w+)*(?: ?(?:n[’']t|[’'](?:s|re|ve|ll|d|m))\b)?")


@dataclass(frozen=True)
class Unit:
    """An aligned word: its span, its matching key and what it is."""

    start: int
    end: int
    text: str
    key: str  # lower-cased letters and digits only: "U. S." and "US" both give "us"
    function: bool
    capital: bool
    possessive: bool

    @property
    def base(self) -> str:
        """The key without a possessive's "s": the name a possessive is of."""
        return self.key[:-1] if self.possessive else self.key


@dataclass(frozen=True)
class Side:
    """One text as aligned: its units and their keys."""

    text: str
    units: tuple[Unit, ...]
    keys: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(u.key for u in self.units))

    @classmethod
    def of(cls, text: str) -> Side:
        return cls(text, units(text))


@lru_cache(maxsize=1 << 16)
def _keyed(words: str) -> tuple[str, str]:
    """A unit's words lower-cased with its spaces gone, and its key: asked again for every common word."""
    word = re.sub(r"\s+", "", words.lower().replace("’", "'"))
    return word, re.sub(r"[\W_]+", "", word)


def units(text: str) -> tuple[Unit, ...]:
    """The words of ``text`` as aligned, with clitics and initials kept whole.

    >>> [u.key for u in units("the U. S. does n’t see Assad ’s")]
    ['the', 'us', 'doesnt', 'see', 'assads']
    """
    out = []
    for m in UNIT_RE.finditer(text):
        word, key = _keyed(m.group())
        if not key:
            continue
        acronym = m.group().isupper() and len(key) > 1  # "US" the country, not "us"
        out.append(
            Unit(
                m.start(),
                m.end(),
                m.group(),
                key,
                word in ALIGN_STOPWORDS and not acronym,
                m.group()[0].isupper(),
                word.endswith("'s") and len(key) > 2,
            )
        )
    return tuple(out)
