"""Exports of the edit list: M2 as ERRANT reads it, a well-formed TEI apparatus, and our JSON."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.edits import Edit, Evidence, apply_edits
from repair.files.editlist import dump_edits, load_edits
from repair.views.export import export, to_m2, to_tei

CASES = Path(__file__).parent / "cases" / "export_m2.jsonl"
TEI = "{http://www.tei-c.org/ns/1.0}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def make_edits(text: str, specs: list[dict[str, Any]]) -> list[Edit]:
    out = []
    for s in specs:
        start = text.index(s["at"])
        out.append(
            Edit(start, start + len(s["at"]), s["at"], s["after"], s["kind"], 0.9, applied=s.get("applied", True))
        )
    return out


def load_cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c["label"])
def test_m2_cases(case: dict[str, Any]) -> None:
    assert to_m2(case["input"], make_edits(case["input"], case["edits"])) == case["expected"]


def apply_m2(m2: str) -> list[str]:
    """Apply the A lines of each M2 block to its S tokens, as a scorer would: the corrected tokens."""
    out: list[str] = []
    for block in m2.strip().split("\n\n"):
        lines = block.splitlines()
        tokens = lines[0][2:].split(" ")
        for line in reversed(lines[1:]):  # right to left, so earlier offsets stay valid
            span, kind, correction = line[2:].split("|||")[:3]
            start, end = map(int, span.split())
            if kind != "noop":
                tokens[start:end] = correction.split()
        out.extend(tokens)
    return out


def example_result(example_dir: Path) -> tuple[str, tuple[Edit, ...], list[str]]:
    from repair.pipeline import repair_text

    text = next(example_dir.glob("000_*.txt")).read_text(encoding="utf-8")
    refs = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(example_dir.glob("00[1-9]_*.txt"))]
    result = repair_text(text, refs, None)
    return text, result.edits, [name for name, _ in refs]


def test_m2_of_the_example_turns_the_input_tokens_into_the_output_tokens(example_dir: Path) -> None:
    text, edits, _ = example_result(example_dir)
    m2 = to_m2(text, edits)
    assert all(
        re.fullmatch(r"S .*|A -?\d+ -?\d+\|\|\|[^|]+\|\|\|[^|]*\|\|\|REQUIRED\|\|\|-NONE-\|\|\|0|", x)
        for x in m2.splitlines()
    )
    assert " ".join(line[2:] for line in m2.splitlines() if line.startswith("S ")).split() == text.split()
    assert apply_m2(m2) == apply_edits(text, edits).split()


SOURCE = "He said <b>Assad</b> Assad must go & Russia alliance\x0b held .\n\nA second   paragraph .\n"


def tei_edits() -> list[Edit]:
    def at(before: str, after: str, kind: str, *, applied: bool = True, ev: tuple[Evidence, ...] = ()) -> Edit:
        start = SOURCE.index(before)
        return Edit(start, start + len(before), before, after, kind, 0.8, ev, applied)

    return [
        at("<b>Assad</b> ", "", "duplicate"),
        at("Russia", "its", "substitution", ev=(Evidence("ref:b.txt", "reads its", (3, 6), 0.9),)),
        at("   ", " other ", "gap", applied=False),
        at(" .", ".", "tokenization"),
    ]


def paragraphs(tei: str, *, reading: str) -> list[str]:
    """The text of each paragraph, taking ``lem`` (the output) or the input's reading from each ``app``."""
    root = ET.fromstring(tei)
    out = []
    for p in root.iter(f"{TEI}p"):
        if p.find(f"{TEI}app") is None and root.find(f"{TEI}teiHeader//{TEI}p") is p:
            continue
        parts = [p.text or ""]
        for app_ in p:
            lem, rdg = app_.find(f"{TEI}lem"), app_.find(f"{TEI}rdg")
            assert lem is not None and rdg is not None
            chosen = rdg if reading == "input" and rdg.get("wit") == "#input" else lem
            parts.append((chosen.text or "") + (app_.tail or ""))
        out.append("".join(parts))
    return out


def test_tei_is_well_formed_and_holds_both_readings() -> None:
    edits = tei_edits()
    tei = to_tei(SOURCE, edits, input_name="in.txt", refs=["a.txt", "b.txt"])
    root = ET.fromstring(tei)  # well-formed despite markup, & and a control character in the input
    assert root.tag == f"{TEI}TEI"
    witnesses = {w.get(XML_ID): w.text for w in root.iter(f"{TEI}witness")}
    assert set(witnesses) == {"input", "ref1", "ref2"} and "b.txt" in (witnesses["ref2"] or "")
    expected_out = apply_edits(SOURCE, edits).replace("\x0b", "\ufffd").split("\n\n")
    assert paragraphs(tei, reading="lem") == [p.strip("\n") for p in expected_out]
    assert paragraphs(tei, reading="input") == [p.strip("\n") for p in SOURCE.replace("\x0b", "\ufffd").split("\n\n")]


