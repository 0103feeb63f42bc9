"""Outlets reword: a clean story repaired against another outlet's wording of it comes back unchanged.

tests/cases/reworded/* are short stories of our own (input.txt = gold.txt) with a rewording
each (refs/other.txt): words added ("wind speed", "a small grocery"), synonyms ("about" /
"around"), a name for a title ("Brooks" / "the mayor"), numbers written otherwise.
`repair bench --cases tests/cases/reworded` counts the false edits on them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repair.pipeline import repair_text

CASES = sorted((Path(__file__).parent / "cases" / "reworded").iterdir())


def read(case: Path) -> tuple[str, list[tuple[str, str]]]:
    text = (case / "input.txt").read_text(encoding="utf-8")
    assert text == (case / "gold.txt").read_text(encoding="utf-8")
    return text, [("other.txt", (case / "refs" / "other.txt").read_text(encoding="utf-8"))]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_a_rewording_is_no_reason_to_edit(case: Path) -> None:
    text, refs = read(case)
    result = repair_text(text, refs, None)
    assert [(e.before, e.after) for e in result.edits if e.applied] == []
    assert result.output == text


def test_two_references_agreeing_still_overrule_the_input() -> None:
    text, refs = read(CASES[0])
    second = [("third.txt", refs[0][1].replace("Storm Dara shut", "Storm Dara closed"))]
    result = repair_text(text, refs + second, None)
    assert "second straight day" in result.output  # both read "straight" where the input has nothing


@pytest.mark.model
def test_a_rewording_is_no_reason_to_edit_with_the_model(default_lm: Any) -> None:
    text, refs = read(CASES[0])
    result = repair_text(text, refs, default_lm)
    assert [(e.before, e.after) for e in result.edits if e.applied and e.kind != "tokenization"] == []
