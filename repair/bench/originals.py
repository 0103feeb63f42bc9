"""What a damaged span's original was: the classes the real damage is counted in.

A broken coreference step pastes a name (now and then a function word) over one to three
tokens, and the loss is told by what it overwrote: a pronoun or possessive, a function
word, a content word, two or more words, punctuation; besides, words are dropped (a gap)
and tokens added (a doubled word, a stray bracket or word). The real damaged article of the
bundled example (000) against its original holds 41 such spans: `REAL_MIX`.
"""

from __future__ import annotations

from typing import Literal

from repair.edits import Edit
from repair.text.english import COREF_WORDS
from repair.text.tokens import tokenize

Original = Literal["function", "pronoun", "content", "words", "punctuation", "gap", "extra"]
ORIGINALS: tuple[Original, ...] = ("function", "pronoun", "content", "words", "punctuation", "gap", "extra")
LABELS: dict[str, str] = {
    "function": "function word",
    "pronoun": "pronoun / possessive",
    "content": "content word",
    "words": "2+ words",
    "punctuation": "punctuation",
    "gap": "dropped word (gap)",
    "extra": "extra token",
    "all": "all",
}
SHORT: dict[str, str] = LABELS | {"pronoun": "pronoun/poss.", "gap": "gap (dropped)", "function": "function"}

# the real article 000 against its original: damaged spans by what the original was (issue 23)
REAL_MIX: dict[Original, int] = {
    "pronoun": 3,
    "function": 5,
    "content": 11,
    "words": 10,
    "punctuation": 2,
    "gap": 5,
    "extra": 5,
}

# closed-class words; the pronouns a coreference step overwrites (COREF_WORDS) are a class of their own
FUNCTION_WORDS = frozenset(
    """a an the this that these those we our us you your i my me who whom whose which what how why when where
    whether there here of to in on at by for from with without into onto over under about after before since
    until through against between among during up down out off as than but and or nor so yet if because
    though although while not no also is are was were be been being am has have had do does did will would
    can could should may might must shall all any some each every both many more most such other another""".split()
)
PUNCTUATION = frozenset({".", ",", ";", ":", "—", "–", "-", "?", "!"})


def word_class(word: str) -> Original:
    """The class of one word as an original: pronoun, function or content.

    >>> [word_class(w) for w in ("its", "Of", "alliance", "Harlow")]
    ['pronoun', 'function', 'content', 'content']
    """
    low = word.lower()
    return "pronoun" if low in COREF_WORDS else "function" if low in FUNCTION_WORDS else "content"


def original_class(answer: Edit) -> Original | None:
    """What an answer of a key restores (``after`` is the original), or None for surface damage.

    >>> E = lambda before, after, kind="substitution": Edit(0, len(before), before, after, kind, 1.0)
    >>> [original_class(E("Russia", a)) for a in ("its", "of", "alliance", "to all", ".", "")]
    ['pronoun', 'function', 'content', 'words', 'punctuation', 'extra']
    >>> original_class(E("   ", "peace ", "gap")), original_class(E("U. S.", "U.S.", "tokenization"))
    ('gap', None)
    """
    if answer.kind in ("tokenization", "mojibake", "whitespace"):
        return None
    if answer.kind == "gap":
        return "gap"
    toks = tokenize(answer.after)
    words = [t.text for t in toks if t.is_word]
    if not toks:
        return "extra"
    if not words:
        return "punctuation"
    if len(words) > 1:
        return "words"
    return word_class(words[0])
