"""Pronoun candidates for a pasted name: only pronouns that agree with it, in the slot's form, after an antecedent."""

from __future__ import annotations

from typing import Any

import pytest

from repair.pipeline import repair_text
from repair.stages.propose import _names, pronouns_for
from repair.text.sentences import sentence_spans


def offered(text: str, name: str, nth: int, *, agreeing: bool = False) -> tuple[str, ...]:
    """The pronouns offered for the ``nth`` occurrence (0-based) of ``name``; ``agreeing``: only the name's own."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(name, start + 1)
    got = pronouns_for(text, start, start + len(name), _names(text), sentence_spans(text))
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
