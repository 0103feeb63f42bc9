"""The settings in force: every stage's numbers in one object, read from repair/data/ over the defaults, printable
and readable back, and handed to the stages (a run with other settings does otherwise)."""

from __future__ import annotations

import json
import shutil
from dataclasses import fields, is_dataclass, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.files.textio import InputError
from repair.pipeline import repair_text
from repair.stages.settings import DATA, Settings, default_settings, load_settings

TEXT = "Tillerson said Russia can keep Russia alliance with Syria, and the the envoys    agreed."


def test_settings_round_trip_through_json() -> None:
    settings = default_settings()
    again = Settings.from_json(json.loads(json.dumps(settings.to_json())))
    assert again == settings


def test_every_stage_has_its_settings_and_every_number_a_name() -> None:
    settings = default_settings()
    for f in fields(settings):
        stage = getattr(settings, f.name)
        assert is_dataclass(stage) and type(stage).__dataclass_params__.frozen, f.name  # type: ignore[attr-defined]


def test_the_detectors_fitted_models_come_from_the_data_file(tmp_path: Path) -> None:
    shutil.copytree(DATA, tmp_path / "data")
    path = tmp_path / "data" / "detect.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    key = "name/lm"
    assert default_settings().detect.pastes[key].bias == data["pastes"][key]["bias"]
    data["pastes"][key]["bias"] = -3.0
    path.write_text(json.dumps(data), encoding="utf-8")
    changed = load_settings(tmp_path / "data")
    assert changed.detect.pastes[key].bias == -3.0
    assert changed.detect.pastes[key].weights == default_settings().detect.pastes[key].weights
    assert replace(changed, detect=default_settings().detect) == default_settings()


def test_without_the_fitted_models_loading_says_so(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with pytest.raises(InputError, match="pastes"):
        load_settings(tmp_path / "data")


def test_an_extra_file_changes_only_what_it_names(tmp_path: Path) -> None:
    extra = tmp_path / "variant.json"
    extra.write_text(json.dumps({"propose": {"drafts": 12, "source_priors": {"lm": 0.1}}}), encoding="utf-8")
    settings = load_settings(DATA, extra)
    assert settings.propose.drafts == 12 and settings.propose.source_priors["lm"] == 0.1
    assert settings.propose.source_priors["ref"] == default_settings().propose.source_priors["ref"]
    assert replace(settings, propose=default_settings().propose) == default_settings()


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ({"detect": {"brk": 1}}, "unknown setting detect.brk"),
        ({"detect": {"repeat_prior": "high"}}, "detect.repeat_prior: expected float"),
        ({"propose": {"draft_lengths": 2}}, "propose.draft_lengths: expected a list"),
        ({"propose": {"source_priors": {"oracle": 1.0}}}, "unknown key oracle"),
        ({"normalize": {"chunk_chars": 1.5}}, "normalize.chunk_chars: expected int"),
    ],
)
def test_a_wrong_setting_is_named(tmp_path: Path, variant: dict[str, object], message: str) -> None:
    extra = tmp_path / "variant.json"
    extra.write_text(json.dumps(variant), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_settings(DATA, extra)


def test_fix_shows_the_settings_in_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown = CliRunner().invoke(app, ["fix", "--show-settings"])
    assert shown.exit_code == 0
    assert Settings.from_json(json.loads(shown.stdout)) == default_settings()
    extra = tmp_path / "variant.json"
    extra.write_text(json.dumps({"detect": {"repeat_prior": 0.65}}), encoding="utf-8")
    monkeypatch.setenv("REPAIR_SETTINGS", str(extra))
    varied = json.loads(CliRunner().invoke(app, ["fix", "--show-settings"]).stdout)
    assert varied["detect"]["repeat_prior"] == 0.65


def test_a_run_uses_the_settings_it_is_given() -> None:
    settings = default_settings()
    plain = repair_text(TEXT, [], None, settings=settings)
    assert max(len(p.candidates) for p in plain.proposals) > 1
    fewer = replace(settings, propose=replace(settings.propose, max_candidates=1))
    assert all(len(p.candidates) == 1 for p in repair_text(TEXT, [], None, settings=fewer).proposals)
    no_gaps = replace(settings, normalize=replace(settings.normalize, gap_long_run=0.0, gap_two_spaces=0.0))
    assert not [p for p in repair_text(TEXT, [], None, settings=no_gaps).proposals if p.suspect.kind == "gap"]
