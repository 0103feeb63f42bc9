"""Detectors find the damage a person would point at, and leave good text alone."""

from __future__ import annotations

from dataclasses import replace

from repair.stages.detect import condition, detect, duplicate_suspects, paste_suspects
from repair.stages.normalize import Normalized
from repair.stages.settings import default_settings
from repair.stages.signals import UNIT_KINDS, Context, signals, units_of
from repair.stages.witness import Alignment
from repair.text.document import Document
from repair.text.entities import entity_keys, find_mentions, split_pasted
from repair.text.layer import Layer

EMPTY = Alignment((), ())
SETTINGS = default_settings().detect


def spans(text: str, found: list) -> list[str]:  # type: ignore[type-arg]
    return [text[s.start : s.end] for s in found]


def test_duplicated_name_and_article_are_suspects() -> None:
    text = "Washington believes Assad Assad must go, and it was clear the the U.S. had no role."
    found = duplicate_suspects(Document.of(text), EMPTY, None, SETTINGS)
    assert spans(text, found) == ["Assad ", "the "]
    assert all(s.kind == "duplicate" and s.score > 0.6 for s in found)


def test_grammatical_repeat_is_weighed_not_condemned() -> None:
    text = "He said that that was the end, and she had had enough."
    found = duplicate_suspects(Document.of(text), EMPTY, None, SETTINGS)
    assert spans(text, found) == ["that ", "had "]
    assert all(s.score < 0.5 for s in found)


def test_multiword_repeat_is_one_suspect() -> None:
    text = "Officials said the U.S. the U.S. would act."
    found = duplicate_suspects(Document.of(text), EMPTY, None, SETTINGS)
    assert spans(text, found) == ["the U.S. "]


def test_adjacent_names_split_where_both_stand_alone() -> None:
    text = "Assad said so. Syria said no. Assad and Syria met. No role for Assad in Syria Assad future."
    keys = [m.key for m in split_pasted(find_mentions(text), text)]
    assert keys[-2:] == ["syria", "assad"]
    assert "syria" in entity_keys(split_pasted(find_mentions(text), text))


def _paste_priors(text: str) -> dict[int, tuple[str, float]]:
    """The paste suspects of ``text`` without a model or references: start -> (words, prior)."""
    return {s.start: (text[s.start : s.end], s.score) for s in paste_suspects(Document.of(text), EMPTY, None, SETTINGS)}


def test_a_name_where_a_possessive_belongs_is_a_suspect_and_the_speaker_is_not() -> None:
    text = "Russia can maintain Russia alliance with Syria, officials said. Tillerson said so."
    found = _paste_priors(text)
    pasted = text.index("Russia alliance")
    assert found[pasted] == ("Russia", found[pasted][1]) and found[pasted][1] > 0.5
    assert found.get(0, ("", 0.0))[1] < found[pasted][1]  # the subject opening the text
    assert found.get(text.index("Tillerson"), ("", 0.0))[1] < found[pasted][1]


def test_a_suspect_name_takes_its_title_along() -> None:
    """In "Mr Tillerson week's" (was "last week's") the title came with the pasted name: the suspect covers it."""
    text = (
        "Rex Tillerson flew to Moscow. Mr Tillerson said the talks would go on. "
        "He told reporters Mr Tillerson week's attack was a crime, and Dr. Tillerson agreed."
    )
    every = replace(SETTINGS, pastes={k: replace(m, min_prior=0.0) for k, m in SETTINGS.pastes.items()})
    found = {text[s.start : s.end]: s.score for s in paste_suspects(Document.of(text), EMPTY, None, every)}
    assert all(not f.endswith("Tillerson") or f.startswith(("Mr", "Dr", "Rex")) for f in found)
    pasted, opening = text.index("Mr Tillerson week"), text.index("Mr Tillerson said")
    priors = {s.start: s.score for s in paste_suspects(Document.of(text), EMPTY, None, every)}
    assert priors[pasted] > priors[opening]  # the paste mid-sentence, not the title opening a sentence


def test_every_suspect_of_the_paste_detector_says_why_and_a_name_carries_its_mention() -> None:
    text = "Officials said that Russia the deaths were a provocation, and Russia denied it."
    found = paste_suspects(Document.of(text), EMPTY, None, SETTINGS)
    assert found
    for s in found:
        assert s.evidence[0].source == "detector:paste" and "base" in s.evidence[0].detail
        assert s.cause in ("mention", "misfit")
        assert (s.mention is not None) == (s.cause == "mention")


def test_each_condition_has_its_fitted_model() -> None:
    for kind in UNIT_KINDS:
        for lm in (True, False):
            model = SETTINGS.pastes[condition(kind, lm)]
            assert model.weights and 0 < model.min_prior < 0.5
    assert any(name.startswith("nats") for name in SETTINGS.pastes[condition("function", True)].weights)
    assert not any(name.startswith("nats") for name in SETTINGS.pastes[condition("function", False)].weights)


def test_detect_keeps_gap_suspects_from_normalize_and_sorts() -> None:
    from repair.stages.spans import Suspect

    text = "the    countries met the the envoys"
    doc = Normalized(Layer.identity(text), (Suspect(3, 7, "gap", 0.8, "run of spaces", cause="spaces"),))
    kinds = [(s.kind, text[s.start : s.end]) for s in detect(doc, Document.of(text), EMPTY, None, SETTINGS)]
    assert kinds[0] == ("gap", "    ")
    assert ("duplicate", "the ") in kinds


def test_two_function_words_in_a_row_are_told_by_the_classes_around_a_word() -> None:
    document = Document.of("He said the he talks would go on.")
    ctx = Context.of(document, None)
    pasted = next(u for u in units_of(document) if u.first == 3)  # "he" after "the"
    fine = next(u for u in units_of(document) if u.first == 0)  # "He" opening the sentence
    assert signals(pasted, ctx).get("prev=det") == 1.0 and signals(pasted, ctx).get("word class=pron") == 1.0
    assert signals(fine, ctx).get("prev=start") == 1.0
