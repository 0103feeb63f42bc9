"""Normalization repairs the surface a tokenizer and a bad decoder left, and nothing else."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repair.edits import apply_edits, check_edits
from repair.stages.normalize import DEFAULTS, FINAL_RULES, RULES, NormalizeSettings, ftfy_mojibake, normalize

CASES_DIR = Path(__file__).parent / "cases"
CASES = [json.loads(line) for line in (CASES_DIR / "normalize.jsonl").read_text(encoding="utf-8").splitlines() if line]
CLEAN_FILE = (CASES_DIR / "clean_lines.txt").read_text(encoding="utf-8")
CLEAN_LINES = [line for line in CLEAN_FILE.splitlines() if line and not line.startswith("#")]
FOREIGN = [line for line in CLEAN_LINES if not line.isascii() and any(ord(c) > 0x3FF for c in line)]
SURFACE_KINDS = {"tokenization", "mojibake", "whitespace", "stray"}
RULE_NAMES = {f"rule:{r.__name__}" for r in (*RULES, *FINAL_RULES)}


def _case_param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason="known limitation")] if case["expect"] == "fail" else []
    return pytest.param(case, id=case["label"], marks=marks)


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    out = normalize(case["input"])
    assert out.text == case["expected"]
    assert [[s.start, s.end] for s in out.suspects] == case.get("gaps", [])


def test_clean_lines_come_back_unchanged() -> None:
    changed = [(line, normalize(line).text) for line in CLEAN_LINES if normalize(line).edits]
    assert changed == []
    assert not [line for line in CLEAN_LINES if normalize(line).suspects]


def test_clean_file_comes_back_unchanged_byte_for_byte() -> None:
    out = normalize(CLEAN_FILE)
    assert out.edits == ()
    assert out.text == CLEAN_FILE


def test_mojibake_rule_leaves_correct_foreign_text_alone() -> None:
    assert len(FOREIGN) >= 8  # French, German, Russian, Arabic and more
    assert {line: ftfy_mojibake(line, DEFAULTS) for line in FOREIGN} == {line: [] for line in FOREIGN}


def test_mojibake_fixes_stay_local() -> None:
    text = "Le cafÃ© est Ã¼berfÃ¼llt, mais Привет reste.\nNext line stays."
    out = normalize(text)
    assert out.text == "Le café est überfüllt, mais Привет reste.\nNext line stays."
    assert [e.before for e in out.edits] == ["Ã©", "Ã¼", "Ã¼"]
    assert {e.kind for e in out.edits} == {"mojibake"}


def test_reference_mojibake_is_repaired(reference_paths: list[Path]) -> None:
    text = next(p for p in reference_paths if "USÂ" in p.read_text(encoding="utf-8")).read_text(encoding="utf-8")
    out = normalize(text)
    assert "Â" not in out.text
    assert "last week's US missile strikes" in out.text
    assert {e.kind for e in out.edits} == {"mojibake"}


def test_article_000(damaged_text: str) -> None:
    out = normalize(damaged_text)
    kinds = Counter(e.kind for e in out.edits)
    assert kinds["mojibake"] == 0
    assert kinds["stray"] == 2  # the lone "[" and the trailing " Syria" line
    assert kinds["tokenization"] > 100
    for artifact in (" , ", "U. S.", " n’t", " ’s", "( AP )", "[", "\n", ' " '):
        assert artifact not in out.text
    assert not re.search(r"\S [.,:]", out.text)  # only the gap before "." keeps its spaces
    assert out.text.startswith("LUCCA, Italy (AP) — U.S. Secretary of State")
    assert out.text.endswith("after the Islamic State group is vanquished.")
    assert "Assad Assad must" in out.text  # duplicates are the detect stage's business
    around = [(out.text[: s.start].split()[-1], out.text[s.end :].split()[0]) for s in out.suspects]
    assert around == [("durable", "."), ("the", "countries"), ("from", "nations"), ("the", "countries")]
    assert all(s.kind == "gap" and 0.5 < s.score <= 1 for s in out.suspects)


def test_gap_suspects_map_back_to_the_run_of_spaces(damaged_text: str) -> None:
    out = normalize(damaged_text)
    assert out.suspects
    for s in out.suspects:
        bs, be, ds, de = out.layer.to_base(s.start, s.end)
        assert (ds, de) == (s.start, s.end)
        assert damaged_text[bs:be] == out.text[s.start : s.end] == " " * (s.end - s.start)


def _texts(example_dir: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(example_dir.glob("*.txt"))] + [c["input"] for c in CASES]


def test_round_trip(example_dir: Path) -> None:
    for text in _texts(example_dir):
        out = normalize(text)
        assert apply_edits(text, out.edits) == out.text
        assert apply_edits(text, [replace(e, applied=False) for e in out.edits]) == text
        assert out.source == text


def test_every_edit_is_explained(example_dir: Path) -> None:
    for text in _texts(example_dir):
        for e in normalize(text).edits:
            assert e.kind in SURFACE_KINDS
            assert 0.5 <= e.confidence <= 1
            assert e.evidence and {ev.source for ev in e.evidence} <= RULE_NAMES


def test_idempotent(example_dir: Path) -> None:
    for text in _texts(example_dir):
        once = normalize(text)
        twice = normalize(once.text)
        assert twice.edits == ()
        assert twice.suspects == once.suspects


def test_chunking_gives_the_same_result(damaged_text: str) -> None:
    body = damaged_text.rsplit("\n", 1)[0]
    text = "\n\n".join([body, body.replace('"', "“", 1), body]) + "\n Syria "
    whole = normalize(text, NormalizeSettings(chunk_chars=10**9))
    assert normalize(text).edits == whole.edits
    assert normalize(text, NormalizeSettings(chunk_chars=len(body) + 10)).edits == whole.edits
    small = normalize(text, NormalizeSettings(chunk_chars=300))  # cut inside paragraphs at sentence ends
    assert " , " not in small.text
    # a quotation cut in two may be left unjoined, never joined the wrong way
    assert small.text.replace(" ", "") == whole.text.replace(" ", "")
    assert len(small.text) >= len(whole.text)


def test_line_and_paragraph_breaks_are_kept() -> None:
    text = "One , two .\r\n\r\n( AP ) three  \nfour .\r\n"
    assert normalize(text).text == "One, two.\r\n\r\n(AP) three\nfour.\r\n"


MESSY = st.lists(
    st.one_of(
        st.sampled_from([*" \t\r\n.,;:!?\"'’‘“”()[]{}—-Â\xa0snt$%", "  ", " . ", "n’t", "U. S.", "â€™", "Ã©"]),
        st.characters(),
    ),
    max_size=80,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(MESSY)
def test_never_raises_and_edits_are_valid(text: str) -> None:
    out = normalize(text)
    check_edits(text, out.edits)
    assert apply_edits(text, out.edits) == out.text
    for s in out.suspects:
        assert 0 <= s.start < s.end <= len(out.text)
        assert set(out.text[s.start : s.end]) == {" "}
    for e in out.edits:  # line breaks are kept, except with a trailing orphan line
        if "rule:orphan_last_line" not in {ev.source for ev in e.evidence}:
            assert re.findall(r"\r\n?|\n", e.before) == re.findall(r"\r\n?|\n", e.after)


SOUP = [
    "the", "U. S.", "does", "n’t", ",", ".", '"', "(", ")", "[", "]", "’s", "’", "'", "‘", "“", "”", "—", "  ", "   ",
    "\n", "\r\n", "\n\n", "ca", "n't", "Assad", "States", ":", "?", "Â", "can", "not", "$", "5", "%", ". . .", "We",
    "\t", "Syria",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(SOUP), max_size=40).map(" ".join))
def test_idempotent_on_token_soup(text: str) -> None:
    once = normalize(text)
    twice = normalize(once.text)
    assert twice.text == once.text
    assert [(s.start, s.end) for s in twice.suspects] == [(s.start, s.end) for s in once.suspects]


@pytest.mark.xfail(strict=True, reason="quote pairing: bracketed bare single quotes re-pair on a second pass")
def test_idempotent_on_bracketed_single_quotes() -> None:
    # found by test_idempotent_on_token_soup in a random run; the derandomized suite does not draw it
    once = normalize("[ ' ' the ] ’")
    assert normalize(once.text).text == once.text
