"""Detectors find the damage a person would point at, and leave good text alone."""

from __future__ import annotations

from repair.stages.detect import detect, duplicate_suspects, mention_suspects
from repair.stages.normalize import Normalized
from repair.stages.settings import default_settings
from repair.stages.witness import Alignment
from repair.text.document import Document
from repair.text.entities import entity_keys, find_mentions, split_pasted
from repair.text.layer import Layer
from repair.text.tokens import tokenize

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


def test_pasted_name_after_possessive_outranks_a_subject_name() -> None:
    text = (
        "Tillerson spoke to Russia. Tillerson said Russia must act. "
        "The strikes refocused the world’s Assad on the war. Assad denied it."
    )
    found: dict[str, float] = {}
    for s in mention_suspects(Document.of(text), EMPTY, None, SETTINGS):
        found[text[s.start : s.end]] = max(found.get(text[s.start : s.end], 0.0), s.score)
    assert found["Assad"] > found.get("Tillerson", 0.0)


def test_a_suspect_name_takes_its_title_along() -> None:
    """In "Mr Tillerson week's" (was "last week's") the title came with the pasted name: the suspect covers it."""
    text = (
        "Rex Tillerson flew to Moscow. Mr Tillerson said the talks would go on. "
        "He told reporters Mr Tillerson week's attack was a crime, and Dr. Tillerson agreed."
    )
    found = spans(text, mention_suspects(Document.of(text), EMPTY, None, SETTINGS))
    assert "Mr Tillerson" in found
    assert all(not f.endswith("Tillerson") or f.startswith(("Mr", "Dr", "Rex")) for f in found)


def test_detect_keeps_gap_suspects_from_normalize_and_sorts() -> None:
    from repair.stages.spans import Suspect

    text = "the    countries met the the envoys"
    doc = Normalized(Layer.identity(text), (Suspect(3, 7, "gap", 0.8, "run of spaces", cause="spaces"),))
    kinds = [(s.kind, text[s.start : s.end]) for s in detect(doc, Document.of(text), EMPTY, None, SETTINGS)]
    assert kinds[0] == ("gap", "    ")
    assert ("duplicate", "the ") in kinds


def _mention_priors(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for s in mention_suspects(Document.of(text), EMPTY, None, SETTINGS):
        found[text[s.start : s.end]] = max(found.get(text[s.start : s.end], 0.0), s.score)
    return found


def test_a_name_before_an_article_is_flagged_and_a_speaking_subject_is_not() -> None:
    text = (
        "Assad said the talks would go on. Russia said the strikes broke the law. "
        "The officials said that Russia the deaths were a provocation. Assad said so again."
    )
    found = _mention_priors(text)
    assert found.get("Russia", 0.0) >= 0.5  # "Russia the deaths": a name where a verb belongs
    assert found.get("Assad", 0.0) < found["Russia"]


def test_the_before_a_name_the_document_writes_bare_is_a_sign_of_paste() -> None:
    text = (
        "Assad met envoys. Assad spoke. Critics of Assad met. The world watched Assad closely. "
        "The crowd on the world the Assad cheered."
    )
    found = _mention_priors(text)
    assert found.get("the Assad", 0.0) > found.get("Assad", 0.0)


def test_two_function_words_in_a_row_are_a_sign_a_word_was_pasted() -> None:
    from repair.stages.detect import function_word_features

    text = "He said the he talks would go on."
    toks = tokenize(text)
    flat = [0.0] * len(toks)
    pasted = function_word_features(toks, 3, flat, SETTINGS)  # "he" after "the"
    fine = function_word_features(toks, 0, flat, SETTINGS)  # "He" opening the sentence
    assert pasted.get("after a pronoun or determiner") == 1.0
    assert not fine.get("after a pronoun or determiner")
