"""`repair bench --stories`: many real stories, one version damaged per story, split into fit and held-out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repair.bench.stories import SHARED, damaged_version, load_stories, split_of, story_cases
from repair.cli import app

VERSIONS = {
    "a.txt": "Mayor Ann Okafor said on Monday that the city of Brill will build a bridge. Okafor said it costs $4m.",
    "b.txt": "The city of Brill plans a bridge, Mayor Okafor said. She said the bridge would cost $4m and open soon.",
    "c.txt": "Brill will get its bridge. Okafor, the mayor, said the works begin in May and cost the city $4m.",
}


@pytest.fixture()
def stories(tmp_path: Path) -> Path:
    """Twelve made-up stories of three versions each (the real ones are read from ../shared only)."""
    root = tmp_path / "stories"
    for k in range(12):
        sub = root / f"story-{k:02d}"
        sub.mkdir(parents=True)
        for name, text in VERSIONS.items():
            (sub / name).write_text(text.replace("Brill", f"Brill{k}"), encoding="utf-8")
    return root


def test_the_split_is_fixed_by_the_name_and_both_halves_are_used(stories: Path) -> None:
    fit, held = load_stories(stories, "fit"), load_stories(stories, "held-out")
    assert fit and held and not {s.name for s in fit} & {s.name for s in held}
    assert len(fit) + len(held) == len(load_stories(stories, "all")) == 12
    assert all(split_of(s.name) == "held-out" for s in held)
    assert [s.name for s in load_stories(stories, "held-out", 2)] == [s.name for s in held[:2]]


def test_each_story_gives_a_damaged_case_with_the_other_versions_as_references_and_a_clean_one(
    stories: Path,
) -> None:
    every = load_stories(stories, "all")
    cases = story_cases(every)
    assert len(cases) == 2 * len(every)
    damaged, clean = cases[0], cases[1]
    assert not damaged.clean and clean.clean and damaged.gold == clean.input
    assert len(damaged.refs) == 2 and damaged.gold not in {t for _, t in damaged.refs}
    assert damaged.answers and damaged.input != damaged.gold
    assert story_cases(every) == cases  # the same damage on every run
    assert len({damaged_version(s) for s in every}) > 1  # the damaged outlet rotates across stories
    assert all(not c.refs for c in story_cases(every, refs=False))


def test_the_command_runs_the_held_out_stories_and_shows_the_loss_view(stories: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["bench", "--stories", str(stories), "--quick", "--no-model", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "where the damage is lost" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert "(held-out, quick: " in doc["settings"]["cases"]
    assert "loss.all.fixed" in doc["metrics"] and doc["cloze"]["loss"]["all"]["spans"] > 0
    m = doc["metrics"]  # the spread across stories, beside the pooled figure
    assert m["cases.f05.p25"] <= m["cases.f05.median"] <= m["cases.f05.p75"]
    assert m["correction.overall.f05.low"] <= m["correction.overall.f05"] <= m["correction.overall.f05.high"]
    assert "per damaged case: quartiles" in result.output
    bad = CliRunner().invoke(app, ["bench", "--stories", str(stories), "--split", "some", "--no-model"])
    assert bad.exit_code == 2 and "unknown --split some" in bad.output


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared real stories are not beside this checkout")
def test_the_shared_stories_split_about_in_half() -> None:
    every = load_stories(SHARED, "all")
    held = load_stories(SHARED, "held-out")
    assert len(every) >= 50 and 0.35 < len(held) / len(every) < 0.65
