"""Candidates of other kinds (issue 24): punctuation and nothing, the story's names, several words, the words of
a reference sentence that tells the same fact; each named as its own source in the evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from repair.pipeline import align_references as align
from repair.pipeline import make_references, repair_text
from repair.stages.normalize import normalize
from repair.stages.propose import ProposeSettings, propose
from repair.stages.spans import Candidate, Suspect
from repair.stages.story import Story
from repair.text.document import Document


class Asked:
    """A model that scores every filler alike and drafts nothing, and writes down the draft lengths asked."""

    name = "asked"

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def score_parts(
        self, left: str, candidates: Sequence[str], right: str, context: Any = None
    ) -> list[tuple[float, float]]:
        return [(0.0, 0.0)] * len(candidates)

    def propose(
        self, left: str, right: str, n_words: int, k: int = 10, context: Any = None
    ) -> list[tuple[str, float]]:
        self.lengths.append(n_words)
        return []


def candidates(text: str, span: str, refs: Sequence[str] = (), lm: Any = None, nth: int = 0) -> list[Candidate]:
    """The candidates proposed for the ``nth`` occurrence of ``span`` as a suspect pasted name."""
    doc = normalize(text)
    start = -1
    for _ in range(nth + 1):
        start = doc.text.index(span, start + 1)
    document = Document.of(doc.text)
    alignment = align(doc, make_references([(f"r{i}", r) for i, r in enumerate(refs)]))
    mention = next((m for m in document.mentions if m.start == start), None)
    cause = "mention" if mention is not None else "misfit"
    suspect = Suspect(start, start + len(span), "substitution", 0.9, "test", cause=cause, mention=mention)
    story = Story.of(document, alignment.refs)
    (p,) = propose(document, story, [suspect], lm or Asked(), ProposeSettings())
    return [*p.candidates]


def put(text: str, span: str, c: Candidate, nth: int = 0) -> str:
    """The text with the candidate in the span's place (the suspect may have taken the space before it in)."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(span, start + 1)
    lead = 1 if text[start - 1] == " " and not c.text.startswith(span) and c.source != "keep" else 0
    return text[: start - lead] + c.text + text[start + len(span) + (1 if c.text.endswith(" ") else 0) :]


def test_a_name_where_a_sentence_broke_gets_punctuation_and_nothing_as_candidates() -> None:
    text = "Harlow spoke after the vote. Senators met after the vote Harlow Harlow said it was fine."
    cands = candidates(text, "Harlow", nth=1)
    by_source = {c.source: c for c in cands}
    marks = [c for c in cands if c.source == "mark"]
    assert {c.text.strip() for c in marks} == {".", ",", "—"}
    full_stop = next(c for c in marks if c.text.strip() == ".")
    assert put(text, "Harlow", full_stop, nth=1).endswith("after the vote. Harlow said it was fine.")
    assert "drop" in by_source
    assert put(text, "Harlow", by_source["drop"], nth=1).endswith("after the vote Harlow said it was fine.")
    assert all(ev.source == "rule:break" for c in marks for ev in c.evidence)


def test_a_full_stop_only_where_the_next_word_can_open_a_sentence() -> None:
    text = "Harlow spoke. The senators met Harlow today and voted."
    marks = {c.text.strip() for c in candidates(text, "Harlow", nth=1) if c.source == "mark"}
    assert "," in marks and "." not in marks


def test_after_a_title_the_story_s_surnames_are_offered_from_the_document_and_its_references() -> None:
    text = "Senator Ann Harlow led the hearing. Mr. Senate said the vote would come soon."
    ref = "Senator Ann Harlow and Representative Joe Dunmore spoke at the hearing in Denver."
    names = [c.text.strip() for c in candidates(text, "Mr. Senate", [ref]) if c.source == "names"]
    assert "Mr. Harlow" in names and "Mr. Dunmore" in names
    assert all(n.split()[-1] in text + ref for n in names)  # never a name that neither has
    cands = candidates(text, "Mr. Senate", [ref])
    assert all(ev.source == "story:names" for c in cands if c.source == "names" for ev in c.evidence)


def test_after_in_the_story_s_places_are_offered_and_no_name_where_none_is_asked_for() -> None:
    text = "Officials in Denver met. The talks in Harlow, officials said, were long. Denver voted."
    places = [c.text.strip() for c in candidates(text, "Harlow") if c.source == "names"]
    assert "Denver" in places
    plain = "The mayor said Denver would vote. Harlow cheered the vote and Denver cheered."
    assert not [c for c in candidates(plain, "Denver", nth=1) if c.source == "names"]


def test_three_word_drafts_only_where_the_grammar_says_words_are_missing() -> None:
    lm = Asked()
    candidates("The inquiry of the Harlow of Justice is over. Harlow said so.", "Harlow", lm=lm)
    assert 3 in lm.lengths
    lm = Asked()
    candidates("The inquiry is over, Harlow said. Then Harlow left the room.", "Harlow", lm=lm, nth=1)
    assert lm.lengths and 3 not in lm.lengths


def test_a_reference_sentence_telling_the_same_fact_offers_its_words() -> None:
    text = "The ministry closed the park on Monday, citing Harlow conservation efforts in the region."
    ref = "On Monday the ministry shut the park, citing Kenya's conservation efforts in the region."
    cands = candidates(text, "Harlow", [ref])
    words = {c.text.strip() for c in cands if c.source == "paraphrase"}
    assert "Kenya's" in words
    assert all(ev.source == "ref-sentence" for c in cands if c.source == "paraphrase" for ev in c.evidence)


def test_without_a_model_no_new_kind_of_candidate_is_applied_on_its_source_s_say_so() -> None:
    text = "The ministry closed the park on Monday, citing Harlow conservation efforts. Harlow said so. Harlow met."
    ref = "On Monday the ministry shut the park, citing Kenya's conservation efforts."
    result = repair_text(text, [("r", ref)], None)
    assert not [e for e in result.edits if e.applied and e.kind == "substitution"]
