"""Interactive review: scripted key presses accept, reject, skip, undo and quit, saving after every decision."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.edits import Edit, Evidence, apply_edits
from repair.files.editlist import dump_edits
from repair.views.review import ReviewState, run_review, start

SOURCE = "He said Assad Assad must go , and Russia alliance held .\n"


def at(text: str, after: str, kind: str, conf: float, *, applied: bool = True, nth: int = 0) -> Edit:
    start_ = -1
    for _ in range(nth + 1):
        start_ = SOURCE.index(text, start_ + 1)
    return Edit(start_, start_ + len(text), text, after, kind, conf, (Evidence("rule:test", "made up"),), applied)


EDITS = [
    at("Assad ", "", "duplicate", 0.95),  # 0
    at(" ,", ",", "tokenization", 0.9),  # 1
    replace(at("Russia", "its", "substitution", 0.4, applied=False), alternatives=(("its", 0.4), ("the", 0.3))),  # 2
    at(" .", ".", "tokenization", 0.9),  # 3
]


def keys(*pressed: str) -> Iterator[str]:
    yield from pressed
    while True:
        yield "q"


def drive(*pressed: str, edits: list[Edit] = EDITS) -> tuple[ReviewState, list[ReviewState]]:
    saves: list[ReviewState] = []
    it = keys(*pressed)
    final = run_review(start(SOURCE, edits), lambda: next(it), lambda _r: None, saves.append)
    return final, saves


def applied(state: ReviewState) -> list[bool]:
    return [e.applied for e in state.edits]


# (keys pressed, applied flags after, edits decided)
CASES = [
    (("a",), [True, True, False, True], 1),
    (("r",), [False, True, False, True], 1),
    (("s", "s", "a"), [True, True, True, True], 3),
    (("r", "r", "r", "r"), [False, False, False, False], 4),
    (("r", "u"), [True, True, False, True], 0),
    (("r", "r", "u", "a"), [False, True, False, True], 2),
    (("u",), [True, True, False, True], 0),  # nothing to undo: no change
    (("x", "?", "r"), [False, True, False, True], 1),  # unknown keys are asked again
]


@pytest.mark.parametrize(("pressed", "flags", "decided"), CASES)
def test_keys_change_applied_flags(pressed: tuple[str, ...], flags: list[bool], decided: int) -> None:
    final, _ = drive(*pressed)
    assert applied(final) == flags
    assert len(final.history) == decided


def test_every_decision_is_saved_and_the_last_save_is_the_final_state() -> None:
    final, saves = drive("r", "s", "a", "u", "q")
    assert len(saves) == 4  # reject, skip (the place is kept), accept, undo; quit changes nothing
    assert saves[-1].edits == final.edits
    assert applied(saves[0]) == [False, True, False, True]


def test_accepting_an_unapplied_edit_unapplies_the_applied_ones_it_overlaps() -> None:
    wide = at("Russia alliance", "its alliance", "substitution", 0.3, applied=False)
    narrow = at("Russia", "Russia's", "substitution", 0.8)
    final, _ = drive("s", "a", edits=[narrow, wide])  # narrow comes first: skip it, accept wide
    by_after = {e.after: e.applied for e in final.edits}
    assert by_after == {"its alliance": True, "Russia's": False}
    assert apply_edits(SOURCE, final.edits) == SOURCE.replace("Russia alliance", "its alliance")


def test_quitting_stops_at_once() -> None:
    final, saves = drive("r", "q", "a", "a")
    assert final.quit and final.index == 1 and len(saves) == 1


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "story.txt"
    src.write_text(SOURCE, encoding="utf-8")
    listing = tmp_path / "story.edits.json"
    listing.write_text(dump_edits(SOURCE, EDITS, input_name=str(src), refs=["other.txt"]), encoding="utf-8")
    return src, listing


def test_review_command_writes_text_and_edit_list_as_decided(files: tuple[Path, Path], tmp_path: Path) -> None:
    src, listing = files
    out, out_edits = tmp_path / "out.txt", tmp_path / "out.edits.json"
    args = ["review", str(src), str(listing), "--out", str(out), "--edits-out", str(out_edits)]
    result = CliRunner().invoke(app, args, input="a\nr\nu\nr\nq\n")
    assert result.exit_code == 0, result.output
    assert "Assad" in result.output and "rule:test" in result.output  # the edit in context, with its evidence
    saved = json.loads(out_edits.read_text(encoding="utf-8"))
    assert [e["applied"] for e in saved["edits"]] == [True, False, False, True]
    assert saved["references"] == ["other.txt"]
    assert out.read_text(encoding="utf-8") == "He said Assad must go , and Russia alliance held.\n"
    assert src.read_text(encoding="utf-8") == SOURCE  # the input is never touched


def test_review_command_quitting_half_way_keeps_the_decisions(files: tuple[Path, Path], tmp_path: Path) -> None:
    src, listing = files
    result = CliRunner().invoke(app, ["review", str(src), str(listing)], input="r\n")  # then the input ends
    assert result.exit_code == 0, result.output
    text = (tmp_path / "story.reviewed.txt").read_text(encoding="utf-8")
    assert text.startswith("He said Assad Assad must go, and")
    assert "reviewed 1 of 4" in result.output


def test_review_command_can_ask_about_one_kind(files: tuple[Path, Path], tmp_path: Path) -> None:
    src, listing = files
    result = CliRunner().invoke(app, ["review", str(src), str(listing), "--kind", "substitution"], input="a\n")
    assert result.exit_code == 0, result.output
    assert "edit 1 of 1" in result.output
    assert "and its alliance held" in (tmp_path / "story.reviewed.txt").read_text(encoding="utf-8")


def test_review_command_refuses_a_mismatched_edit_list(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, listing = files
    other = tmp_path / "other.txt"
    other.write_text("Not the same story.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["review", str(other), str(listing)], input="a\n")
    assert result.exit_code == 2
    assert "different input" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "other.reviewed.txt").exists()


def test_a_digit_chooses_that_alternative_and_the_json_says_the_reviewer_chose(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    src, listing = files
    result = CliRunner().invoke(app, ["review", str(src), str(listing), "-k", "substitution"], input="2\n")
    assert result.exit_code == 0, result.output
    assert "1 'its' 0.40" in result.output and "2 'the' 0.30" in result.output  # the alternatives, ranked
    assert "and the alliance held" in (tmp_path / "story.reviewed.txt").read_text(encoding="utf-8")
    saved = json.loads((tmp_path / "story.reviewed.edits.json").read_text(encoding="utf-8"))
    assert [e["decision"] for e in saved["edits"]] == ["applied", "applied", "chosen", "applied"]


def test_typing_a_replacement_uses_it(files: tuple[Path, Path], tmp_path: Path) -> None:
    src, listing = files
    result = CliRunner().invoke(app, ["review", str(src), str(listing), "-k", "substitution"], input="t\nour\n")
    assert result.exit_code == 0, result.output
    assert "and our alliance held" in (tmp_path / "story.reviewed.txt").read_text(encoding="utf-8")


def test_a_rerun_goes_on_where_the_review_stopped_and_restart_starts_over(files: tuple[Path, Path]) -> None:
    src, listing = files
    first = CliRunner().invoke(app, ["review", str(src), str(listing)], input="r\ns\n")
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, ["review", str(src), str(listing)], input="q\n")
    assert "edit 3 of 4" in again.output and "going on from edit 3" in again.output
    fresh = CliRunner().invoke(app, ["review", str(src), str(listing), "--restart"], input="q\n")
    assert "edit 1 of 4" in fresh.output


def test_a_decisions_file_is_applied_without_asking(files: tuple[Path, Path], tmp_path: Path) -> None:
    src, listing = files
    made = {
        "format": "repair-decisions",
        "version": 1,
        "input_sha256": json.loads(listing.read_text(encoding="utf-8"))["input_sha256"],
        "decisions": [
            {
                "start": EDITS[0].start,
                "end": EDITS[0].end,
                "before": "Assad ",
                "kind": "duplicate",
                "decision": "rejected",
            },
            {
                "start": EDITS[2].start,
                "end": EDITS[2].end,
                "before": "Russia",
                "kind": "substitution",
                "decision": "chosen",
                "after": "the",
            },
        ],
    }
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps(made), encoding="utf-8")
    result = CliRunner().invoke(app, ["review", str(src), str(listing), "--apply", str(path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "story.reviewed.txt").read_text(encoding="utf-8")
    assert text == "He said Assad Assad must go, and the alliance held.\n"


def test_a_decisions_file_for_another_text_is_refused(files: tuple[Path, Path], tmp_path: Path) -> None:
    src, listing = files
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps({"format": "repair-decisions", "version": 1, "input_sha256": "0" * 64, "decisions": []}))
    result = CliRunner().invoke(app, ["review", str(src), str(listing), "--apply", str(path)])
    assert result.exit_code == 2 and "different input" in result.output and "Traceback" not in result.output


def test_a_question_is_asked_with_its_candidates() -> None:
    q = Edit(8, 13, "Assad", "Assad", "substitution", 0.3, applied=False, alternatives=(("he", 0.3),))
    shown: list[str] = []
    it = keys("a", "1")  # accepting a question is refused: it proposes nothing
    final = run_review(
        start(SOURCE, [q]), lambda: next(it), lambda r: shown.append(str(getattr(r, "plain", ""))), lambda _s: None
    )
    assert any("a question proposes no change" in line for line in shown)
    assert final.edits[0].after == "he" and final.edits[0].decided_by == "chosen"
