"""`repair fix` end to end: what a user gets back, with and without references and a model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.edits import apply_edits
from repair.pipeline import repair_text

SEEDS = sorted((Path(__file__).resolve().parent.parent / "examples" / "ap-syria").glob("00*_*.txt"))


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_rejecting_every_edit_gives_the_input_back_byte_for_byte(seed: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    result = repair_text(text, [], None)
    assert apply_edits(text, result.edits) == result.output
    rejected = [replace(e, applied=False) for e in result.edits]
    assert apply_edits(text, rejected) == text


def test_example_without_model_fixes_the_surface(damaged_text: str) -> None:
    result = repair_text(damaged_text, [], None)
    assert "U.S. Secretary of State" in result.output
    assert "doesn’t much matter" in result.output
    assert " , " not in result.output
    assert {e.kind for e in result.edits if e.applied} >= {"tokenization", "stray"}
    for e in result.edits:
        assert damaged_text[e.start : e.end] == e.before
        assert e.evidence, f"edit without evidence: {e}"


def test_a_reference_restores_a_shared_quote_it_covers() -> None:
    damaged = (
        "The mayor of Springfield spoke on Friday . Officials in Springfield said the city council would meet "
        'again next week to discuss the budget . " We will keep Springfield promise to every family in this '
        'town , " the mayor said .'
    )
    ref = (
        'Mayor Quimby addressed reporters. "We will keep our promise to every family in this town," he said, '
        "adding that the council meets next week."
    )
    result = repair_text(damaged, [("ref.txt", ref)], None)
    assert "keep our promise to every family" in result.output
    fix = next(e for e in result.edits if e.after.strip() == "our")
    assert any(ev.source == "ref:ref.txt" for ev in fix.evidence)


def test_fix_command_writes_three_outputs_beside_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import repair.cli as cli

    monkeypatch.setattr(cli, "load_lm", lambda spec: None)
    src = tmp_path / "story.txt"
    src.write_text("The U. S. said it would act , officials said .\n", encoding="utf-8")
    before = src.read_bytes()
    run = CliRunner().invoke(app, ["fix", str(src)])
    assert run.exit_code == 0, run.output
    repaired = (tmp_path / "story.repaired.txt").read_text(encoding="utf-8")
    assert repaired == "The U.S. said it would act, officials said.\n"
    assert (tmp_path / "story.edits.json").exists() and (tmp_path / "story.report.html").exists()
    assert src.read_bytes() == before
    assert "tokenization" in run.output


@pytest.mark.model
def test_model_restores_a_possessive_the_damage_pasted_a_name_over(default_lm: Any) -> None:
    damaged = (
        "The Acme company reported its results on Monday. Acme said profits rose. "
        "The board said Acme would honour Acme obligations to its workers and pay the bonus in June."
    )
    result = repair_text(damaged, [], default_lm)
    assert "honour its obligations" in result.output
    fix = next(e for e in result.edits if e.after.strip() == "its")
    assert fix.kind == "substitution" and fix.applied
    assert any(ev.candidates for ev in fix.evidence)


@pytest.mark.model
def test_model_leaves_a_clean_paragraph_alone(default_lm: Any) -> None:
    clean = (
        "The city council met on Tuesday to discuss the budget. Mayor Ellen Park said the city would hire "
        "more teachers next year. Park said the plan had the support of most council members, and she "
        "expected a vote in March."
    )
    result = repair_text(clean, [], default_lm)
    assert result.output == clean


def test_a_text_with_words_never_comes_out_blank() -> None:
    # found by the chunked-run property test: a paragraph of stray brackets streamed on its own
    result = repair_text("( (", [], None)
    assert result.output == "( ("
    assert result.edits and not any(e.applied for e in result.edits)
    last = repair_text("The talks went on .\n\n( ( (", [], None)
    assert last.output.endswith("\n\n( ( (")