def test_tei_apparatus_entries() -> None:
    root = ET.fromstring(to_tei(SOURCE, tei_edits(), refs=["a.txt", "b.txt"]))
    apps = list(root.iter(f"{TEI}app"))
    assert [a.get("type") for a in apps] == ["duplicate", "substitution", "tokenization", "gap"]
    subst = apps[1]
    lem = subst.find(f"{TEI}lem")
    assert lem is not None and lem.text == "its" and lem.get("wit") == "#ref2"  # the reference that reads it
    gap = apps[3]
    assert gap.get("subtype") == "not-applied"
    rdg = gap.find(f"{TEI}rdg")
    assert rdg is not None and rdg.get("type") == "suggestion" and rdg.text == " other "


def test_tei_of_the_example_is_well_formed(example_dir: Path) -> None:
    text, edits, refs = example_result(example_dir)
    root = ET.fromstring(to_tei(text, edits, refs=refs))
    assert len(list(root.iter(f"{TEI}witness"))) == len(refs) + 1
    assert len(list(root.iter(f"{TEI}app"))) >= sum(1 for e in edits if e.applied)


def test_json_export_is_the_edit_list() -> None:
    edits = tei_edits()
    meta, back = load_edits(export(SOURCE, edits, "json", input_name="x.txt", refs=["a.txt"]), SOURCE)
    assert back == edits and meta["references"] == ["a.txt"]


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export(SOURCE, [], "docx")


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "story.txt"
    src.write_text(SOURCE, encoding="utf-8")
    listing = tmp_path / "story.edits.json"
    listing.write_text(dump_edits(SOURCE, tei_edits(), input_name=str(src), refs=["a.txt"]), encoding="utf-8")
    return src, listing


def test_export_command_prints_m2(saved: tuple[Path, Path]) -> None:
    src, listing = saved
    result = CliRunner().invoke(app, ["export", str(src), str(listing), "--format", "m2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("S He said <b>Assad</b> Assad must go")
    assert "|||duplicate|||" in result.output


def test_export_command_writes_tei(saved: tuple[Path, Path], tmp_path: Path) -> None:
    src, listing = saved
    out = tmp_path / "story.tei.xml"
    result = CliRunner().invoke(app, ["export", str(src), str(listing), "-f", "tei", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert any(w.text and "a.txt" in w.text for w in root.iter(f"{TEI}witness"))


def test_export_command_refuses_a_bad_format(saved: tuple[Path, Path]) -> None:
    src, listing = saved
    result = CliRunner().invoke(app, ["export", str(src), str(listing), "--format", "docx"])
    assert result.exit_code == 2


def test_fix_writes_the_edit_list_in_the_format_asked(
    tmp_path: Path, example_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import repair.cli as cli

    monkeypatch.setattr(cli, "load_lm", lambda spec: None)  # the format, not the model, is under test
    src = tmp_path / "article.txt"
    src.write_text(next(example_dir.glob("000_*.txt")).read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["fix", str(src), "--format", "tei"])
    assert result.exit_code == 0, result.output
    ET.fromstring((tmp_path / "article.edits.tei.xml").read_text(encoding="utf-8"))
    assert (tmp_path / "article.report.html").exists() and not (tmp_path / "article.edits.json").exists()


def chosen_edits() -> list[Edit]:
    """The substitution decided by a reviewer, who chose its second alternative."""
    edits = tei_edits()
    edits[1] = Edit(
        edits[1].start, edits[1].end, "Russia", "the", "substitution", 0.3, edits[1].evidence, True,
        alternatives=(("its", 0.3), ("the", 0.2)), decision="chosen",
    )  # fmt: skip
    return edits


def test_m2_and_tei_carry_the_alternative_the_reviewer_chose() -> None:
    edits = chosen_edits()
    assert "|||substitution|||the|||" in to_m2(SOURCE, edits)
    subst = list(ET.fromstring(to_tei(SOURCE, edits)).iter(f"{TEI}app"))[1]
    lem = subst.find(f"{TEI}lem")
    assert lem is not None and lem.text == "the" and lem.get("type") == "chosen"
    others = [r.text for r in subst.iter(f"{TEI}rdg") if r.get("type") == "alternative"]
    assert others == ["its"]  # the tool's first choice, left as an alternative


def test_export_json_keeps_the_runs_model_and_threshold(tmp_path: Path) -> None:
    src = tmp_path / "story.txt"
    src.write_text(SOURCE, encoding="utf-8")
    listing = tmp_path / "story.edits.json"
    listing.write_text(
        dump_edits(SOURCE, chosen_edits(), input_name=str(src), model="smol", min_confidence=0.7), encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["export", str(src), str(listing), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["model"] == "smol" and doc["min_confidence"] == 0.7
    subst = doc["edits"][1]
    assert subst["decision"] == "chosen" and subst["alternatives"][1] == {"text": "the", "share": 0.2}
