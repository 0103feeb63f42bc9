"""Big inputs and corpora (issue 17): the fast path without the model, and a run that says how long it takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import repair.chunks
import repair.cli


def no_loading(spec: str | None) -> None:
    raise AssertionError("the model was loaded")


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_fix_without_the_model_repairs_the_surface_and_never_loads_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damaged_text: str, streamed: bool
) -> None:
    monkeypatch.setattr(repair.cli, "load_lm", no_loading)
    if streamed:
        monkeypatch.setattr(repair.chunks, "BIG_INPUT_BYTES", 0)
        monkeypatch.setattr(repair.chunks, "DEFAULT_CHUNK_CHARS", 2_000)
    src = tmp_path / "story.txt"
    src.write_text(damaged_text, encoding="utf-8")
    run = CliRunner().invoke(repair.cli.app, ["fix", str(src), "--no-model"])
    assert run.exit_code == 0, run.stderr
    out = (tmp_path / "story.repaired.txt").read_text(encoding="utf-8")
    assert "U.S. Secretary of State" in out
    assert json.loads((tmp_path / "story.edits.json").read_text(encoding="utf-8"))["model"] == ""
    assert "with the language model this takes" not in run.stderr


def test_fix_with_model_and_no_model_is_refused(tmp_path: Path, damaged_text: str) -> None:
    src = tmp_path / "story.txt"
    src.write_text(damaged_text, encoding="utf-8")
    run = CliRunner().invoke(repair.cli.app, ["fix", str(src), "--no-model", "--model", "smollm2"])
    assert run.exit_code == 2
    assert "--no-model" in run.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_a_long_input_says_how_long_the_model_takes_and_how_to_go_faster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damaged_text: str, streamed: bool
) -> None:
    monkeypatch.setattr(repair.cli, "load_lm", lambda spec: None)
    if streamed:
        monkeypatch.setattr(repair.chunks, "BIG_INPUT_BYTES", 0)
    src = tmp_path / "long.txt"
    src.write_text("\n\n".join([damaged_text] * 4), encoding="utf-8")
    run = CliRunner().invoke(repair.cli.app, ["fix", str(src)])
    assert run.exit_code == 0, run.stderr
    note = " ".join(run.stderr.split())
    assert "with the language model this takes about" in note and "--no-model" in note


def test_batch_without_the_model_never_loads_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import repair.lm

    monkeypatch.setattr(repair.lm, "load_model", no_loading)
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"d{i}.txt").write_text(f"The U. S. said on day {i} it would act , officials said .\n")
    out = tmp_path / "out"
    run = CliRunner().invoke(repair.cli.app, ["batch", str(folder), "--out", str(out), "--no-model"])
    assert run.exit_code == 0, run.stderr
    assert (out / "d1.repaired.txt").read_text(encoding="utf-8").startswith("The U.S. said")
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["settings"]["model"] == "none"
