"""The edit arithmetic every stage relies on: applying, checking, lifting through layers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repair.edits import Edit, EditError, Evidence, apply_edits, check_edits
from repair.text.layer import Layer, compose


def test_no_edit_gives_the_text_back() -> None:
    assert apply_edits("a  b\r\n", []) == "a  b\r\n"


def test_rejected_edits_are_not_applied() -> None:
    e = Edit(0, 1, "a", "A", "x", 0.2, applied=False)
    assert apply_edits("ab", [e]) == "ab"
    assert apply_edits("ab", [e], only_applied=False) == "Ab"


@pytest.mark.parametrize(
    "edits",
    [
        [Edit(0, 2, "ab", "", "x", 1), Edit(1, 3, "bc", "", "x", 1)],  # overlap
        [Edit(1, 1, "", "x", "x", 1), Edit(1, 1, "", "y", "x", 1)],  # two insertions at one point
        [Edit(0, 1, "z", "", "x", 1)],  # before does not match
        [Edit(2, 9, "c", "", "x", 1)],  # outside
    ],
)
def test_bad_edit_sets_are_refused(edits: list[Edit]) -> None:
    with pytest.raises(EditError):
        check_edits("abc", edits)


def test_json_round_trip() -> None:
    e = Edit(
        3, 9, "Russia", "its", "substitution", 0.8123456, (Evidence("ref:a.txt", "its", (5, 8), 0.9, (("its", -1.0),)),)
    )
    assert Edit.from_json(e.to_json()) == replace(e, confidence=0.8123)


def test_lift_absorbs_the_edits_it_touches() -> None:
    base = "the U. S. said"
    layer = Layer(base, (Edit(4, 9, "U. S.", "U.S.", "tokenization", 0.99),))
    assert layer.text == "the U.S. said"
    # a later edit replacing "U.S. said" (derived) must swallow the tokenization edit
    lifted = layer.lift(Edit(4, 13, "U.S. said", "US saw", "substitution", 0.7))
    assert (lifted.start, lifted.end, lifted.before, lifted.after) == (4, 14, "U. S. said", "US saw")
    assert layer.absorbed_by(4, 13) == layer.edits


@st.composite
def layered(draw: st.DrawFn) -> tuple[str, list[list[Edit]], str]:
    """A base text and passes of random edits, each made on the previous pass's output."""
    base = draw(st.text(alphabet="ab \n", max_size=14))
    text, passes = base, []
    for _ in range(draw(st.integers(0, 3))):
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
        edits, last = [], -1
        for s, e in zip(cuts[::2], cuts[1::2], strict=False):
            if s < last or s == e == last:
                continue
            edits.append(Edit(s, e, text[s:e], draw(st.text(alphabet="xy ", max_size=3)), "k", 0.5))
            last = e
        passes.append(edits)
        text = apply_edits(text, edits)
    return base, passes, text


@settings(max_examples=400, deadline=None)
@given(layered())
def test_compose_equals_applying_pass_after_pass(case: tuple[str, list[list[Edit]], str]) -> None:
    base, passes, expected = case
    composed = compose(base, passes)
    check_edits(base, composed)
    assert apply_edits(base, composed) == expected


@settings(max_examples=300, deadline=None)
@given(layered(), st.data())
def test_lifted_edit_reproduces_the_derived_change(
    case: tuple[str, list[list[Edit]], str], data: st.DataObject
) -> None:
    base, passes, _ = case
    layer = Layer(base, compose(base, passes))
    n = len(layer.text)
    s = data.draw(st.integers(0, n))
    e = data.draw(st.integers(s, n))
    edit = Edit(s, e, layer.text[s:e], data.draw(st.text(alphabet="z", max_size=2)), "k", 0.5)
    lifted = layer.lift(edit)
    kept = [x for x in layer.edits if x not in layer.absorbed_by(s, e)]
    assert apply_edits(base, [*kept, lifted]) == apply_edits(layer.text, [edit])
