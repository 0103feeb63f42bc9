"""Calibration maps: fitted on judged edits, monotone, honest about small groups, and saved safely."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repair.files.textio import InputError
from repair.stages.calibrate import (
    ALL,
    CalibrationMap,
    Curve,
    Features,
    Observation,
    default_map,
    ece,
    fit,
)


def obs(kind: str, source: str, raw: float, correct: bool) -> Observation:
    return Observation(Features(kind, source, raw), correct)


def overconfident_model_edits() -> list[Observation]:
    """Model substitutions: at raw 0.95 half are right, at raw 0.75 a fifth."""
    out = [obs("substitution", "model", 0.95, i % 2 == 0) for i in range(60)]
    out += [obs("substitution", "model", 0.75, i % 5 == 0) for i in range(60)]
    out += [obs("tokenization", "rule", 0.97, i % 20 != 0) for i in range(200)]
    return out


def test_an_overconfident_group_is_brought_down_to_its_share_right() -> None:
    cmap = fit(overconfident_model_edits())
    high, group = cmap.calibrate("substitution", "model", 0.95)
    low, _ = cmap.calibrate("substitution", "model", 0.75)
    assert group == "substitution/model"
    assert 0.4 < high < 0.6 and 0.15 < low < 0.3
    sure, _ = cmap.calibrate("tokenization", "rule", 0.97)
    assert sure > 0.9  # the rules that are right 95% of the time keep clearing the 0.7 threshold


def test_a_small_group_falls_back_to_its_kind_then_to_content_edits_then_to_all() -> None:
    data = overconfident_model_edits() + [obs("substitution", "pronoun", 0.9, True) for _ in range(3)]
    cmap = fit(data)
    assert cmap.group("substitution", "pronoun") == "substitution"
    assert cmap.group("gap", "model") == "content/model"  # a content edit never borrows the rules' curve
    assert cmap.group("gap", "delete") == "content"
    assert cmap.group("tokenization", "model") == "tokenization"
    assert CalibrationMap().calibrate("gap", "model", 0.83) == (0.83, None)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["gap", "substitution", "tokenization"]),
            st.sampled_from(["model", "rule"]),
            st.floats(0.0, 1.0),
            st.booleans(),
        ),
        max_size=300,
    )
)
def test_every_fitted_curve_is_monotone(rows: list[tuple[str, str, float, bool]]) -> None:
    cmap = fit(obs(*r) for r in rows)
    grid = [i / 50 for i in range(51)]
    for curve in cmap.curves.values():
        values = [curve(x) for x in grid]
        assert values == sorted(values)
        assert all(0.0 <= v <= 1.0 for v in values)


def test_a_map_survives_json_and_a_broken_one_is_refused() -> None:
    cmap = fit(overconfident_model_edits(), {"fitted_on": ["test"]})
    again = CalibrationMap.from_json(cmap.to_json())
    assert again.calibrate("substitution", "model", 0.9) == cmap.calibrate("substitution", "model", 0.9)
    assert again.info["fitted_on"] == ["test"]
    falling = CalibrationMap({ALL: Curve((0.2, 0.8), (0.9, 0.1), 10)}).to_json()
    with pytest.raises(InputError, match="not monotone"):
        CalibrationMap.from_json(falling)
    with pytest.raises(InputError, match="not a calibration map"):
        CalibrationMap.from_json('{"groups": 3}')


def test_the_environment_picks_another_map_or_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "map.json"
    path.write_text(CalibrationMap({ALL: Curve((0.5,), (0.25,), 10)}).to_json(), encoding="utf-8")
    monkeypatch.setenv("REPAIR_CALIBRATION", str(path))
    assert default_map().calibrate("gap", "model", 0.99) == (0.25, ALL)
    monkeypatch.setenv("REPAIR_CALIBRATION", "none")
    assert default_map().calibrate("gap", "model", 0.99) == (0.99, None)
    monkeypatch.setenv("REPAIR_CALIBRATION", str(tmp_path / "missing.json"))
    with pytest.raises(InputError, match="not found"):
        default_map()


def test_the_shipped_map_is_monotone_and_keeps_sure_rules() -> None:
    cmap = default_map()
    for curve in cmap.curves.values():
        assert list(curve.ys) == sorted(curve.ys)
    # the plainest tokenization fix (a space before a comma, raw 0.97) must stay applied at the default threshold
    assert cmap.calibrate("tokenization", "rule", 0.97)[0] >= 0.7


def test_calibration_error_is_zero_when_confidence_matches_the_share_right() -> None:
    rows = [(0.8, i % 5 != 0) for i in range(100)] + [(0.3, i % 10 < 3) for i in range(100)]
    assert ece(rows) == pytest.approx(0.0)
    assert ece([(1.0, False)] * 4) == 1.0


def test_a_kind_the_benchmark_never_damaged_keeps_its_raw_confidence() -> None:
    # a clean text's own mojibake stays in its gold, so fixing it can never count as right
    data = overconfident_model_edits() + [obs("mojibake", "rule", 0.95, False) for _ in range(40)]
    cmap = fit(data, judged_kinds={"substitution", "tokenization"})
    assert cmap.calibrate("mojibake", "rule", 0.95) == (0.95, None)
    assert cmap.raw_kinds == ("mojibake",)
    assert CalibrationMap.from_json(cmap.to_json()).raw_kinds == ("mojibake",)
    assert cmap.calibrate("substitution", "model", 0.95)[0] < 0.6


def test_every_candidate_source_but_keep_has_its_calibration_name() -> None:
    from repair.edits import SOURCES
    from repair.stages.calibrate import SOURCE_NAMES

    assert set(SOURCE_NAMES) == set(SOURCES) - {"keep"}
