"""Entity mentions of a document: the names a broken coreference step pastes over words."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from repair.text.english import CONNECTORS, FEMALE_TITLES, FUNCTION_CAPS, PLURAL_VERBS, SINGULAR_VERBS, TITLES
from repair.text.tokens import Token, tokenize

_CAP_RE = re.compile(r"^[A-Z][\w’'.\-]*$")
# a run of two names splits where both stand alone elsewhere, together this often (one of them twice at least)
MIN_SPLIT_USES = 3


@dataclass(frozen=True)
class Mention:
    """One occurrence of a name in the text, with the determiner it carries ("the U.S.")."""

    start: int
    end: int
    text: str
    key: str  # the name without determiner, lower-cased: what repeats across the document


def _is_cap(tok: Token) -> bool:
    return bool(_CAP_RE.match(tok.text)) and tok.text.lower() not in FUNCTION_CAPS


def find_mentions(text: str, tokens: Sequence[Token] | None = None) -> list[Mention]:
    """Every run of capitalized words, with a leading "the" when it has one (``tokens``: the text's, if known).

    >>> [m.text for m in find_mentions("Since the U.S. launched strikes, Russian President Vladimir Putin said.")]
    ['the U.S.', 'Russian President Vladimir Putin']
    """
    toks = tokenize(text) if tokens is None else tokens
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
        out.append(Mention(start, toks[j - 1].end, text[start : toks[j - 1].end], " ".join(words).lower()))
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
            both = standalone[head] >= 1 and standalone[tail] >= 1
            if both and standalone[head] + standalone[tail] >= MIN_SPLIT_USES:
                cut = k
                break
        if cut is None:
            out.append(m)
            continue
        left_end = toks[cut - 1].end
        right_start = toks[cut].start
        out.append(Mention(m.start, left_end, text[m.start : left_end], " ".join(t.text for t in toks[:cut]).lower()))
        out.append(Mention(right_start, m.end, text[right_start : m.end], " ".join(t.text for t in toks[cut:]).lower()))
    return out


def entity_keys(mentions: list[Mention], min_count: int = 2) -> set[str]:
    """Names the document repeats: the pool a broken coreference step draws from.

    A single-word key also counts when it ends a longer repeated name ("Putin" in
    "Russian President Vladimir Putin").
    """
    counts = Counter(m.key for m in mentions)
    tails = Counter(m.key.split()[-1] for m in mentions)
    return {k for k in counts if counts[k] >= min_count or tails[k.split()[-1]] >= min_count}


# An entity's agreement class is named by the subject pronoun it takes; each class's pronoun per slot.
PRONOUN_FORMS: dict[str, dict[str, tuple[str, ...]]] = {
    "he": {"possessive": ("his",), "subject": ("he",), "object": ("him",)},
    "she": {"possessive": ("her",), "subject": ("she",), "object": ("her",)},
    "they": {"possessive": ("their",), "subject": ("they",), "object": ("them",)},
    "it": {"possessive": ("its",), "subject": ("it",), "object": ("it",)},
}
# pronouns that say which sex a person is when they point back to the nearest name
_POINTERS = {"he": "he", "his": "he", "him": "he", "she": "she", "her": "she"}
# plural demonyms and party names: "Russians", "Syrians", "Republicans"
_PLURAL_NAME_RE = re.compile(r"[a-z](?:ans|ists|ites|ers)$")


def agreement(text: str, mentions: list[Mention], tokens: Sequence[Token] | None = None) -> dict[str, str]:
    """Per entity key, the pronoun class it takes: "he", "she", "they" or "it" (``tokens``: the text's, if known).

    A person has a title or a first name (a bare multi-word name whose last word stands alone
    elsewhere), and so does the last name alone; a group has a plural name or plural verbs after
    it; anything else is a thing (a country, an organisation, a city). Pronouns pointing back
    only tell "he" from "she": which name a pronoun means is too often unclear to say more.

    >>> t = "Rex Tillerson met the Russians. Tillerson said the Russians were wrong. Russia said its aim was clear."
    >>> sorted(agreement(t, find_mentions(t)).items())
    [('rex tillerson', 'he'), ('russia', 'it'), ('russians', 'they'), ('tillerson', 'he')]
    """
    tails = Counter(last_name(m.key) for m in mentions)
    led = Counter(m.key for m in mentions if m.text.lower().startswith("the "))
    votes: dict[str, Counter[str]] = {m.key: Counter() for m in mentions}
    toks = tokenize(text) if tokens is None else tokens
    ends = {t.start: i for i, t in enumerate(toks)}
    for m in mentions:
        words = m.key.split()
        if any(w in TITLES for w in words[:-1]):
            votes[m.key]["she" if any(w in FEMALE_TITLES for w in words[:-1]) else "person"] += 1
        elif len(words) >= 2 and "." not in m.key and not led[m.key] and tails[last_name(m.key)] >= 2:
            votes[m.key]["person"] += 1  # "Rex Tillerson" and later "Tillerson": a first and a last name
        if len(words) == 1 and _PLURAL_NAME_RE.search(words[0]):
            votes[m.key]["they"] += 1
        at = ends.get(m.start, len(toks))
        nxt = next((toks[j] for j in range(at, len(toks)) if toks[j].start >= m.end), None)
        before = toks[at - 1].text.lower().rstrip(".") if at > 0 else ""
        if before in TITLES:  # "Mr Assad", "Syrian leader Bashar Assad"
            votes[m.key]["she" if before in FEMALE_TITLES else "person"] += 1
        listed = before in ("and", "or", ",")  # "Russia and Iran have"
        if nxt is not None and nxt.text.lower() in PLURAL_VERBS and not listed:
            votes[m.key]["they"] += 1
        elif nxt is not None and nxt.text.lower() in SINGULAR_VERBS:
            votes[m.key]["single"] += 1
    sexes = _sexes(toks, mentions)
    out: dict[str, str] = {}
    for key, v in votes.items():
        tail = last_name(key)
        # a last name alone is the person of the full name it ends
        kin = [k for k in votes if last_name(k) == tail and (k == key or len(key.split()) == 1)]
        if any(votes[k]["person"] or votes[k]["she"] for k in kin):
            she = sum(votes[k]["she"] + sexes[k]["she"] for k in kin)
            out[key] = "she" if she > sum(sexes[k]["he"] for k in kin) else "he"
        elif v["they"] > v["single"]:
            out[key] = "they"
        else:
            out[key] = "it"
    return out


def _sexes(toks: Sequence[Token], mentions: list[Mention]) -> dict[str, Counter[str]]:
    """Per key, how often he/his/him or she/her follow it before any other name."""
    out: dict[str, Counter[str]] = {m.key: Counter() for m in mentions}
    starts = {m.start: m for m in mentions}
    last: Mention | None = None
    for t in toks:
        m = starts.get(t.start)
        if m is not None:
            last = m
        elif last is not None and t.start >= last.end and t.text.lower() in _POINTERS:
            out[last.key][_POINTERS[t.text.lower()]] += 1
    return out


# a document asks about the same few names again and again (every suspect against every mention before it)
@lru_cache(maxsize=1 << 16)
def same_entity(a: str, b: str) -> bool:
    """Whether two keys name the same entity: equal, or one a person's last name ("tillerson", "rex tillerson").

    >>> same_entity("tillerson", "rex tillerson"), same_entity("russia", "assad"), same_entity("u. s.", "u.s.")
    (True, False, True)
    """
    fa, fb = a.replace(" ", ""), b.replace(" ", "")
    return fa == fb or (last_name(a) == last_name(b) and (len(a.split()) == 1 or len(b.split()) == 1))


@lru_cache(maxsize=1 << 16)
def last_name(key: str) -> str:
    """The part of a key that stands for the whole name: its last word, without a possessive or a prefix.

    >>> last_name("bashar al-assad"), last_name("tillerson’s"), last_name("u. s.")
    ('assad', 'tillerson', 's.')
    """
    word = re.sub(r"[’']s$", "", key.split()[-1])
    return word.rsplit("-", 1)[-1] or word
