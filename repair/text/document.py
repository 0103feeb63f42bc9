"""What a text is, worked out once: its tokens, its sentences and the mentions of its entities.

The pipeline builds one `Document` of the normalized input and hands it to every stage that reads the
text, so detect and propose no longer each tokenize it, split its sentences and find its names again
(propose did so once per suspect).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from repair.text.entities import Mention, agreement, entity_keys, find_mentions, same_entity, split_pasted
from repair.text.sentences import sentence_spans
from repair.text.tokens import Token, tokenize

# a word as a candidate filler may use it: letters, digits and the marks inside names and numbers ("U.S.", "9.5")
WORD_RE = re.compile(r"[\w’'.\-]+")


@dataclass(frozen=True)
class Document:
    text: str
    tokens: tuple[Token, ...]
    sentences: tuple[tuple[int, int], ...]  # char spans, whitespace between them excluded
    mentions: tuple[Mention, ...]  # names as they stand, a pasted run of two names split in two
    entities: frozenset[str]  # the names the document repeats: what a broken coreference step pastes
    classes: dict[str, str]  # per entity, the pronoun class it takes ("he", "she", "they", "it")
    words: frozenset[str]  # every word the text uses: a filler may bring in no name or number outside these

    @classmethod
    def of(cls, text: str) -> Document:
        """
        >>> d = Document.of("Russia said no. Russia can maintain Russia alliance.")
        >>> len(d.tokens), len(d.sentences), sorted(d.entities), d.classes["russia"]
        (10, 2, ['russia'], 'it')
        """
        tokens = tokenize(text)
        mentions = split_pasted(find_mentions(text, tokens), text)
        return cls(
            text,
            tokens,
            tuple(sentence_spans(text)),
            tuple(mentions),
            frozenset(entity_keys(mentions)),
            agreement(text, mentions, tokens),
            frozenset(WORD_RE.findall(text)),
        )

    @cached_property
    def first_ends(self) -> dict[str, int]:
        """Per name (a mention's key), where its first mention ends: what came before a point, asked per suspect.

        >>> Document.of("Assad met Putin. Assad left.").first_ends
        {'assad': 5, 'putin': 15}
        """
        out: dict[str, int] = {}
        for m in self.mentions:
            out.setdefault(m.key, m.end)
        return out

    @cached_property
    def _entity_ends(self) -> dict[str, int]:
        return {}  # `first_end_of`'s answers, per key

    def first_end_of(self, key: str) -> int:
        """Where the first mention of the entity ``key`` names ends (the name, or the person's last name:
        `same_entity`), or -1: asked per suspect, worked out once per name.

        >>> d = Document.of("Rex Tillerson met Putin. Tillerson left.")
        >>> d.first_end_of("tillerson"), d.first_end_of("putin"), d.first_end_of("assad")
        (13, 23, -1)
        """
        ends = self._entity_ends
        if key not in ends:
            ends[key] = min((end for k, end in self.first_ends.items() if same_entity(k, key)), default=-1)
        return ends[key]
