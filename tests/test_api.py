"""For the people who use repair from Python: the README's example, the batch function, the version, the cache."""

from __future__ import annotations

import json
import pickle
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import repair
from repair.cli import app
from repair.corpus import repairer
from repair.files.schema import validate_edits
from repair.lm import ModelError
from repair.lm.cache import cache_entries
from repair.lm.load import DEFAULT_NAME

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_python() -> str:
    """The README's Python example: its one ```python block."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) == 1, "the README has one Python example; this test runs it"
    return str(blocks[0])


# ---------------------------------------------------------------- the README's example


def test_the_readme_example_runs_without_the_model(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """As written, but with load_model giving no model (the references and the rules still repair)."""
    monkeypatch.setattr(repair, "load_model", lambda *args, **kwargs: None)
    exec(compile(readme_python(), "README.md", "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out
    assert "Russia can maintain its alliance with Assad, the minister said on Tuesday." in printed
    assert "Lavrov met Tillerson in Moscow, where the U.S. envoy said talks would go on." in printed
    assert "'Russia' -> 'its' substitution" in printed


@pytest.mark.model
def test_the_readme_example_runs_as_written(capsys: Any) -> None:
    exec(compile(readme_python(), "README.md", "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "Russia can maintain its alliance with Assad, the minister said on Tuesday."
    assert printed[-1].startswith("Lavrov met Tillerson in Moscow, where the U.S. envoy said talks would go on.")
    assert "duplicate" in printed[-1]


def test_the_api_names_are_exported() -> None:
    for name in ("repair_text", "load_model", "Repairer", "Edit", "Result", "apply_edits"):
        assert name in repair.__all__ and hasattr(repair, name)


# ---------------------------------------------------------------- the batch function (datasets.map)

TEXTS = ["Assad Assad must go , he said .", "Nothing is wrong here.", "Lavrov met Tillerson Tillerson ."]


def test_a_batch_gives_repaired_texts_and_edit_lists() -> None:
    out = repair.Repairer(no_model=True)({"text": TEXTS, "other": [1, 2, 3]})
    assert set(out) == {"repaired", "edits"}
    assert out["repaired"] == [repair.repair_text(t).output for t in TEXTS]
    assert out["repaired"][1] == TEXTS[1] and json.loads(out["edits"][1]) == []
    for edits in out["edits"]:
        validate_edits(json.loads(edits))


class Model:
    """A stand-in for a loaded model: the tests below only count loads and pickle it."""

    name = "stand-in"


def test_the_model_is_loaded_once_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str | None] = []
    monkeypatch.setattr(repairer, "load_model", lambda spec: loads.append(spec) or Model())
    fix = repair.Repairer("smollm2")
    assert loads == []  # made cheaply: nothing loads until the first batch
    for _ in range(3):
        assert isinstance(fix.lm, Model)
    assert loads == ["smollm2"]


def test_a_pickled_repairer_leaves_its_own_model_behind_and_keeps_a_given_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repairer, "load_model", lambda spec: Model())
    own = repair.Repairer()
    assert own.lm is not None
    assert pickle.loads(pickle.dumps(own))._lm is None  # each process of map(num_proc=N) loads its own, once
    given = repair.Repairer(lm=Model())  # type: ignore[arg-type]
    assert isinstance(pickle.loads(pickle.dumps(given))._lm, Model)


def test_nulls_named_columns_and_references() -> None:
    fix = repair.Repairer(no_model=True, text_column="body", refs_column="refs")
    refs = [["Russia can maintain its alliance with Assad, the minister said."], None]
    one = fix({"body": ["Russia can maintain Russia alliance with Assad , the minister said ."], "refs": [refs[0][0]]})
    out = fix({"body": ["Russia can maintain Russia alliance with Assad , the minister said .", None], "refs": refs})
    assert out["repaired"] == ["Russia can maintain its alliance with Assad, the minister said.", None]
    assert out["edits"][1] is None
    sources = {ev["source"] for e in json.loads(out["edits"][0]) for ev in e["evidence"]}
    assert "ref:refs[0]" in sources
    assert one["repaired"] == out["repaired"][:1]  # a row's one reference as a string, not a list of it


def test_wrong_arguments_are_told_at_once() -> None:
    with pytest.raises(ValueError, match="one of them"):
        repair.Repairer("smollm2", no_model=True)
    with pytest.raises(ModelError):
        repair.Repairer("./no/such/model/folder")


def test_with_hugging_face_datasets_if_installed() -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"text": TEXTS * 3})
    mapped = ds.map(repair.Repairer(no_model=True), batched=True, batch_size=2)
    assert mapped.column_names == ["text", "repaired", "edits"]
    assert mapped["repaired"][:3] == repair.Repairer(no_model=True)({"text": TEXTS})["repaired"]


# ---------------------------------------------------------------- --version


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"repair {repair.__version__}\n"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == repair.__version__


# ---------------------------------------------------------------- repair cache


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    models = tmp_path / "repair" / "models"
    (models / DEFAULT_NAME).mkdir(parents=True)
    (models / DEFAULT_NAME / "model.safetensors").write_bytes(b"\0" * 2_500_000)
    (models / DEFAULT_NAME / "config.json").write_bytes(b"{}" * 500)
    (models / f".{DEFAULT_NAME}.x1y2").mkdir()  # what an interrupted conversion leaves
    (models / f".{DEFAULT_NAME}.x1y2" / "model.safetensors").write_bytes(b"\0" * 4096)
    return models


def test_cache_says_where_and_how_big(cache_home: Path) -> None:
    result = CliRunner().invoke(app, ["cache"])
    assert result.exit_code == 0
    leftover = f".{DEFAULT_NAME}.x1y2"
    w = len(leftover)
    assert result.output.splitlines() == [
        str(cache_home),
        f"  {leftover}      4.1 kB  (left by an interrupted conversion)",
        f"  {DEFAULT_NAME:<{w}}      2.5 MB",
        f"  {'total':<{w}}      2.5 MB",
    ]


def test_cache_clear_says_what_it_removed(cache_home: Path) -> None:
    result = CliRunner().invoke(app, ["cache", "--clear"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"removed {cache_home / f'.{DEFAULT_NAME}.x1y2'} (4.1 kB)",
        f"removed {cache_home / DEFAULT_NAME} (2.5 MB)",
        f"freed 2.5 MB in {cache_home}",
    ]
    assert cache_home.is_dir() and not list(cache_home.iterdir())
    again = CliRunner().invoke(app, ["cache", "--clear"])
    assert again.output == f"{cache_home}: empty, nothing removed\n"
    assert CliRunner().invoke(app, ["cache"]).output == f"{cache_home}: empty (the first run with the model fills it)\n"


def test_cache_never_follows_a_link_out_of_it(cache_home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine", encoding="utf-8")
    (cache_home / "link").symlink_to(elsewhere)
    CliRunner().invoke(app, ["cache", "--clear"])
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert not (cache_home / "link").exists()


@pytest.mark.model
def test_the_readme_says_the_size_of_the_converted_model(default_lm: Any) -> None:
    """The real conversion (the default_lm fixture makes sure it is in the cache) against the README's figure."""
    size = next(e.size for e in cache_entries() if e.path.name == DEFAULT_NAME)
    assert f"{round(size / 1e6)} MB on disk, {round(size / 2**20)} MiB" in README
