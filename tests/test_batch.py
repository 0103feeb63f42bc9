"""Corpus mode: every document repaired once, bad ones skipped with a reason, resumable, deterministic."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.corpus.batch import STATE_DIR, recover_jsonl, run_batch
from repair.corpus.runners import no_model
from repair.edits import Edit, Evidence, apply_edits
from repair.files.editlist import load_edits
from repair.files.textio import InputError
from repair.lm import ModelError
from repair.pipeline import Result

DOUBLED = re.compile(r"\b(\w+) (?=\1\b)")
asked: list[str] = []  # texts the fake pipeline was asked to repair, in order


def fake_repair(text: str, refs: Sequence[tuple[str, str]], lm: Any, *, min_confidence: float = 0.5) -> Result:
    """A stand-in pipeline: drops doubled words, crashes on the word CRASH, records each call."""
    asked.append(text)
    if "CRASH" in text:
        raise ValueError("the aligner fell over")
    evidence = tuple(Evidence(f"ref:{name}") for name, _ in refs)
    # a doubled name is dropped; a doubled common word is only reported (held back)
    edits = tuple(
        Edit(m.start(), m.end(), m.group(), "", "duplicate", 0.9, evidence, applied=m.group(1).istitle())
        for m in DOUBLED.finditer(text)
    )
    return Result(text, apply_edits(text, edits), edits, None, None)  # type: ignore[arg-type]


class Interrupt:
    """A pipeline that is 'killed' (KeyboardInterrupt) when asked for its n-th document."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, text: str, refs: Sequence[tuple[str, str]], lm: Any, *, min_confidence: float = 0.5) -> Result:
        if len(asked) + 1 == self.n:
            raise KeyboardInterrupt
        return fake_repair(text, refs, lm, min_confidence=min_confidence)


def dying_repair(text: str, refs: Sequence[tuple[str, str]], lm: Any, *, min_confidence: float = 0.5) -> Result:
    """A pipeline whose process dies outright (as on a segfault or the OOM killer) on the word DIE."""
    if "DIE" in text:
        os._exit(3)
    return fake_repair(text, refs, lm, min_confidence=min_confidence)


def broken_model() -> None:
    raise ModelError("the model cannot be found here")


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    asked.clear()


GOOD = {
    "alpha.txt": "Assad Assad must go, the the secretary said on Tuesday in Lucca.",
    "beta.txt": "Moscow Moscow talks were tense; Lavrov met Tillerson for two hours.",
    "gamma.txt": "Nothing is doubled in this short note about the weather in Lucca.",
}


def make_folder(root: Path, with_bad: bool = True) -> Path:
    folder = root / "in"
    folder.mkdir()
    for name, text in GOOD.items():
        (folder / name).write_text(text, encoding="utf-8")
    if with_bad:
        (folder / "image.bin").write_bytes(b"\x89PNG\x00\x00\x01")
        (folder / "empty.txt").write_text("  \n", encoding="utf-8")
        (folder / "latin1.txt").write_bytes("café crème".encode("latin-1"))
        (folder / "crash.txt").write_text("This one makes the pipeline CRASH badly.", encoding="utf-8")
    return folder


def make_jsonl(root: Path) -> Path:
    lines = [
        json.dumps({"id": "a", "text": GOOD["alpha.txt"]}),
        "{not json",
        json.dumps({"id": 2, "text": GOOD["beta.txt"]}),
        json.dumps({"id": "empty", "text": "   "}),
        json.dumps({"id": "a", "text": "a second document with the id of the first"}),
        json.dumps({"text": "no id at all"}),
        json.dumps({"id": "c", "text": GOOD["gamma.txt"]}),
        json.dumps({"id": "boom", "text": "It will CRASH here."}),
    ]
    path = root / "corpus.jsonl"
    data = "\n".join(lines).encode("utf-8") + b"\n" + b'{"id": "bytes", "text": "caf\xe9"}\n'
    path.write_bytes(data)
    return path


