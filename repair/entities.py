"""Entity mentions of a document: the names a broken coreference step pastes over words."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from repair.document import Token, tokenize

# capitalized words that open sentences or quotes without naming anything
FUNCTION_CAPS = frozenset(
    """a an the this that these those it its he his him she her they their them we our us you your i my me
    but and or nor so yet for if as at by in on of to from with without into onto over under after before
    since though although while when where whether which who whom whose what why how because unless until
    then there here now not no yes all any some each every both either neither many much more most other
    such is are was were be been being has have had do does did will would can could shall should may might
    must also just only even still instead yet meanwhile however mr mrs ms dr gen""".split()
)
CONNECTORS = frozenset({"of", "al", "bin", "de", "von", "van", "der", "la", "le", "del"})
TITLES = frozenset(
    "president secretary minister prime chancellor king queen prince general gen senator sen rep mr mrs ms dr "
    "spokesman spokeswoman ambassador director chief leader pope".split()
)
_CAP_RE = re.compile(r"^[A-Z][\w’'.\-]*$")


@dataclass(frozen=True)
class Mention:
    """One occurrence of a name in the text, with the determiner it carries ("the U.S.")."""

    start: int
    end: int
    text: str
    key: str  # the name without determiner, lower-cased: what repeats across the document
    person: bool  # likely a person (takes he/his), else a place/organisation (it/its)


def _is_cap(tok: Token) -> bool:
    return bool(_CAP_RE.match(tok.text)) and tok.text.lower() not in FUNCTION_CAPS


def find_mentions(text: str) -> list[Mention]:
    """Every run of capitalized words, with a leading "the" when it has one.

    >>> [m.text for m in find_mentions("Since the U.S. launched strikes, Russian President Vladimir Putin said.")]
    ['the U.S.', 'Russian President Vladimir Putin']
    """
    toks = tokenize(text)
    out: list[Mention] = []
    i = 0
    while i < len(toks):
        if not _is_cap(toks[i]):
            i += 1
            continue
        j = i + 1
        while j < len(toks) and toks[j].start - toks[j - 1].end <= 1:
            if _is_cap(toks[j]):
                j += 1
            elif toks[j].text.lower() in CONNECTORS and j + 1 < len(toks) and _is_cap(toks[j + 1]):
                j += 2
            else:
                break
        start = toks[i].start
        if i > 0 and toks[i - 1].text in ("the", "The") and toks[i].start - toks[i - 1].end == 1:
            start = toks[i - 1].start
        words = [t.text for t in toks[i:j]]
        person = any(w.lower() in TITLES for w in words[:-1]) or (
            len(words) >= 2 and all(w[0].isupper() and "." not in w for w in words)
        )
        out.append(Mention(start, toks[j - 1].end, text[start : toks[j - 1].end], " ".join(words).lower(), person))
        i = j
    return out


def split_pasted(mentions: list[Mention], text: str) -> list[Mention]:
    """Split runs like "Syria Assad" or "Assad Assad" where two names the document uses on their own meet.

    A pasted name lands next to a real one and the capitalized run swallows both;
    a run splits where both halves are names that stand alone elsewhere.
    """
    standalone = Counter(m.key for m in mentions)
    out: list[Mention] = []
    for m in mentions:
        toks = [t for t in tokenize(text[m.start : m.end], m.start) if t.text not in ("the", "The")]
        cut = None
        for k in range(1, len(toks)):
            head = " ".join(t.text for t in toks[:k]).lower()
            tail = " ".join(t.text for t in toks[k:]).lower()
            if standalone[head] >= 1 and standalone[tail] >= 1 and (standalone[head] + standalone[tail] >= 3):
                cut = k
                break
        if cut is None:
            out.append(m)
            continue
        left_end = toks[cut - 1].end
        right_start = toks[cut].start
        out.append(
            Mention(m.start, left_end, text[m.start : left_end], " ".join(t.text for t in toks[:cut]).lower(), m.person)
        )
        out.append(
            Mention(
                right_start, m.end, text[right_start : m.end], " ".join(t.text for t in toks[cut:]).lower(), m.person
            )
        )
    return out


def entity_keys(mentions: list[Mention], min_count: int = 2) -> set[str]:
    """Names the document repeats: the pool a broken coreference step draws from.

    A single-word key also counts when it ends a longer repeated name ("Putin" in
    "Russian President Vladimir Putin").
    """
    counts = Counter(m.key for m in mentions)
    tails = Counter(m.key.split()[-1] for m in mentions)
    return {k for k in counts if counts[k] >= min_count or tails[k.split()[-1]] >= min_count}


def persons(mentions: list[Mention]) -> set[str]:
    """Last names of the mentions that look like people, so "Tillerson" alone takes he/his."""
    return {m.key.split()[-1] for m in mentions if m.person}
