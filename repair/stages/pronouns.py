"""The pronouns that could have stood where a name was pasted: a broken coreference step pastes the name a pronoun
pointed to, so "Russia can keep Russia alliance" was "Russia can keep its alliance"."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from operator import attrgetter

from repair.text.document import Document
from repair.text.english import CLAUSE_OPENERS, NOT_NOUNS, SUBJECT_VERBS
from repair.text.entities import PRONOUN_FORMS, Mention, same_entity
from repair.text.sentences import sentence_at
from repair.text.tokens import TOKEN_RE, WORD_RE


@dataclass(frozen=True)
class PronounSettings:
    """How pronouns are offered for a pasted name."""

    # log-prior of a pronoun that agrees with another name nearby, not with the pasted one, against one that does:
    # a coreference step pastes the name its pronoun meant, but other pipelines paste any name
    other_antecedent_nats: float = -1.0
    slot_chars: int = 60  # characters either side of the name read for the words that decide its slot


_START, _END = attrgetter("start"), attrgetter("end")


def pronoun_class(document: Document, key: str) -> str:
    """The pronoun class of a name (`repair.text.entities.agreement`), through a name it is another form of
    ("tillerson": "rex tillerson")."""
    classes = document.classes
    return classes.get(key) or next((c for n, c in classes.items() if same_entity(n, key)), "it")


def pronouns_for(
    document: Document, start: int, end: int, mention: Mention, settings: PronounSettings
) -> tuple[tuple[str, float, str], ...]:
    """The pronouns that could have stood where ``mention`` (with its title: ``text[start:end]``) was pasted:
    (pronoun, log-prior offset, why).

    A pronoun takes the form the slot wants and needs an antecedent it agrees with (he, she,
    they, it) in its sentence or the one before. A coreference step pastes the very name a
    pronoun pointed to, so the pasted name's own pronouns come first; those of the other names
    there follow at a lower prior, as does a subject or object "it" that points at no name
    ("made it clear"). A text's first mention of a name is never a paste.
    """
    key, spans, mentions = mention.key, document.sentences, document.mentions
    if not 0 <= document.first_end_of(key) <= start:
        return ()
    # mentions do not overlap and come in order, so those ending by ``start`` are the first ``ended``
    ended = bisect_right(mentions, start, key=_END)
    k = sentence_at(spans, start)
    window = spans[k - 1][0] if k > 0 else 0
    first = bisect_left(mentions, window, 0, ended, key=_START)
    before = [m for m in mentions[first:ended] if m.key in document.entities]
    slots = pronoun_slots(document.text, start, end, settings.slot_chars)
    found: dict[str, tuple[float, str]] = {}
    for m in [m for m in before if same_entity(m.key, key)] + before[::-1]:
        offset = 0.0 if same_entity(m.key, key) else settings.other_antecedent_nats
        for slot in slots:
            for p in PRONOUN_FORMS[pronoun_class(document, m.key)][slot]:
                found.setdefault(p, (offset, f"“{p}” agrees with “{m.text}” before it"))
    if "possessive" not in slots:  # before a noun "it" would be "its", which needs a thing to point at
        found.setdefault("it", (settings.other_antecedent_nats, "“it” needs no antecedent"))
    return tuple((p, o, why) for p, (o, why) in found.items())


def pronoun_slots(text: str, start: int, end: int, chars: int) -> tuple[str, ...]:
    """The pronoun forms that fit between the words around ``text[start:end]`` (read ``chars`` either side):
    possessive, subject, object.

    >>> t = "Russia can keep Russia alliance. Russia said Russia had won. They met Russia in Rome."
    >>> pronoun_slots(t, 16, 22, 60), pronoun_slots(t, 45, 51, 60), pronoun_slots(t, 70, 76, 60)
    (('possessive', 'subject'), ('subject',), ('object',))
    """
    prev = "."  # the last token before, the first after, as `tokenize` cuts the text read
    for m in TOKEN_RE.finditer(text[max(0, start - chars) : start]):
        prev = m.group()
    prev = prev.lower()
    after = TOKEN_RE.search(text[end : end + chars])
    nxt = after.group() if after else ""
    word = nxt.lower() if WORD_RE.match(nxt) else ""
    if word in SUBJECT_VERBS or (word.endswith("ed") and word not in NOT_NOUNS):
        return ("subject",)
    if word and word not in NOT_NOUNS and nxt[0].islower():
        return ("possessive", "subject")  # "its alliance", "it wants"
    return ("subject", "object") if prev in CLAUSE_OPENERS else ("object",)