def read_summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def outputs(out: Path) -> dict[str, str]:
    """Every output file but the resume bookkeeping, by name."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir()) if p.is_file()}


def test_folder_gives_repaired_text_and_edit_list_per_document(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    out = tmp_path / "out"
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    assert (out / "alpha.repaired.txt").read_text(encoding="utf-8") == (
        "Assad must go, the the secretary said on Tuesday in Lucca."
    )
    assert (out / "gamma.repaired.txt").read_text(encoding="utf-8") == GOOD["gamma.txt"]
    _, edits = load_edits((out / "alpha.edits.json").read_text(encoding="utf-8"), GOOD["alpha.txt"])
    assert [(e.before, e.applied) for e in edits] == [("Assad ", True), ("the ", False)]
    assert not (out / "crash.repaired.txt").exists() and not (out / "image.repaired.txt").exists()


def test_bad_documents_are_skipped_and_listed_with_the_reason(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_batch(make_folder(tmp_path), out, lm_factory=no_model, repair=fake_repair)
    assert summary.repaired == 3
    reasons = {d["id"]: d["reason"] for d in read_summary(out)["skipped_documents"]}
    assert set(reasons) == {"image.bin", "empty.txt", "latin1.txt", "crash.txt"}
    assert "binary" in reasons["image.bin"]
    assert "empty" in reasons["empty.txt"]
    assert "not UTF-8" in reasons["latin1.txt"]
    assert "the aligner fell over" in reasons["crash.txt"]


def test_summary_counts_edits_by_kind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch(make_folder(tmp_path), out, lm_factory=no_model, repair=fake_repair)
    summary = read_summary(out)
    assert summary["edits"] == {"duplicate": {"applied": 2, "not_applied": 1}}
    assert (summary["documents"], summary["repaired"], summary["changed"], summary["skipped"]) == (7, 3, 2, 4)


def test_jsonl_gives_lines_in_input_order_and_skips_bad_lines(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch(make_jsonl(tmp_path), out, lm_factory=no_model, repair=fake_repair)
    rows = recover_jsonl(out / "repaired.jsonl")
    assert [r["id"] for r in rows] == ["a", 2, "c"]
    assert rows[1]["text"] == "Moscow talks were tense; Lavrov met Tillerson for two hours."
    assert apply_edits(GOOD["alpha.txt"], [Edit.from_json(e) for e in rows[0]["edits"]]) == rows[0]["text"]
    reasons = [(d["id"], d["reason"]) for d in read_summary(out)["skipped_documents"]]
    assert [i for i, _ in reasons] == ["line 2", "empty", "line 5", "line 6", "boom", "line 9"]
    assert "duplicate id (first on line 1)" in dict(reasons)["line 5"]
    assert "not UTF-8" in dict(reasons)["line 9"]


def test_interrupted_folder_run_resumes_without_redoing_finished_documents(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, with_bad=False)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch(folder, out, lm_factory=no_model, repair=Interrupt(2))
    assert (out / "alpha.repaired.txt").exists() and not (out / "beta.repaired.txt").exists()
    finished = (out / "alpha.repaired.txt").stat().st_mtime_ns
    asked.clear()
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    assert asked == [GOOD["beta.txt"], GOOD["gamma.txt"]]
    assert (out / "alpha.repaired.txt").stat().st_mtime_ns == finished
    fresh = tmp_path / "fresh"
    run_batch(folder, fresh, lm_factory=no_model, repair=fake_repair)
    assert outputs(out) == outputs(fresh)


def test_a_finished_corpus_is_not_repaired_again(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    out = tmp_path / "out"
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    asked.clear()
    summary = run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    assert asked == []  # the crashing document too: it is reported, not retried
    assert summary.repaired == 3 and len(summary.skipped) == 4


def test_a_document_changed_since_is_repaired_again(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, with_bad=False)
    out = tmp_path / "out"
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    (folder / "gamma.txt").write_text("Now it is is doubled.", encoding="utf-8")
    asked.clear()
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    assert asked == ["Now it is is doubled."]


def test_a_deleted_output_is_written_again(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, with_bad=False)
    out = tmp_path / "out"
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    (out / "beta.repaired.txt").unlink()
    asked.clear()
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    assert asked == [GOOD["beta.txt"]]
    assert (out / "beta.repaired.txt").exists()


def test_interrupted_jsonl_run_resumes_after_a_half_written_line(tmp_path: Path) -> None:
    corpus = make_jsonl(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch(corpus, out, lm_factory=no_model, repair=Interrupt(3))
    with (out / "repaired.jsonl").open("ab") as fh:  # killed in the middle of writing a line
        fh.write(b'{"id": "c", "text": "Nothing is dou')
    asked.clear()
    run_batch(corpus, out, lm_factory=no_model, repair=fake_repair)
    assert asked == [GOOD["gamma.txt"], "It will CRASH here."]
    fresh = tmp_path / "fresh"
    run_batch(corpus, fresh, lm_factory=no_model, repair=fake_repair)
    assert outputs(out) == outputs(fresh)


def test_rerun_with_other_settings_is_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, with_bad=False)
    out = tmp_path / "out"
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair, min_confidence=0.5)
    with pytest.raises(InputError, match="min_confidence"):
        run_batch(folder, out, lm_factory=no_model, repair=fake_repair, min_confidence=0.7)


def test_references_are_the_other_copies_of_the_story(tmp_path: Path, example_dir: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(example_dir, folder)
    for name, text in GOOD.items():
        (folder / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    run_batch(folder, out, lm_factory=no_model, repair=fake_repair)
    seeds = sorted(p.name for p in example_dir.glob("*.txt"))
    for seed in seeds:
        doc = json.loads((out / seed.replace(".txt", ".edits.json")).read_text(encoding="utf-8"))
        assert sorted(Path(r).name for r in doc["references"]) == [s for s in seeds if s != seed]
    assert json.loads((out / "gamma.edits.json").read_text(encoding="utf-8"))["references"] == []


def test_a_reference_pool_is_searched_instead_of_the_corpus(tmp_path: Path, example_dir: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    damaged = next(example_dir.glob("000_*.txt"))
    shutil.copy(damaged, folder)
    (folder / "gamma.txt").write_text(GOOD["gamma.txt"], encoding="utf-8")
    pool = tmp_path / "refs"
    pool.mkdir()
    for p in example_dir.glob("00[1-4]_*.txt"):
        shutil.copy(p, pool)
    (pool / "bread.txt").write_text("Whisk the flour, salt and yeast; leave the dough to rise.", encoding="utf-8")
    (pool / "bad.txt").write_bytes(b"\xff\xfe")
    out = tmp_path / "out"
    summary = run_batch(folder, out, refs_path=pool, lm_factory=no_model, repair=fake_repair)
    doc = json.loads((out / damaged.name.replace(".txt", ".edits.json")).read_text(encoding="utf-8"))
    assert sorted(Path(r).name for r in doc["references"]) == sorted(p.name for p in example_dir.glob("00[1-4]_*"))
    assert [i for i, _ in summary.skipped_references] == ["bad.txt"]


def test_output_does_not_depend_on_workers_or_where_they_run(tmp_path: Path, example_dir: Path) -> None:
    """The real pipeline (no model) in one process, two processes, and a Dask cluster of two."""
    pytest.importorskip("distributed")
    from repair.corpus.cluster import dask_runner

    folder = tmp_path / "in"
    shutil.copytree(example_dir, folder)
    (folder / "gamma.txt").write_text(GOOD["alpha.txt"], encoding="utf-8")
    one, two, dask = tmp_path / "one", tmp_path / "two", tmp_path / "dask"
    run_batch(folder, one, lm_factory=no_model)
    run_batch(folder, two, workers=2, lm_factory=no_model)
    with dask_runner(local_workers=2, lm_factory=no_model) as runner:
        run_batch(folder, dask, runner=runner)
    assert outputs(one) == outputs(two) == outputs(dask)
    assert len(outputs(one)) == 2 * 6 + 1
    assert outputs(one)["gamma.repaired.txt"] != GOOD["alpha.txt"]  # something was repaired


def test_a_document_that_kills_its_worker_process_is_skipped(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, with_bad=False)
    (folder / "deadly.txt").write_text("The parser will DIE on this one.", encoding="utf-8")
    out = tmp_path / "out"
    summary = run_batch(folder, out, workers=2, lm_factory=no_model, repair=dying_repair)
    assert summary.repaired == 3
    assert [i for i, _ in summary.skipped] == ["deadly.txt"]
    assert "died" in summary.skipped[0][1]


def test_a_model_that_cannot_load_stops_the_run_and_blames_no_document(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, with_bad=False)
    out = tmp_path / "out"
    with pytest.raises(ModelError, match="cannot be found"):
        run_batch(folder, out, workers=2, lm_factory=broken_model, repair=fake_repair)
    summary = run_batch(folder, out, workers=1, lm_factory=no_model, repair=fake_repair)
    assert summary.repaired == 3


def test_a_running_dask_scheduler_can_be_given_by_address(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from repair.corpus.cluster import dask_runner

    folder = make_folder(tmp_path)
    local, remote = tmp_path / "local", tmp_path / "remote"
    run_batch(folder, local, lm_factory=no_model, repair=fake_repair)
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        dask_runner(scheduler=cluster.scheduler_address, lm_factory=no_model, repair=fake_repair) as runner,
    ):
        run_batch(folder, remote, runner=runner)
    assert outputs(local) == outputs(remote)


def test_cluster_without_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from repair.corpus.cluster import dask_runner

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InputError, match=re.escape("pip install repair[cluster]")), dask_runner(local_workers=2):
        pass


def test_the_state_folder_is_hidden_in_the_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch(make_folder(tmp_path, with_bad=False), out, lm_factory=no_model, repair=fake_repair)
    assert (out / STATE_DIR).is_dir() and STATE_DIR.startswith(".")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["batch", "no-such-folder", "--out", "OUT"], "input not found"),
        (["batch", "IN", "--out", "IN"], "must not be the input folder"),
        (["batch", "IN", "--out", "OUT", "--cluster", "remote:x"], "--cluster takes local:N"),
    ],
)
def test_cli_user_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    make_folder(tmp_path, with_bad=False)
    argv = [a.replace("IN", str(tmp_path / "in")).replace("OUT", str(tmp_path / "out")) for a in args]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
