"""`decide`: calibrated confidence, the threshold on it, and the raw share kept for the reviewer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from repair.edits import apply_edits
from repair.pipeline import repair_text
from repair.stages.calibrate import ALL, EVIDENCE_SOURCE, CalibrationMap, Curve, features
from repair.stages.decide import DecideSettings, decide
from repair.stages.normalize import normalize
from repair.stages.settings import default_settings
from repair.stages.spans import Candidate, Proposal, Suspect

TEXT = "Tillerson said Russia can keep Russia alliance with Syria , he said ."


def pasted_name() -> tuple[str, Proposal]:
    """The second "Russia " pasted over "its ", with the model's fix far ahead of the original."""
    doc = normalize(TEXT)
    i = doc.text.index("Russia alliance")
    s = Suspect(i, i + 7, "substitution", 0.8, "a name where a pronoun goes", cause="mention")
    cands = (Candidate("its ", "lm", -10.0), Candidate("Russia ", "keep", -14.0), Candidate("his ", "lm", -15.0))
    return doc.text, Proposal(s, cands)


def flat(value: float) -> CalibrationMap:
    """A map giving every edit the same calibrated confidence."""
    return CalibrationMap({ALL: Curve((0.0, 1.0), (value, value), 100)})


def test_an_edit_calibrated_below_the_threshold_is_listed_but_not_applied() -> None:
    text, p = pasted_name()
    doc = normalize(TEXT)
    sure = [e for e in decide(doc, [p], 0.7, CalibrationMap(), DecideSettings()) if e.kind == "substitution"]
    assert [(e.after, e.applied) for e in sure] == [("its ", True)]
    assert sure[0].confidence > 0.95  # the raw share among candidates
    weak = [e for e in decide(doc, [p], 0.7, flat(0.4), DecideSettings()) if e.kind == "substitution"]
    assert [(e.after, e.applied, e.confidence) for e in weak] == [("its ", False, 0.4)]
    assert "Russia alliance" in apply_edits(text, decide(doc, [p], 0.7, flat(0.4), DecideSettings()))


def test_the_evidence_keeps_the_raw_share_and_names_the_group() -> None:
    _, p = pasted_name()
    (edit,) = [e for e in decide(normalize(TEXT), [p], 0.7, flat(0.4), DecideSettings()) if e.kind == "substitution"]
    note = next(ev for ev in edit.evidence if ev.source == EVIDENCE_SOURCE)
    assert note.score is not None and note.score > 0.95
    assert "right 40% of the time" in note.detail
    f = features(edit)
    assert (f.kind, f.source, f.raw) == ("substitution", "model", note.score)
    assert f.margin == pytest.approx(4.0)


def test_rule_edits_are_calibrated_by_their_kind() -> None:
    doc = normalize(TEXT)
    by_kind = CalibrationMap({"tokenization": Curve((0.5,), (0.55,), 50), ALL: Curve((0.5,), (0.9,), 50)})
    spaces = [e for e in decide(doc, [], 0.7, by_kind, DecideSettings()) if e.kind == "tokenization"]
    assert spaces and all(e.confidence == 0.55 and not e.applied for e in spaces)
    assert all(features(e).source == "rule" and features(e).raw > 0.9 for e in spaces)


def test_every_edit_rejected_by_calibration_gives_the_input_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged_text: str
) -> None:
    path = tmp_path / "low.json"
    path.write_text(flat(0.05).to_json(), encoding="utf-8")
    monkeypatch.setenv("REPAIR_CALIBRATION", str(path))
    settings = default_settings()
    mapped = replace(settings, decide=replace(settings.decide, decisions={}))  # content edits through the map too
    result = repair_text(damaged_text, [], None, settings=mapped)
    assert result.edits and not any(e.applied for e in result.edits)
    assert result.output == damaged_text
