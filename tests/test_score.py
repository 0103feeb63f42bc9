"""The scorer: a perfect repair scores 1.0, doing nothing scores no recall, degenerate outputs score badly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repair.bench.corrupt import corrupt
from repair.bench.score import Score, Tally, extract_edits, judge_edits, score_texts
from repair.edits import Edit, apply_edits

CLEAN = (
    "U.S. Secretary of State Rex Tillerson said Russia doesn’t want to lose its alliance with Syria, "
    "and the Kremlin said the talks in Moscow would go on. Tillerson said the U.S. saw no role for Assad. "
    "Russia’s foreign minister said the Kremlin had not decided whether Putin would meet Tillerson.\n"
    "The talks in Astana could help, Tillerson added, though the U.S. has doubts about Russia and Iran."
)


@pytest.fixture(scope="module")
def damaged() -> tuple[str, str, tuple[Edit, ...]]:
    d = corrupt(CLEAN, seed=4, rate=3.0)
    return d.damaged, d.clean, d.answers


def content(score: Score) -> Tally:
    return score.overall("correction")


def test_doing_nothing_finds_nothing_and_breaks_nothing(damaged: tuple[str, str, tuple[Edit, ...]]) -> None:
    source, gold, answers = damaged
    s = score_texts(source, gold, source, answers)
    assert content(s).recall == 0.0
    assert s.overall("detection").recall == 0.0
    assert content(s).hyp == 0 and s.false_edits == 0
    assert s.correction["tokenization"].recall == 0.0
    assert s.wer_after == s.wer_before > 0


def test_returning_the_gold_text_scores_perfectly(damaged: tuple[str, str, tuple[Edit, ...]]) -> None:
    source, gold, answers = damaged
    s = score_texts(source, gold, gold, answers)
    for stage in ("detection", "correction"):
        t = s.overall(stage)
        assert (t.precision, t.recall, t.f05) == (1.0, 1.0, 1.0)
    assert s.correction["tokenization"].f05 == 1.0
    assert s.wer_after == 0.0 and s.cer_after == 0.0 and s.false_edits == 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), rate=st.floats(0.5, 4.0))
def test_any_corruption_repaired_exactly_scores_perfectly(seed: int, rate: float) -> None:
    d = corrupt(CLEAN, seed, rate=rate)
    s = score_texts(d.damaged, d.clean, d.clean, d.answers)
    assert content(s).f05 == 1.0
    assert s.correction.get("tokenization", Tally()).f05 == 1.0
    assert s.gold_edits >= len({a.kind for a in d.answers} - {"tokenization"})


def test_an_empty_output_scores_badly(damaged: tuple[str, str, tuple[Edit, ...]]) -> None:
    source, gold, answers = damaged
    s = score_texts(source, gold, "", answers)
    assert content(s).f05 == 0.0
    assert s.overall("detection").precision < 0.3  # it "detects" everything by deleting everything
    assert s.wer_after == 1.0 and s.cer_after == 1.0


def test_a_doubled_output_scores_badly(damaged: tuple[str, str, tuple[Edit, ...]]) -> None:
    source, gold, answers = damaged
    s = score_texts(source, gold, gold + "\n" + gold, answers)
    assert content(s).precision < 0.3  # the right edits are drowned by one huge insertion
    assert content(s).f05 < 0.35
    assert s.wer_after > s.wer_before and s.cer_after > s.cer_before


def test_a_case_change_is_an_error() -> None:
    gold = "Russia said the talks would go on."
    s = score_texts(gold, gold, "russia said the talks would go on.")
    assert s.false_edits == 1 and content(s).precision == 0.0
    damaged = "Russia said Russia talks would go on."
    s = score_texts(damaged, gold, "Russia said The talks would go on.")
    assert content(s).recall == 0.0 and content(s).precision == 0.0
    assert s.overall("detection").recall == 1.0  # the right word was found, just not the right fix


@pytest.mark.parametrize(
    "output",
    [
        "he said Assad must surrender power now.",  # either copy removed with its space
        "he said  Assad must surrender power now.",  # the first copy's letters removed
        "he said Assad  must surrender power now.",  # the second copy's letters removed
    ],
)
def test_removing_either_copy_of_a_duplicate_is_right(output: str) -> None:
    source = "he said Assad Assad must surrender power now."
    gold = "he said Assad must surrender power now."
    s = score_texts(source, gold, output)
    assert content(s).f05 == 1.0
    assert s.overall("detection").f05 == 1.0
    assert s.correction["duplicate"].recall == 1.0
    assert not [e for e in extract_edits(source, output) if e.kind not in ("duplicate", "tokenization")]


def test_the_two_copies_of_a_duplicate_give_one_edit() -> None:
    one = extract_edits("he said Assad Assad must go", "he said Assad must go")
    other = extract_edits("he said Assad Assad must go", "he said  Assad must go")
    assert [e.key for e in one if e.kind != "tokenization"] == [e.key for e in other if e.kind != "tokenization"]
    assert [e.kind for e in one] == ["duplicate"]


def test_tokenization_is_scored_apart_from_content() -> None:
    source = "The U. S. said Russia does n’t agree , and Assad Assad left ."
    gold = "The U.S. said Russia doesn’t agree, and Assad left."
    only_spacing = "The U.S. said Russia doesn’t agree, and Assad Assad left."
    s = score_texts(source, gold, only_spacing)
    assert s.correction["tokenization"].f05 == 1.0
    assert content(s).recall == 0.0 and content(s).precision == 1.0
    edits = extract_edits(source, gold)
    assert sorted(e.kind for e in edits) == ["duplicate"] + ["tokenization"] * 4


def test_kinds_come_from_the_answer_key(damaged: tuple[str, str, tuple[Edit, ...]]) -> None:
    source, gold, answers = damaged
    kinds = {e.kind for e in extract_edits(source, gold, answers)}
    assert kinds <= {a.kind for a in answers}


def test_a_partial_repair_is_credited_for_what_it_fixed(damaged: tuple[str, str, tuple[Edit, ...]]) -> None:
    source, gold, answers = damaged
    content_answers = [a for a in answers if a.kind != "tokenization"]
    half = content_answers[: len(content_answers) // 2]
    s = score_texts(source, gold, apply_edits(source, half), answers)
    assert content(s).precision == 1.0
    assert 0.2 < content(s).recall < 0.8


def test_judging_single_edits_for_calibration() -> None:
    source = "Russia can keep Russia alliance ."
    gold = "Russia can keep its alliance."
    i = source.index("Russia alliance")
    right = Edit(i, i + 6, "Russia", "its", "substitution", 0.9)
    wrong = Edit(i, i + 6, "Russia", "his", "substitution", 0.8, applied=False)
    space = Edit(len(source) - 2, len(source) - 1, " ", "", "tokenization", 0.99)
    assert judge_edits(source, gold, [right, wrong, space]) == [True, False, True]


def test_scores_add_up_and_survive_json(damaged: tuple[str, str, tuple[Edit, ...]]) -> None:
    source, gold, answers = damaged
    a = score_texts(source, gold, gold, answers)
    b = score_texts(source, gold, source, answers)
    total = a + b
    assert content(total).recall == 0.5
    assert Score.from_json(total.to_json()) == total


def test_the_bundled_clean_texts_come_back_clean(example_dir: Path) -> None:
    for path in sorted(example_dir.glob("00[1-9]_*.txt")):
        text = path.read_text(encoding="utf-8")
        s = score_texts(text, text, text)
        assert s.gold_edits == 0 and s.hyp_edits == 0 and s.false_per_1k == 0.0
