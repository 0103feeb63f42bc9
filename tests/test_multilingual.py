"""Text from anywhere: correct non-English text comes through with no edit but whitespace.

Mojibake repair must not "fix" accents, Cyrillic, Arabic, CJK or Greek that are right,
and the tokenization rules must not touch their punctuation. Cases: tests/cases/multilingual.jsonl.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repair.edits import Edit, apply_edits
from repair.pipeline import repair_text
from repair.stages.normalize import normalize

CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "cases" / "multilingual.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
# known failures: label -> why (each becomes a strict xfail, so a fix shows up)
KNOWN: dict[str, str] = {}


def only_whitespace(e: Edit) -> bool:
    """An edit that changes nothing but spacing.

    >>> only_whitespace(Edit(0, 3, "a ,", "a,", "tokenization", 1.0)), only_whitespace(Edit(0, 1, "é", "e", "x", 1.0))
    (True, False)
    """
    return "".join(e.before.split()) == "".join(e.after.split())


def params() -> list[object]:
    return [
        pytest.param(
            c["text"],
            id=f"{c['lang']}-{c['label']}",
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN[c["label"]])] if c["label"] in KNOWN else [],
        )
        for c in CASES
    ]


@pytest.mark.parametrize("text", params())
def test_normalize_keeps_correct_text(text: str) -> None:
    doc = normalize(text)
    assert [e for e in doc.edits if not only_whitespace(e)] == []


@pytest.mark.parametrize("text", params())
def test_repair_keeps_correct_text(text: str) -> None:
    result = repair_text(text, lm=None)
    changed = [e for e in result.edits if e.applied and not only_whitespace(e)]
    assert changed == [], [(e.before, e.after, e.kind) for e in changed]
    assert "".join(result.output.split()) == "".join(text.split())


def test_all_languages_in_one_document() -> None:
    """Side by side, as a multilingual page would have them, with paragraph breaks between."""
    text = "\n\n".join(c["text"] for c in CASES) + "\n"
    result = repair_text(text, lm=None)
    changed = [(e.before, e.after, e.kind) for e in result.edits if e.applied and not only_whitespace(e)]
    assert changed == []
    assert apply_edits(text, result.edits) == result.output
    assert result.output.count("\n\n") == text.count("\n\n")


def test_a_reference_in_the_same_language_changes_nothing() -> None:
    """A reference that repeats the text (another outlet, same wording) is no reason for an edit."""
    texts = [c["text"] for c in CASES]
    for text in texts:
        result = repair_text(text, [("same.txt", text)], lm=None)
        assert [e for e in result.edits if e.applied and not only_whitespace(e)] == [], text
