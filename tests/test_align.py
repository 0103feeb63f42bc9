"""Alignment against clean references: what the references would repair, and what they must leave alone."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from repair.cli import app
from repair.edits import Edit, apply_edits
from repair.pipeline import align_references as align
from repair.stages.align import Reference
from repair.stages.label import DAMAGE, VARIATION, LabelSettings, same_thing
from repair.stages.normalize import Normalized, normalize
from repair.stages.witness import Alignment, ReferenceFix

CASES = [json.loads(line) for line in (Path(__file__).parent / "cases" / "align_cases.jsonl").open(encoding="utf-8")]
BOILERPLATE = (
    "Your support helps us",
    "Join our commenting forum",
    "This story is over 5 years old",
    "Your donation allows us",
    "Comments",
)


def refs_of(*texts: str) -> list[Reference]:
    return [Reference(f"ref{i}.txt", normalize(t)) for i, t in enumerate(texts)]


def repaired(doc: Normalized, fixes: tuple[ReferenceFix, ...]) -> str:
    return apply_edits(
        doc.text, [Edit(f.doc_start, f.doc_end, f.doc_text, f.after, f.kind, f.confidence) for f in fixes]
    )


def fix_pairs(alignment: Alignment) -> list[list[str]]:
    return [[f.doc_text.strip(), f.after.strip()] for f in alignment.fixes]


@pytest.fixture(scope="module")
def example(damaged_text: str, reference_paths: list[Path]) -> tuple[Normalized, list[Reference]]:
    refs = [Reference(p.name, normalize(p.read_text(encoding="utf-8"))) for p in reference_paths]
    return normalize(damaged_text), refs


@pytest.fixture(scope="module")
def example_alignment(example: tuple[Normalized, list[Reference]]) -> Alignment:
    doc, refs = example
    return align(doc, refs)


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_cases(case: dict[str, Any]) -> None:
    doc = normalize(case["doc"])
    alignment = align(doc, refs_of(*case["refs"]))
    assert len(alignment.passages) == case["passages"]
    assert fix_pairs(alignment) == case["fixes"]
    if not case["fixes"]:
        assert all(d.label == VARIATION for p in alignment.passages for d in p.differences)


# ---- the bundled AP example ----


def fix_near(alignment: Alignment, context: str, before: str) -> ReferenceFix:
    """The fix whose input span is ``before`` inside the first occurrence of ``context``."""
    at = alignment.doc_text.index(context)
    for f in alignment.fixes:
        if at <= f.doc_start and f.doc_end <= at + len(context) and f.doc_text.strip() == before:
            return f
    raise AssertionError(f"no fix of {before!r} inside {context!r}")


def test_pasted_entity_in_a_shared_quote_is_restored_by_both_references(example_alignment: Alignment) -> None:
    f = fix_near(example_alignment, "Russia can maintain Russia alliance", "Russia")
    assert f.after == "its"
    assert sorted(n[:3] for n in f.refs) == ["001", "002"]
    assert f.confidence > 0.9


def test_damaged_sentence_reads_as_the_reference_after_its_fixes(example_alignment: Alignment) -> None:
    doc = normalize(example_alignment.doc_text)
    out = repaired(doc, example_alignment.fixes)
    assert "it was clear the U.S. saw no role for Assad in Syria’s future" in out
    assert "we are not presupposing how that occurs" in out
    assert "seriously its obligation" in out


def test_shared_quotes_are_covered(example_alignment: Alignment) -> None:
    text = example_alignment.doc_text
    for quote in (
        "doesn’t much matter to the dead",
        "It is clear to all of us that the reign of the Assad family",
        "We cannot let this happen again",
    ):
        at = text.index(quote)
        assert example_alignment.covering(at, at + len(quote)), quote


def test_spelling_of_the_same_name_is_never_repaired(example_alignment: Alignment) -> None:
    for p in example_alignment.passages:
        for d in p.differences:
            if d.doc_text.strip() and d.ref_text and same_thing(d.doc_text, d.ref_text, LabelSettings()):
                assert d.label == VARIATION, d


def test_no_fix_brings_in_boilerplate(example_alignment: Alignment) -> None:
    doc = normalize(example_alignment.doc_text)
    out = repaired(doc, example_alignment.fixes)
    for phrase in BOILERPLATE:
        assert phrase not in out
    for f in example_alignment.fixes:
        assert len(f.after.split()) <= 4


def test_fix_evidence_points_into_the_raw_reference(example_alignment: Alignment) -> None:
    by_name = {r.name: r for r in example_alignment.refs}
    fixes = example_alignment.fixes
    assert fixes
    for f in fixes:
        for w, ev in zip(f.witnesses, f.evidence(), strict=True):
            raw = by_name[w.name].normalized.source
            assert ev.source == f"ref:{w.name}" and ev.span == (w.ref_raw_start, w.ref_raw_end)
            assert 0 <= w.ref_raw_start <= w.ref_raw_end <= len(raw)
            assert normalize(raw[w.ref_raw_start : w.ref_raw_end]).text.strip() == w.ref_text.strip()


def test_raw_span_survives_normalization_of_the_reference() -> None:
    doc = normalize("The envoy said Russia can maintain Russia alliance with this group for now , he said .")
    raw = "Intro.\n\nThe envoy said  Russia can maintain its alliance with this group for now, he said."
    (f,) = align(doc, [Reference("r.txt", normalize(raw))]).fixes
    assert f.after == "its"
    assert raw[f.witnesses[0].ref_raw_start : f.witnesses[0].ref_raw_end] == "its"


# ---- order, agreement, disagreement ----


def test_reference_order_does_not_matter(example: tuple[Normalized, list[Reference]]) -> None:
    doc, refs = example
    first = align(doc, refs)
    for perm in itertools.islice(itertools.permutations(refs), 1, 24, 5):
        again = align(doc, list(perm))
        assert again == first
        assert again.fixes == first.fixes


QUOTE = "The envoy said Russia can maintain Russia alliance with this group, which does not serve it well."


def test_agreeing_references_raise_confidence_and_disagreeing_lower_it() -> None:
    doc = normalize(QUOTE)
    its = "The envoy said Russia can maintain its alliance with this group, which does not serve it well."
    their = "The envoy said Russia can maintain their alliance with this group, which does not serve it well."
    (one,) = align(doc, refs_of(its)).fixes
    (two,) = align(doc, refs_of(its, its + " More.")).fixes
    named = [Reference("its.txt", normalize(its)), Reference("their.txt", normalize(their))]
    split = align(doc, named).fixes
    assert two.confidence > one.confidence
    assert len(two.witnesses) == 2
    assert len(split) == 1 and split[0].confidence < one.confidence
    assert len(split[0].witnesses) == 1 and len(split[0].dissent) == 1
    # the same winner whichever reference comes first: no flip-flop
    assert align(doc, named[::-1]).fixes == split
    diffs = [d for p in align(doc, named).passages for d in p.differences if d.label == DAMAGE]
    assert all(d.confidence < d.local_confidence for d in diffs)


def test_a_reference_that_reads_as_the_input_outweighs_a_weaker_fix() -> None:
    doc = normalize(QUOTE)
    same = QUOTE
    its = "Said Russia can maintain its alliance with this group."
    assert align(doc, refs_of(same, its)).fixes == ()


def test_longer_exact_context_means_more_confidence() -> None:
    short = normalize("They say Russia can maintain Russia alliance with this group today.")
    long_ = normalize(
        "Everyone in the hall heard him say that Russia can maintain Russia alliance with this group"
        " and its many friends across the region for years."
    )
    (a,) = align(short, refs_of("They say Russia can maintain its alliance with this group today.")).fixes
    (b,) = align(
        long_,
        refs_of(
            "Everyone in the hall heard him say that Russia can maintain its alliance with this group"
            " and its many friends across the region for years."
        ),
    ).fixes
    assert b.confidence > a.confidence


# ---- never raises, offsets always inside the texts ----

_NAMES_AND_FUNCTION_WORDS = 'Russia Assad the U.S. its said can not , . " ’s'
_CONTENT_WORDS = "alliance talks war group Syria future role envoy Moscow Tuesday country people weapons attack"
WORDS = [*_NAMES_AND_FUNCTION_WORDS.split(), "  ", *_CONTENT_WORDS.split()]


@st.composite
def damaged_pairs(draw: st.DrawFn) -> tuple[str, list[str]]:
    rare = st.integers(0, 300).map(lambda i: f"word{i}")  # rare words make anchors
    base = draw(st.lists(st.sampled_from(WORDS) | rare, min_size=0, max_size=60))
    doc = list(base)
    for _ in range(draw(st.integers(0, 6))):
        if not doc:
            break
        i = draw(st.integers(0, len(doc) - 1))
        op = draw(st.sampled_from(["sub", "dup", "drop"]))
        if op == "sub":
            doc[i] = draw(st.sampled_from(WORDS))
        elif op == "dup":
            doc.insert(i, doc[i])
        else:
            doc[i] = "  "
    refs = [" ".join(base), *draw(st.lists(st.text(max_size=80), max_size=2))]
    return " ".join(doc), refs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_pairs())
def test_align_never_raises_and_offsets_lie_inside_the_texts(pair: tuple[str, list[str]]) -> None:
    doc_text, ref_texts = pair
    doc = normalize(doc_text)
    alignment = align(doc, refs_of(*ref_texts))
    for p in alignment.passages:
        ref = alignment.refs[p.ref].normalized
        assert 0 <= p.doc_start <= p.doc_end <= len(doc.text)
        assert 0 <= p.ref_start <= p.ref_end <= len(ref.text)
        assert 0.0 <= p.score <= 1.0
        for d in p.differences:
            assert p.doc_start <= d.doc_start <= d.doc_end <= p.doc_end
            assert p.ref_start <= d.ref_start <= d.ref_end <= p.ref_end
            assert d.doc_text == doc.text[d.doc_start : d.doc_end]
            assert d.ref_text == ref.text[d.ref_start : d.ref_end]
            assert 0 <= d.ref_raw_start <= d.ref_raw_end <= len(ref.source)
            assert 0.0 <= d.confidence <= 1.0 and d.label in (DAMAGE, VARIATION)
    repaired(doc, alignment.fixes)  # fixes never overlap or misquote the input


# ---- the command ----


def test_align_command_prints_table_and_writes_json(tmp_path: Path, example_dir: Path) -> None:
    out = tmp_path / "alignment.json"
    refs = sorted(example_dir.glob("00[1-4]_*.txt"))
    args = ["align", str(next(example_dir.glob("000_*.txt")))]
    for r in refs:
        args += ["--ref", str(r)]
    result = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "damage" in result.stdout and "presupposing" in result.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(data["refs"]) == sorted(map(str, refs))
    assert any(f["after"] == "its" for f in data["fixes"])


def test_align_command_without_references_is_a_user_error(example_dir: Path) -> None:
    result = CliRunner().invoke(app, ["align", str(next(example_dir.glob("000_*.txt")))])
    assert result.exit_code == 2
    assert "--ref" in result.output and "Traceback" not in result.output
