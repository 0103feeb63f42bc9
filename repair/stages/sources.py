"""Candidates of other kinds than the model's drafts: what a pasted name may have overwritten besides words.

A coreference step pastes a name over whatever stood there: a full stop or a comma where a
sentence or clause broke ("after the vote Harlow Harlow said"), nothing at all (an added
word), another name ("Mr. Senate said"), or the words another outlet still has ("citing
Harlow's conservation efforts" where another copy reads "citing Kenya's conservation
efforts"). Each function here offers one such kind for a suspect; the model ranks them with
the rest, and nothing is applied on a source's say-so alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from repair.text.document import Document
from repair.text.english import FUNCTION_WORDS, HONORIFICS, TITLES
from repair.text.tokens import Token

# the marks a clause or sentence break may have been, each offered where a name stands at a break: the common
# ones in news (a semicolon or colon more would cost a scoring of the sentence's rest at every name for little)
BREAKS: tuple[str, ...] = (".", ",", "—")
PLACE_PREPOSITIONS = frozenset({"in", "at", "from", "to", "near"})
WORD_RE = re.compile(r"\w[\w’'\-]*")
POSSESSIVE_RE = re.compile(r"[’']s$")
# the last words of names of institutions, not persons ("Justice Department", "Senate Foreign Relations Committee")
INSTITUTIONS = frozenset(
    """house senate department committee party court office council university state states times news post union
    agency bank company inc corp group administration congress commission bureau board service association
    foundation institute center centre ministry army navy force forces police church school hospital""".split()
)


@dataclass(frozen=True)
class SourcesSettings:
    """How many candidates of the other kinds are offered, and when a reference sentence tells the same fact."""

    most_names: int = 3  # story names offered per site, the most frequent first
    min_sentence_match: float = 45.0  # rapidfuzz token-set ratio for a reference sentence to tell the same fact
    most_paraphrase: int = 8  # words or pairs of words offered from the matching reference sentence


def break_marks(toks: Sequence[Token], first: int, last: int) -> tuple[str, ...]:
    """The punctuation a name at tokens ``first..last`` may have overwritten: where words run on either side.

    A full stop only where the next word could open a sentence (a capital, a quote mark, a digit).

    >>> from repair.text.tokens import tokenize
    >>> toks = tokenize("after the vote Harlow Harlow said")
    >>> break_marks(toks, 3, 3)
    ('.', ',', '—')
    >>> break_marks(tokenize("the vote Harlow said"), 2, 2)
    (',', '—')
    >>> break_marks(tokenize("the big Harlow"), 2, 2)
    ()
    """
    if first == 0 or last + 1 >= len(toks):
        return ()
    before, after = toks[first - 1], toks[last + 1]
    if not before.is_word or not (after.is_word or after.text in '“"‘('):
        return ()
    opens = after.text[:1].isupper() or after.text[:1].isdigit() or not after.is_word
    return tuple(b for b in BREAKS if b != "." or opens)


@dataclass(frozen=True)
class StoryNames:
    """The names the document and its references use, by kind, with how often."""

    surnames: tuple[str, ...]  # last words of persons' names, most frequent first
    places: tuple[str, ...]  # names of places and organisations as written, most frequent first

    @classmethod
    def of(cls, documents: Sequence[Document]) -> StoryNames:
        persons: Counter[str] = Counter()
        places: Counter[str] = Counter()
        for d in documents:
            for m in d.mentions:
                words = m.text.split()
                last = POSSESSIVE_RE.sub("", words[-1])
                if d.classes.get(m.key, "it") in ("he", "she") or _looks_like_a_person(words):
                    if last.lower() not in TITLES and last[:1].isupper():
                        persons[last] += 1
                elif not POSSESSIVE_RE.search(m.text):
                    places[m.text] += 1
        return cls(_by_count(persons), _by_count(places))


def _looks_like_a_person(words: Sequence[str]) -> bool:
    """A name of two or more capitalized words, not led by "the" and not ending in an institution's word.

    >>> _looks_like_a_person("Representative Joe Dunmore".split()), _looks_like_a_person("the Senate".split())
    (True, False)
    >>> _looks_like_a_person("Justice Department".split())
    False
    """
    return (
        len(words) >= 2
        and words[0].lower() != "the"
        and all(w[:1].isupper() for w in words)
        and POSSESSIVE_RE.sub("", words[-1]).lower() not in INSTITUTIONS
    )


def _by_count(counts: Counter[str]) -> tuple[str, ...]:
    return tuple(w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def names_for(toks: Sequence[Token], first: int, last: int, names: StoryNames, text: str, most: int) -> list[str]:
    """The story's names that could stand at tokens ``first..last``: a surname after a title ("Mr. Harlow",
    the title kept), a place after "in" or "at"; none where the context asks for no name.

    >>> from repair.text.tokens import tokenize
    >>> n = StoryNames(("Harlow", "Dunmore"), ("Kenya", "the Senate"))
    >>> t = "Mr. Senate said it was done in Harlow, officials said"
    >>> names_for(tokenize(t), 0, 2, n, t, 6), names_for(tokenize(t), 8, 8, n, t, 6)
    (['Mr. Harlow', 'Mr. Dunmore'], ['Kenya', 'the Senate'])
    """
    head = toks[first].text.lower().rstrip(".")
    title = ""
    if head in HONORIFICS and first < last:
        k = first + 1 + (toks[first + 1].text == ".")
        title = text[toks[first].start : toks[k].start]
        pool = names.surnames
    elif first > 0 and toks[first - 1].text.lower().rstrip(".") in TITLES:
        pool = names.surnames
    elif first > 0 and toks[first - 1].text.lower() in PLACE_PREPOSITIONS:
        pool = names.places
    elif first > 0 and toks[first - 1].text[:1].isupper() and toks[first - 1].is_word and first > 1:
        pool = names.surnames  # a first name before: "Ann Senate said"
    else:
        return []
    current = " ".join(t.text for t in toks[first : last + 1]).lower()
    out = [title + n for n in pool if (title + n).lower() != current and n.lower() not in current]
    return out[:most]


@dataclass(frozen=True)
class Paraphrases:
    """Per sentence of the document, the reference sentence that tells the same fact best, if one does."""

    sentences: tuple[tuple[int, int], ...]  # the document's sentence spans
    matches: tuple[str, ...]  # the matching reference sentence per document sentence ("" for none)

    @classmethod
    def of(cls, document: Document, references: Sequence[Document], min_match: float) -> Paraphrases:
        text, spans = document.text, document.sentences
        pool = [r.text[s:e] for r in references for s, e in r.sentences]
        matches = []
        for s, e in spans:
            sent = text[s:e]
            best, score = "", 0.0
            for cand in pool:
                r = fuzz.token_set_ratio(sent, cand)
                if r > score:
                    best, score = cand, r
            matches.append(best if score >= min_match else "")
        return cls(spans, tuple(matches))

    def words_for(self, text: str, start: int, end: int, most: int) -> list[str]:
        """Words and pairs of words of the matching reference sentence that the damaged sentence lacks,
        those standing nearest the span's place in its sentence first."""
        k = next((i for i, (s, e) in enumerate(self.sentences) if s <= start < e or s <= start <= e), None)
        if k is None or not self.matches[k]:
            return []
        s, e = self.sentences[k]
        have = {w.lower() for w in WORD_RE.findall(text[s:e])}
        ref = self.matches[k]
        words = [(m.start(), m.group()) for m in WORD_RE.finditer(ref)]
        where = (start - s) / max(1, e - s)
        found: list[tuple[float, str]] = []
        for i, (pos, w) in enumerate(words):
            if w.lower() in have or w.lower() in FUNCTION_WORDS:
                continue
            rel = abs(pos / max(1, len(ref)) - where)
            found.append((rel, w))
            if i > 0 and words[i - 1][1].lower() not in have:
                found.append((rel + 0.01, f"{words[i - 1][1]} {w}"))
        seen: set[str] = set()
        out = []
        for _, phrase in sorted(found):
            if phrase.lower() not in seen:
                seen.add(phrase.lower())
                out.append(phrase)
        return out[:most]
