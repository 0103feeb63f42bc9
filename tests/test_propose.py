"""Cheap candidates: pronouns agreeing with a pasted name in the slot's form, and the words the story itself offers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from repair.pipeline import align_references as align
from repair.pipeline import make_references, repair_text
from repair.stages.normalize import normalize
from repair.stages.pronouns import PronounSettings, pronouns_for
from repair.stages.propose import ProposeSettings, propose
from repair.stages.spans import Suspect
from repair.stages.story import Story
from repair.text.document import Document


def offered(text: str, name: str, nth: int, *, agreeing: bool = False) -> tuple[str, ...]:
    """The pronouns offered for the ``nth`` occurrence (0-based) of ``name`` (a mention of the document, maybe
    after its title) as detect hands it on; ``agreeing``: only the name's own."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(name, start + 1)
    document = Document.of(text)
    (mention,) = [m for m in document.mentions if m.end == start + len(name)]
    got = pronouns_for(document, start, start + len(name), mention, PronounSettings())
    return tuple(p for p, offset, _ in got if offset == 0.0 or not agreeing)


def test_a_person_gets_his_or_he_never_its() -> None:
    text = "Secretary of State Rex Tillerson spoke. Tillerson said Tillerson plan would work."
    assert offered(text, "Tillerson", 2) == ("his", "he")


def test_a_country_gets_its() -> None:
    text = "Russia backs the regime. Russia can keep Russia alliance with the group."
    assert offered(text, "Russia", 2) == ("its", "it")


def test_the_pasted_names_own_pronouns_come_before_those_of_other_names() -> None:
    text = "Secretary of State Rex Tillerson flew to Rome. Tillerson said Tillerson plan would work."
    assert offered(text, "Tillerson", 2, agreeing=True) == ("his", "he")
    assert offered(text, "Tillerson", 2)[:2] == ("his", "he")  # "its" (Rome) only after, at a lower prior


def test_the_slot_picks_the_form() -> None:
    text = "Secretary Rex Tillerson flew in. The envoys met Tillerson in Rome and Tillerson said no."
    assert offered(text, "Tillerson", 1, agreeing=True) == ("him",)  # after a verb, before a preposition
    assert offered(text, "Tillerson", 2, agreeing=True) == ("he",)  # before "said"


def test_a_group_gets_their() -> None:
    text = "The Russians were angry. The Russians said Russians patience had run out."
    assert offered(text, "Russians", 2) == ("their", "they")


def test_a_pasted_name_with_its_title_gives_way_to_a_pronoun_whole() -> None:
    """A coreference step pastes the mention with its title: "Mr Tillerson" stands where "he" stood, so the
    pronoun replaces the title too ("said Mr he" would be no repair)."""
    text = "Rex Tillerson flew to Moscow on Monday. Officials said Mr Tillerson would meet Mr. Putin there."
    assert offered(text, "Mr Tillerson", 0, agreeing=True) == ("he",)


def test_no_pronoun_stands_in_a_first_mention() -> None:
    text = "The talks ended. Tillerson said the plan would work. Nobody agreed."
    assert offered(text, "Tillerson", 0) == ()


def test_no_pronoun_without_the_name_in_this_or_the_last_sentence() -> None:
    text = "Russia objected. The talks went on for days. Delegates left. The envoy said Russia plan failed."
    assert offered(text, "Russia", 1) == ()


@pytest.mark.model
def test_a_clean_sentence_keeps_its_names(default_lm: Any) -> None:
    clean = (
        "Russia has backed the Syrian government for years. US officials said they had concluded Russia "
        "knew of the attack in advance, and Russia denied it. Iran sent money to help Assad and his allies."
    )
    assert repair_text(clean, [], default_lm).output == clean


class Flat:
    """A model that likes every filler the same and drafts none: what ranks first is what the story offered."""

    name = "flat"

    def score_parts(
        self, left: str, candidates: Sequence[str], right: str, context: Any = None
    ) -> list[tuple[float, float]]:
        return [(0.0, 0.0) for _ in candidates]

    def propose(
        self, left: str, right: str, n_words: int, k: int = 10, context: Any = None
    ) -> list[tuple[str, float]]:
        return []


def story_offers(text: str, span: str, refs: Sequence[str] = ()) -> list[str]:
    doc = normalize(text)
    start = doc.text.index(span)
    alignment = align(doc, make_references([(f"r{i}", r) for i, r in enumerate(refs)]))
    document = Document.of(doc.text)
    suspect = Suspect(start, start + len(span), "substitution", 0.9, "test", cause="misfit")
    (p,) = propose(document, Story.of(document, alignment.refs), [suspect], Flat(), ProposeSettings())  # type: ignore[arg-type]
    return [c.text.strip() for c in p.candidates if c.source == "story"]


def test_a_pasted_over_word_the_story_has_between_the_same_neighbours_is_offered() -> None:
    text = "The talks on the border ended. Officials said Moscow on the border would resume next week."
    assert "talks" in story_offers(text, "Moscow")


def test_an_other_outlets_phrase_of_two_words_is_offered_for_a_one_word_paste() -> None:
    text = "He said the plan would Russia the war quickly."
    ref = "He said the plan would help end the war quickly, officials added."
    assert "help end" in story_offers(text, "Russia", [ref])


def test_the_story_never_offers_the_span_itself_or_words_it_does_not_have() -> None:
    text = "Moscow said Moscow wants peace. Moscow wants talks."
    offered = story_offers(text, "Moscow wants peace")
    assert "Moscow wants peace" not in offered
    assert all(w in text for phrase in offered for w in phrase.split())


def test_the_story_never_offers_a_phrase_that_repeats_the_word_before_the_span() -> None:
    text = "Officials said Russia can keep Moscow alliance with Syria. Moscow wants to keep its alliance with Syria."
    offered = story_offers(text, "Moscow")
    assert "its" in offered
    assert not [phrase for phrase in offered if phrase.split()[0].lower() == "keep"]  # "keep keep its"


def test_the_document_context_detection_read_is_handed_back_with_every_gap(damaged_text: str) -> None:
    """What the model keeps of the document when detection reads it goes to every score and draft of the gaps
    proposed in it, as an argument: nothing is left on the model for proposing to find."""
    from test_invariants import FakeLM

    from repair.lm.base import Reading

    class Kept:
        def __init__(self, text: str) -> None:
            self.text = text

    class Keeping(FakeLM):
        def __init__(self) -> None:
            self.read_texts: list[str] = []
            self.seen: list[object] = []

        def read(self, text: str) -> Reading:
            self.read_texts.append(text)
            return Reading(self.surprisal(text), Kept(text))

        def score_parts(
            self, left: str, candidates: Sequence[str], right: str, context: Any = None
        ) -> list[tuple[float, float]]:
            self.seen.append(context)
            return super().score_parts(left, candidates, right, context)

        def propose(
            self, left: str, right: str, n_words: int, k: int = 10, context: Any = None
        ) -> list[tuple[str, float]]:
            self.seen.append(context)
            return super().propose(left, right, n_words, k, context)

    lm = Keeping()
    repair_text(damaged_text, [], lm)  # type: ignore[arg-type]
    (read,) = lm.read_texts
    assert lm.seen and all(isinstance(c, Kept) and c.text == read for c in lm.seen)
    assert len({id(c) for c in lm.seen}) == 1  # the one read, not one per gap
