"""A dropped word leaves a run of spaces: a fill replaces the whole run, and a reference's words come first."""

from __future__ import annotations

from typing import Any

import pytest
from test_invariants import FakeLM

from repair.pipeline import repair_text

# a story of our own, and another outlet's wording of it
DAMAGED = (
    "The ferry to Harwick ran late all week after a storm damaged the pier on Sunday. "
    "Passengers waited every    minutes for a boat that never came, the harbour office said. "
    "Repairs to the pier will    at least a month, and the council has asked    for help to pay for them. "
    "Until then the ferry will stop at the old quay, a short walk from the town square.\n"
)
REFERENCE = (
    "A storm damaged the pier on Sunday, and the ferry to Harwick ran late all week. "
    "Passengers waited every ten minutes for a boat that never came, the harbour office said. "
    "Repairs to the pier will take at least a month, and the council has asked the county for help to pay for them. "
    "Until then the ferry will stop at the old quay, a short walk from the town square.\n"
)


def test_a_filled_gap_replaces_its_run_of_spaces() -> None:
    result = repair_text(DAMAGED, [("other.txt", REFERENCE)], None)
    assert "  " not in result.output, result.output
    assert "every ten minutes" in result.output
    assert "will take at least" in result.output
    assert "asked the county for help" in result.output


@pytest.mark.parametrize("refs", [[], [("other.txt", REFERENCE)]], ids=["model only", "reference"])
def test_every_gap_fill_takes_the_whole_run(refs: list[tuple[str, str]]) -> None:
    result = repair_text(DAMAGED, refs, FakeLM())
    for e in result.edits:
        if e.kind == "gap":
            assert not e.before.strip() and len(e.before) == 4, e  # the whole run, not a point beside it
            # a question keeps the run (it changes nothing); what it offers must fill the run as a fix would
            fills = [text for text, _share in e.alternatives] if e.question else [e.after]
            assert fills, e
            for fill in fills:
                assert fill.startswith(" ") and fill.endswith(" ") and "  " not in fill, e


def test_a_reference_covering_a_gap_gives_its_words() -> None:
    result = repair_text(DAMAGED, [("other.txt", REFERENCE)], None)
    fill = next(e for e in result.edits if e.kind == "gap" and e.start == DAMAGED.index("every ") + 5)
    assert fill.after == " ten " and fill.applied
    assert any(ev.source == "ref:other.txt" for ev in fill.evidence)
    ranked = next(ev for ev in fill.evidence if ev.candidates).candidates
    assert ranked[0][0] == " ten "


def test_without_a_reference_the_gap_is_only_filled_by_the_model() -> None:
    result = repair_text(DAMAGED, [], None)
    assert "every    minutes" in result.output  # no witness and no model: nothing to fill it with


@pytest.mark.model
def test_the_model_takes_the_references_gap_word(default_lm: Any) -> None:
    result = repair_text(DAMAGED, [("other.txt", REFERENCE)], default_lm)
    assert "every ten minutes" in result.output and "will take at least" in result.output
    fills = {e.after.strip() for e in result.edits if e.kind == "gap" and not e.question}
    assert fills <= {"ten", "take", "the county"}
